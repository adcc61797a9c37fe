//! Checking a received delivery's two signatures against the `--secret` given to
//! `webhooks listen`, with a verdict per scheme that says what was wrong.

use axum::http::HeaderMap;
use webhooks_core::domain::signing::{verify_hmac_hex, verify_standard, HMAC_HEADER};

/// How far a Standard Webhooks `webhook-timestamp` may be from the receive time.
pub const TIMESTAMP_TOLERANCE_SECS: i64 = 5 * 60;

const STANDARD_HEADERS: [&str; 3] = ["webhook-id", "webhook-timestamp", "webhook-signature"];

/// `X-Authorization-HMAC-256`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HmacCheck {
    Verified,
    Mismatch,
    Missing,
}

/// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StandardCheck {
    /// A signature matched and the timestamp is within the tolerance; `age_secs` is
    /// how old it was on arrival (negative: ahead of this clock).
    Verified {
        age_secs: i64,
    },
    Mismatch,
    /// These headers were absent.
    Missing(Vec<&'static str>),
    /// `webhook-timestamp` is not unix seconds.
    BadTimestamp(String),
    /// A signature matched, but the timestamp is outside the tolerance (a replay, or a
    /// clock that is off).
    OutsideTolerance {
        age_secs: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub hmac: HmacCheck,
    pub standard: StandardCheck,
}

impl Verification {
    /// Checks both schemes of one request received at `now_unix` (seconds).
    pub fn check(secret: &str, headers: &HeaderMap, body: &[u8], now_unix: i64) -> Self {
        Self {
            hmac: check_hmac(secret, headers, body),
            standard: check_standard(secret, headers, body, now_unix),
        }
    }

    pub fn hmac_passed(&self) -> bool {
        self.hmac == HmacCheck::Verified
    }

    pub fn standard_passed(&self) -> bool {
        matches!(self.standard, StandardCheck::Verified { .. })
    }

    /// One line per scheme, `✔` or `✘` first.
    pub fn lines(&self) -> [String; 2] {
        let hmac = match self.hmac {
            HmacCheck::Verified => format!("✔ {HMAC_HEADER} verified"),
            HmacCheck::Mismatch => format!("✘ {HMAC_HEADER} does not match"),
            HmacCheck::Missing => format!("✘ {HMAC_HEADER} missing"),
        };
        let standard = match &self.standard {
            StandardCheck::Verified { age_secs } => {
                format!("✔ webhook-signature verified (webhook-timestamp {})", age(*age_secs))
            }
            StandardCheck::Mismatch => "✘ webhook-signature does not match".to_owned(),
            StandardCheck::Missing(names) => format!("✘ {} missing", names.join(", ")),
            StandardCheck::BadTimestamp(value) => {
                format!("✘ webhook-timestamp {value:?} is not unix seconds")
            }
            StandardCheck::OutsideTolerance { age_secs } => format!(
                "✘ webhook-timestamp is {}, outside the ±{TIMESTAMP_TOLERANCE_SECS} s tolerance (the signature itself matches)",
                age(*age_secs)
            ),
        };
        [hmac, standard]
    }
}

fn age(age_secs: i64) -> String {
    if age_secs >= 0 {
        format!("{age_secs} s old")
    } else {
        format!("{} s in the future", -age_secs)
    }
}

/// A header's text; a value that is not visible ASCII counts as present but unreadable.
fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|value| value.to_str().unwrap_or(""))
}

fn check_hmac(secret: &str, headers: &HeaderMap, body: &[u8]) -> HmacCheck {
    match header(headers, HMAC_HEADER) {
        None => HmacCheck::Missing,
        Some(value) if verify_hmac_hex(secret, body, value) => HmacCheck::Verified,
        Some(_) => HmacCheck::Mismatch,
    }
}

