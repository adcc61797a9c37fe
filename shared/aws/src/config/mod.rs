//! The AWS settings (docs/configuration.md), read from the environment once
//! at start. Each function needs a different subset, so each variable has its own
//! reader; a missing or malformed one fails naming the variable. The functions that
//! send webhook requests also check that `DELIVERY_TIMEOUT_MS` fits in their own
//! timeout ([`TimeoutUse`]).

use std::time::Duration;

use webhooks_core::config::{ConfigError, Env};

pub use webhooks_core::config::log_retention;

mod secrets_mode;
mod timeouts;
pub use secrets_mode::{secrets_mode, SecretsMode};
pub use timeouts::{function_timeout, TimeoutUse, HTTP_API_INTEGRATION_TIMEOUT};

/// `SECRET_PREFIX` when it is unset.
pub const DEFAULT_SECRET_PREFIX: &str = "webhooks/";

/// `WEBHOOKS_TABLE`: the webhooks table's name.
pub fn webhooks_table(env: &dyn Env) -> Result<String, ConfigError> {
    table_name(env, "WEBHOOKS_TABLE")
}

/// `DELIVERY_LOGS_TABLE`: the delivery-logs table's name.
pub fn delivery_logs_table(env: &dyn Env) -> Result<String, ConfigError> {
    table_name(env, "DELIVERY_LOGS_TABLE")
}

/// `RETRY_QUEUE_URL`: where delivery tasks wait for their next attempt.
pub fn retry_queue_url(env: &dyn Env) -> Result<String, ConfigError> {
    queue_url(env, "RETRY_QUEUE_URL")
}

/// `LOGS_QUEUE_URL`: where delivery attempts go to the log-writer.
pub fn logs_queue_url(env: &dyn Env) -> Result<String, ConfigError> {
    queue_url(env, "LOGS_QUEUE_URL")
}

/// `EVENTS_DLQ_URL`: where refused event bodies go.
pub fn events_dlq_url(env: &dyn Env) -> Result<String, ConfigError> {
    queue_url(env, "EVENTS_DLQ_URL")
}

/// `LOGS_DLQ_URL`: where the log-writer sends delivery-log records it can never
/// store (the logs DLQ), each with its reason.
pub fn logs_dlq_url(env: &dyn Env) -> Result<String, ConfigError> {
    queue_url(env, "LOGS_DLQ_URL")
}

/// `SECRET_PREFIX` (default `webhooks/`): secrets are named `{prefix}{webhook_id}`.
pub fn secret_prefix(env: &dyn Env) -> Result<String, ConfigError> {
    const NAME: &str = "SECRET_PREFIX";
    let prefix = env
        .var(NAME)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_SECRET_PREFIX.to_owned());
    // Secrets Manager names: at most 512 characters of letters, digits and /_+=.@-;
    // leave room for the webhook id (`wh_` + 26).
    if prefix.len() > 256 {
        return Err(ConfigError::new(NAME, "must be at most 256 characters"));
    }
    if !prefix
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/_+=.@-".contains(&b))
    {
        return Err(ConfigError::new(
            NAME,
            format!("may contain only letters, digits and / _ + = . @ -, not {prefix:?}"),
        ));
    }
    Ok(prefix)
}

/// `METRICS_STACK`: the value of the `Stack` dimension of the function's metrics (the
/// template sets its stack's name), so stacks in one account write different series.
/// Required: a deployment whose metrics would mix with another's does not start.
pub fn metrics_stack(env: &dyn Env) -> Result<String, ConfigError> {
    const NAME: &str = "METRICS_STACK";
    stack_name(NAME, env.required(NAME)?.trim().to_owned())
}

/// `SECRETS_STACK_TAG` (optional; the template sets its stack's name): the value of
/// the `webhooks:stack` tag every secret is created with, which the stack's IAM
/// policies require of the secrets they touch.
pub fn secrets_stack_tag(env: &dyn Env) -> Result<Option<String>, ConfigError> {
    const NAME: &str = "SECRETS_STACK_TAG";
    env.var(NAME)
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
        .map(|value| stack_name(NAME, value))
        .transpose()
}

