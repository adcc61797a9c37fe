//! Configuration from the environment, read once at start into typed values. A bad
//! or missing variable fails start-up with a message naming it.

use std::time::Duration;

use crate::outbound::{parse_allow_nets, OutboundPolicy};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {message}")]
pub struct ConfigError {
    pub name: &'static str,
    pub message: String,
}

impl ConfigError {
    pub fn new(name: &'static str, message: impl Into<String>) -> Self {
        Self {
            name,
            message: message.into(),
        }
    }
}

/// Where variables come from: the process environment, or a map in tests.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;

    /// A required, non-empty variable.
    fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.var(name)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| ConfigError::new(name, "is required but not set"))
    }
}

pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl<F: Fn(&str) -> Option<String>> Env for F {
    fn var(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// How long a receiver has to answer one delivery (or the connection test) unless
/// `DELIVERY_TIMEOUT_MS` says otherwise.
pub const DEFAULT_DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long delivery-log records are kept unless `LOG_RETENTION_DAYS` says otherwise.
pub const DEFAULT_LOG_RETENTION_DAYS: u64 = 30;
/// [`DEFAULT_LOG_RETENTION_DAYS`] as a duration.
pub const DEFAULT_LOG_RETENTION: Duration =
    Duration::from_secs(DEFAULT_LOG_RETENTION_DAYS * 24 * 3600);

/// The settings every delivering process shares (the delivery and test-connection
/// functions, `webhooks serve`).
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundConfig {
    /// `DELIVERY_TIMEOUT_MS`: 1000–30000, default 5000.
    pub timeout: Duration,
    /// `WEBHOOKS_ALLOW_NETS` and `WEBHOOKS_REQUIRE_HTTPS`.
    pub policy: OutboundPolicy,
}

/// Requests outstanding to one webhook in one process unless
/// `MAX_IN_FLIGHT_PER_WEBHOOK` says otherwise.
pub const DEFAULT_MAX_IN_FLIGHT_PER_WEBHOOK: usize = 8;

impl OutboundConfig {
    /// `default_allow_nets` applies when `WEBHOOKS_ALLOW_NETS` is unset: loopback for
    /// `webhooks serve`, nothing for the Lambda functions.
    pub fn from_env(env: &dyn Env, default_allow_nets: &str) -> Result<Self, ConfigError> {
        let default_ms = DEFAULT_DELIVERY_TIMEOUT.as_millis() as u64;
        let timeout_ms = number(env, "DELIVERY_TIMEOUT_MS", default_ms, 1000..=30_000)?;
        Ok(Self {
            timeout: Duration::from_millis(timeout_ms),
            policy: outbound_policy(env, default_allow_nets)?,
        })
    }
}

/// `MAX_IN_FLIGHT_PER_WEBHOOK`: 1–64, default 8. Requests outstanding to one webhook
/// from one delivering process; its other deliveries wait in the queue.
pub fn max_in_flight_per_webhook(env: &dyn Env) -> Result<usize, ConfigError> {
    let max = number(
        env,
        "MAX_IN_FLIGHT_PER_WEBHOOK",
        DEFAULT_MAX_IN_FLIGHT_PER_WEBHOOK as u64,
        1..=64,
    )?;
    Ok(usize::try_from(max).unwrap_or(DEFAULT_MAX_IN_FLIGHT_PER_WEBHOOK))
}

/// Only the URL policy (`WEBHOOKS_ALLOW_NETS`, `WEBHOOKS_REQUIRE_HTTPS`), for a process
/// that validates webhook URLs but sends nothing (the api function).
pub fn outbound_policy(
    env: &dyn Env,
    default_allow_nets: &str,
) -> Result<OutboundPolicy, ConfigError> {
    let allow = env
        .var("WEBHOOKS_ALLOW_NETS")
        .unwrap_or_else(|| default_allow_nets.to_owned());
    let allow_nets =
        parse_allow_nets(&allow).map_err(|m| ConfigError::new("WEBHOOKS_ALLOW_NETS", m))?;
    let require_https = boolean(env, "WEBHOOKS_REQUIRE_HTTPS", false)?;
    Ok(OutboundPolicy {
        allow_nets,
        require_https,
    })
}

/// `LOG_RETENTION_DAYS`: 1–3650, default 30.
pub fn log_retention(env: &dyn Env) -> Result<Duration, ConfigError> {
    let days = number(
        env,
        "LOG_RETENTION_DAYS",
        DEFAULT_LOG_RETENTION_DAYS,
        1..=3650,
    )?;
    Ok(Duration::from_secs(days * 24 * 3600))
}

/// An optional whole number within `range`.
pub fn number(
    env: &dyn Env,
    name: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    match env.var(name).filter(|v| !v.trim().is_empty()) {
        None => Ok(default),
        Some(text) => match text.trim().parse::<u64>() {
            Ok(value) if range.contains(&value) => Ok(value),
            _ => Err(ConfigError::new(
                name,
                format!(
                    "must be a whole number from {} to {}, not {text:?}",
                    range.start(),
                    range.end()
                ),
            )),
        },
    }
}

/// An optional `true`/`false`.
pub fn boolean(env: &dyn Env, name: &'static str, default: bool) -> Result<bool, ConfigError> {
    match env
        .var(name)
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("") => Ok(default),
        Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(other) => Err(ConfigError::new(
            name,
            format!("must be true or false, not {other:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name: &str| map.get(name).cloned()
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let config = OutboundConfig::from_env(&env(&[]), "").unwrap();
        assert_eq!(config.timeout, Duration::from_secs(5));
        assert!(config.policy.allow_nets.is_empty());
        assert!(!config.policy.require_https);
        assert_eq!(
            log_retention(&env(&[])).unwrap(),
            Duration::from_secs(30 * 86400)
        );
    }

    #[test]
    fn the_in_flight_cap_per_webhook_defaults_to_8_and_must_be_1_to_64() {
        assert_eq!(max_in_flight_per_webhook(&env(&[])).unwrap(), 8);
        let set = env(&[("MAX_IN_FLIGHT_PER_WEBHOOK", "2")]);
        assert_eq!(max_in_flight_per_webhook(&set).unwrap(), 2);
        for bad in ["0", "65", "many"] {
            let error =
                max_in_flight_per_webhook(&env(&[("MAX_IN_FLIGHT_PER_WEBHOOK", bad)])).unwrap_err();
            assert_eq!(error.name, "MAX_IN_FLIGHT_PER_WEBHOOK");
        }
    }

    #[test]
    fn the_local_default_opens_loopback_unless_overridden() {
        let local = OutboundConfig::from_env(&env(&[]), "127.0.0.0/8,::1/128").unwrap();
        assert_eq!(local.policy.allow_nets.len(), 2);
        let closed =
            OutboundConfig::from_env(&env(&[("WEBHOOKS_ALLOW_NETS", "")]), "127.0.0.0/8").unwrap();
        assert!(closed.policy.allow_nets.is_empty());
    }

    #[test]
    fn bad_values_name_their_variable() {
        let cases = [
            ("DELIVERY_TIMEOUT_MS", "100"),
            ("DELIVERY_TIMEOUT_MS", "fast"),
            ("WEBHOOKS_ALLOW_NETS", "nope"),
            ("WEBHOOKS_REQUIRE_HTTPS", "maybe"),
        ];
        for (name, value) in cases {
            let error = OutboundConfig::from_env(&env(&[(name, value)]), "").unwrap_err();
            assert_eq!(error.name, name);
            assert!(error.to_string().starts_with(name));
        }
        assert_eq!(
            log_retention(&env(&[("LOG_RETENTION_DAYS", "0")]))
                .unwrap_err()
                .name,
            "LOG_RETENTION_DAYS"
        );
    }

    #[test]
    fn required_variables_must_be_present() {
        assert_eq!(
            env(&[]).required("WEBHOOKS_TABLE").unwrap_err().name,
            "WEBHOOKS_TABLE"
        );
    }
}