fn check_standard(secret: &str, headers: &HeaderMap, body: &[u8], now_unix: i64) -> StandardCheck {
    let missing: Vec<&'static str> = STANDARD_HEADERS
        .into_iter()
        .filter(|name| !headers.contains_key(*name))
        .collect();
    if !missing.is_empty() {
        return StandardCheck::Missing(missing);
    }
    let id = header(headers, "webhook-id").unwrap_or_default();
    let timestamp = header(headers, "webhook-timestamp").unwrap_or_default();
    let signature = header(headers, "webhook-signature").unwrap_or_default();
    let Ok(sent_at) = timestamp.trim().parse::<i64>() else {
        return StandardCheck::BadTimestamp(timestamp.to_owned());
    };
    if !verify_standard(secret, id, timestamp, body, signature) {
        return StandardCheck::Mismatch;
    }
    let age_secs = now_unix.saturating_sub(sent_at);
    if age_secs.abs() > TIMESTAMP_TOLERANCE_SECS {
        StandardCheck::OutsideTolerance { age_secs }
    } else {
        StandardCheck::Verified { age_secs }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use webhooks_core::domain::signing::{signature_headers, SigningSecrets};

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"report.publish_status"}"#;
    const SENT_AT: i64 = 1_700_000_000;

    fn signed(secret: &str) -> HeaderMap {
        let secrets = SigningSecrets {
            current: secret.to_owned(),
            previous: None,
        };
        let mut headers = HeaderMap::new();
        for (name, value) in signature_headers(&secrets, "dlv_1", SENT_AT, BODY) {
            headers.insert(name, HeaderValue::from_str(&value).unwrap());
        }
        headers
    }

    #[test]
    fn a_correctly_signed_fresh_delivery_passes_both() {
        let verification = Verification::check(SECRET, &signed(SECRET), BODY, SENT_AT + 3);
        assert_eq!(verification.hmac, HmacCheck::Verified);
        assert_eq!(
            verification.standard,
            StandardCheck::Verified { age_secs: 3 }
        );
        assert_eq!(
            verification.lines(),
            [
                "✔ X-Authorization-HMAC-256 verified".to_owned(),
                "✔ webhook-signature verified (webhook-timestamp 3 s old)".to_owned()
            ]
        );
    }

    #[test]
    fn another_secret_fails_both() {
        let verification =
            Verification::check(SECRET, &signed("some-other-secret-123"), BODY, SENT_AT);
        assert_eq!(verification.hmac, HmacCheck::Mismatch);
        assert_eq!(verification.standard, StandardCheck::Mismatch);
        assert_eq!(
            verification.lines()[1],
            "✘ webhook-signature does not match"
        );
    }

    #[test]
    fn a_tampered_body_fails_both() {
        let verification = Verification::check(SECRET, &signed(SECRET), b"{}", SENT_AT);
        assert!(!verification.hmac_passed());
        assert!(!verification.standard_passed());
    }

    #[test]
    fn an_old_timestamp_fails_even_when_the_signature_matches() {
        let verification = Verification::check(SECRET, &signed(SECRET), BODY, SENT_AT + 301);
        assert_eq!(
            verification.standard,
            StandardCheck::OutsideTolerance { age_secs: 301 }
        );
        assert!(verification.lines()[1].contains("301 s old, outside the ±300 s tolerance"));
        let ahead = Verification::check(SECRET, &signed(SECRET), BODY, SENT_AT - 301);
        assert_eq!(
            ahead.standard,
            StandardCheck::OutsideTolerance { age_secs: -301 }
        );
    }

    #[test]
    fn missing_headers_are_named() {
        let mut headers = signed(SECRET);
        headers.remove(HMAC_HEADER);
        headers.remove("webhook-timestamp");
        let verification = Verification::check(SECRET, &headers, BODY, SENT_AT);
        assert_eq!(verification.hmac, HmacCheck::Missing);
        assert_eq!(
            verification.standard,
            StandardCheck::Missing(vec!["webhook-timestamp"])
        );
        assert_eq!(
            verification.lines(),
            [
                "✘ X-Authorization-HMAC-256 missing".to_owned(),
                "✘ webhook-timestamp missing".to_owned()
            ]
        );
    }

    #[test]
    fn a_timestamp_that_is_not_a_number_is_reported() {
        let mut headers = signed(SECRET);
        headers.insert("webhook-timestamp", HeaderValue::from_static("yesterday"));
        let verification = Verification::check(SECRET, &headers, BODY, SENT_AT);
        assert_eq!(
            verification.standard,
            StandardCheck::BadTimestamp("yesterday".into())
        );
    }
}