/// `value` of variable `name`, if it is a CloudFormation stack name.
fn stack_name(name: &'static str, value: String) -> Result<String, ConfigError> {
    // A CloudFormation stack name: a letter, then letters, digits and hyphens, at most
    // 128 characters; also a valid CloudWatch dimension value.
    let valid = (1..=128).contains(&value.len())
        && value.starts_with(|c: char| c.is_ascii_alphabetic())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if valid {
        Ok(value)
    } else {
        Err(ConfigError::new(
            name,
            format!(
                "must be a stack name (a letter, then up to 127 of A-Z a-z 0-9 -), not {value:?}"
            ),
        ))
    }
}

/// Every AWS setting at once, for a process that uses them all (an all-in-one test
/// deployment); each Lambda function reads only its own with the functions above.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsConfig {
    pub webhooks_table: String,
    pub delivery_logs_table: String,
    pub retry_queue_url: String,
    pub logs_queue_url: String,
    pub events_dlq_url: String,
    pub logs_dlq_url: String,
    pub secret_prefix: String,
    pub log_retention: Duration,
}

impl AwsConfig {
    pub fn from_env(env: &dyn Env) -> Result<Self, ConfigError> {
        Ok(Self {
            webhooks_table: webhooks_table(env)?,
            delivery_logs_table: delivery_logs_table(env)?,
            retry_queue_url: retry_queue_url(env)?,
            logs_queue_url: logs_queue_url(env)?,
            events_dlq_url: events_dlq_url(env)?,
            logs_dlq_url: logs_dlq_url(env)?,
            secret_prefix: secret_prefix(env)?,
            log_retention: log_retention(env)?,
        })
    }
}

/// A DynamoDB table name: 3–255 characters of letters, digits and `_ - .`.
fn table_name(env: &dyn Env, name: &'static str) -> Result<String, ConfigError> {
    let value = env.required(name)?.trim().to_owned();
    let valid = (3..=255).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if valid {
        Ok(value)
    } else {
        Err(ConfigError::new(
            name,
            format!("must be a DynamoDB table name (3–255 of A-Z a-z 0-9 _ - .), not {value:?}"),
        ))
    }
}

