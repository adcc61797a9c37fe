//! The connection-test report: one line per check.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Pass,
    Warn,
    Fail,
    /// Could not run because an earlier check failed.
    Skipped,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckName {
    UrlValid,
    DnsResolves,
    AddressAllowed,
    Connects,
    NoRedirect,
    #[serde(rename = "status_200")]
    Status200,
    RespondsInTime,
    Signature,
}

impl CheckName {
    pub const ALL: [CheckName; 8] = [
        CheckName::UrlValid,
        CheckName::DnsResolves,
        CheckName::AddressAllowed,
        CheckName::Connects,
        CheckName::NoRedirect,
        CheckName::Status200,
        CheckName::RespondsInTime,
        CheckName::Signature,
    ];
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Check {
    pub check: CheckName,
    pub status: CheckStatus,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConnectionReport {
    /// True when no check failed.
    pub ok: bool,
    pub url: String,
    pub status_code: Option<u16>,
    pub elapsed_ms: Option<u64>,
    pub checks: Vec<Check>,
}

/// Collects checks in order; once one fails, the checks that depend on it are skipped.
pub(super) struct ReportBuilder {
    url: String,
    checks: Vec<Check>,
    pub status_code: Option<u16>,
    pub elapsed_ms: Option<u64>,
}

impl ReportBuilder {
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            checks: Vec::new(),
            status_code: None,
            elapsed_ms: None,
        }
    }

    pub fn add(&mut self, check: CheckName, status: CheckStatus, detail: impl Into<String>) {
        self.checks.push(Check {
            check,
            status,
            detail: detail.into(),
        });
    }

    pub fn pass(&mut self, check: CheckName, detail: impl Into<String>) {
        self.add(check, CheckStatus::Pass, detail);
    }

    pub fn fail(&mut self, check: CheckName, detail: impl Into<String>) {
        self.add(check, CheckStatus::Fail, detail);
    }

    /// Marks every check not yet reported as skipped, because of `reason`.
    pub fn skip_rest(&mut self, reason: &str) {
        for name in CheckName::ALL {
            if !self.checks.iter().any(|c| c.check == name) {
                self.add(name, CheckStatus::Skipped, format!("not run: {reason}"));
            }
        }
    }

    pub fn finish(mut self) -> ConnectionReport {
        self.checks
            .sort_by_key(|c| CheckName::ALL.iter().position(|n| *n == c.check));
        ConnectionReport {
            ok: self.checks.iter().all(|c| c.status != CheckStatus::Fail),
            url: self.url,
            status_code: self.status_code,
            elapsed_ms: self.elapsed_ms,
            checks: self.checks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_names_serialize_as_the_design_spells_them() {
        let names: Vec<String> = CheckName::ALL
            .iter()
            .map(|name| {
                serde_json::to_value(name)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            names,
            [
                "url_valid",
                "dns_resolves",
                "address_allowed",
                "connects",
                "no_redirect",
                "status_200",
                "responds_in_time",
                "signature"
            ]
        );
    }
}