/// An SQS queue URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`, or an
/// emulator's `http://...`).
fn queue_url(env: &dyn Env, name: &'static str) -> Result<String, ConfigError> {
    let value = env.required(name)?.trim().to_owned();
    if value.starts_with("https://") || value.starts_with("http://") {
        Ok(value)
    } else {
        Err(ConfigError::new(
            name,
            format!("must be an SQS queue URL (https://...), not {value:?}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// An environment of these variables only (the timeout rule's tests use it too).
    pub(super) fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name: &str| map.get(name).cloned()
    }

    const FULL: [(&str, &str); 7] = [
        ("WEBHOOKS_TABLE", "webhooks-prod"),
        ("DELIVERY_LOGS_TABLE", "delivery-logs-prod"),
        (
            "RETRY_QUEUE_URL",
            "https://sqs.eu-west-1.amazonaws.com/1/retry",
        ),
        (
            "LOGS_QUEUE_URL",
            "https://sqs.eu-west-1.amazonaws.com/1/logs",
        ),
        (
            "EVENTS_DLQ_URL",
            "https://sqs.eu-west-1.amazonaws.com/1/events-dlq",
        ),
        (
            "LOGS_DLQ_URL",
            "https://sqs.eu-west-1.amazonaws.com/1/logs-dlq",
        ),
        ("LOG_RETENTION_DAYS", "7"),
    ];

    #[test]
    fn a_complete_environment_reads_with_defaults() {
        let config = AwsConfig::from_env(&env(&FULL)).unwrap();
        assert_eq!(config.webhooks_table, "webhooks-prod");
        assert_eq!(config.secret_prefix, "webhooks/");
        assert_eq!(config.log_retention, Duration::from_secs(7 * 86400));
    }

    #[test]
    fn each_missing_variable_is_named() {
        for (missing, _) in &FULL[..6] {
            let pairs: Vec<_> = FULL.iter().filter(|(k, _)| k != missing).copied().collect();
            let error = AwsConfig::from_env(&env(&pairs)).unwrap_err();
            assert_eq!(error.name, *missing);
            assert!(error.to_string().contains("required"), "{error}");
        }
    }

    #[test]
    fn a_reader_needs_only_its_own_variable() {
        let only = env(&[("LOGS_QUEUE_URL", "http://127.0.0.1:5000/123/logs")]);
        assert_eq!(
            logs_queue_url(&only).unwrap(),
            "http://127.0.0.1:5000/123/logs"
        );
        assert_eq!(webhooks_table(&only).unwrap_err().name, "WEBHOOKS_TABLE");
    }

    #[test]
    fn malformed_values_are_refused_naming_the_variable() {
        let cases = [
            ("WEBHOOKS_TABLE", "no spaces allowed"),
            ("DELIVERY_LOGS_TABLE", "x"),
            ("RETRY_QUEUE_URL", "retry-queue"),
            ("SECRET_PREFIX", "webhooks secrets/"),
        ];
        for (name, value) in cases {
            let result = match name {
                "WEBHOOKS_TABLE" => webhooks_table(&env(&[(name, value)])),
                "DELIVERY_LOGS_TABLE" => delivery_logs_table(&env(&[(name, value)])),
                "RETRY_QUEUE_URL" => retry_queue_url(&env(&[(name, value)])),
                _ => secret_prefix(&env(&[(name, value)])),
            };
            assert_eq!(result.unwrap_err().name, name);
        }
    }

    #[test]
    fn the_metrics_stack_is_required_and_must_be_a_stack_name() {
        // GIVEN a stack name, none, and values that are not stack names
        let good = env(&[("METRICS_STACK", "webhooks-prod")]);
        let bad = [
            "",
            "1st-stack",
            "web hooks",
            "webhooks_prod",
            &"a".repeat(129),
        ];
        // WHEN each is read, THEN only the stack name is taken
        assert_eq!(metrics_stack(&good).unwrap(), "webhooks-prod");
        let missing = metrics_stack(&env(&[])).unwrap_err();
        assert_eq!(missing.name, "METRICS_STACK");
        assert!(missing.to_string().contains("required"), "{missing}");
        for value in bad {
            let error = metrics_stack(&env(&[("METRICS_STACK", value)])).unwrap_err();
            assert_eq!(error.name, "METRICS_STACK", "{value:?}");
        }
    }

    #[test]
    fn the_secrets_stack_tag_is_optional_and_a_stack_name() {
        // GIVEN none, a stack name, and a value that is not one
        // THEN none is no tag, the name is the tag, the other names the variable
        assert_eq!(secrets_stack_tag(&env(&[])).unwrap(), None);
        assert_eq!(
            secrets_stack_tag(&env(&[("SECRETS_STACK_TAG", "webhooks-prod")])).unwrap(),
            Some("webhooks-prod".to_owned())
        );
        let error = secrets_stack_tag(&env(&[("SECRETS_STACK_TAG", "web hooks")])).unwrap_err();
        assert_eq!(error.name, "SECRETS_STACK_TAG");
    }

    #[test]
    fn the_secret_prefix_may_be_chosen() {
        assert_eq!(
            secret_prefix(&env(&[("SECRET_PREFIX", "prod/webhooks/")])).unwrap(),
            "prod/webhooks/"
        );
        assert_eq!(
            secret_prefix(&env(&[("SECRET_PREFIX", "")])).unwrap(),
            "webhooks/"
        );
    }
}
