//! The AWS settings of the README's "Configuration" sections, read from the environment once
//! at start. Each function needs a different subset, so each variable has its own
//! reader; a missing or malformed one fails naming the variable. The functions that
//! send webhook requests also check that `DELIVERY_TIMEOUT_MS` fits in their own
//! timeout ([`TimeoutUse`]).

use std::time::Duration;

use webhooks_core::config::{number, ConfigError, Env};
use webhooks_core::usecases::delivery::DEADLINE_MARGIN;

pub use webhooks_core::config::log_retention;

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

/// The longest an HTTP API (API Gateway v2, the template's) waits for a Lambda
/// integration: 30 s, a quota that cannot be raised (29 s is REST APIs' default). A
/// connection test must answer within it, or the caller gets API Gateway's 503.
pub const HTTP_API_INTEGRATION_TIMEOUT: Duration = Duration::from_secs(30);

/// `FUNCTION_TIMEOUT_SECONDS` at most: Lambda's 15 minutes.
const MAX_FUNCTION_TIMEOUT_SECONDS: u64 = 900;

/// `FUNCTION_TIMEOUT_SECONDS` (1–900): the function's own `Timeout`, which the
/// template sets beside it (Lambda tells a function its deadline per invocation, not
/// at start). Unset (a function run outside the template: `cargo lambda watch`, the
/// tests' runtime API), nothing is known and nothing checked.
pub fn function_timeout(env: &dyn Env) -> Result<Option<Duration>, ConfigError> {
    const NAME: &str = "FUNCTION_TIMEOUT_SECONDS";
    if env.var(NAME).filter(|v| !v.trim().is_empty()).is_none() {
        return Ok(None);
    }
    let seconds = number(env, NAME, 0, 1..=MAX_FUNCTION_TIMEOUT_SECONDS)?;
    Ok(Some(Duration::from_secs(seconds)))
}

/// What a function does with `DELIVERY_TIMEOUT_MS`, and so how it must fit in the
/// function's timeout. The one rule of what fits, for the functions' start-up checks
/// and for the template's tests (`DeliveryTimeoutMs`'s range).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutUse {
    /// The delivery function. A delivery starts only while its timeout and
    /// [`DEADLINE_MARGIN`] (its log record, the next attempt's task) fit before the
    /// deadline, and the batch's reads (subscribers, secrets) come first, allowed one
    /// more margin: timeout + 2 × margin must fit in the function's timeout. Past
    /// that no delivery ever starts, and every one is deferred to the retry queue
    /// again and again.
    Delivery,
    /// The test-connection function. A connection test's DNS lookup and request share
    /// the delivery timeout, after reading the webhook and its secret (one
    /// [`DEADLINE_MARGIN`]): timeout + margin must fit in the function's timeout and
    /// in [`HTTP_API_INTEGRATION_TIMEOUT`].
    ConnectionTest,
}

impl TimeoutUse {
    /// The longest delivery timeout that fits in a function of `function_timeout`
    /// (zero when none does).
    pub fn longest_delivery_timeout(self, function_timeout: Duration) -> Duration {
        match self {
            TimeoutUse::Delivery => function_timeout.saturating_sub(2 * DEADLINE_MARGIN),
            TimeoutUse::ConnectionTest => function_timeout
                .min(HTTP_API_INTEGRATION_TIMEOUT)
                .saturating_sub(DEADLINE_MARGIN),
        }
    }

    /// `delivery_timeout` if it fits in a function of `function_timeout`; otherwise
    /// an error on `DELIVERY_TIMEOUT_MS` that says why and what fits.
    pub fn check(
        self,
        delivery_timeout: Duration,
        function_timeout: Duration,
    ) -> Result<Duration, ConfigError> {
        let longest = self.longest_delivery_timeout(function_timeout);
        if delivery_timeout <= longest {
            return Ok(delivery_timeout);
        }
        let (ms, fs, margin_s) = (
            delivery_timeout.as_millis(),
            function_timeout.as_secs(),
            DEADLINE_MARGIN.as_secs(),
        );
        let why = match self {
            TimeoutUse::Delivery => format!(
                "{ms} ms does not fit in the delivery function's {fs} s \
                 (FUNCTION_TIMEOUT_SECONDS): a delivery starts only while its timeout and \
                 {margin_s} s (DEADLINE_MARGIN) fit before the deadline, after the batch's \
                 reads ({margin_s} s more)"
            ),
            TimeoutUse::ConnectionTest => format!(
                "{ms} ms does not fit: a connection test's DNS lookup and request may each \
                 take it, after {margin_s} s (DEADLINE_MARGIN) for reading the webhook, \
                 within the function's {fs} s (FUNCTION_TIMEOUT_SECONDS) and API Gateway's \
                 {} s",
                HTTP_API_INTEGRATION_TIMEOUT.as_secs()
            ),
        };
        let fits = if longest < Duration::from_secs(1) {
            // DELIVERY_TIMEOUT_MS is 1000 at least (`OutboundConfig::from_env`).
            "no DELIVERY_TIMEOUT_MS fits: raise the function's Timeout and \
             FUNCTION_TIMEOUT_SECONDS"
                .to_owned()
        } else {
            format!("at most {} ms fits", longest.as_millis())
        };
        Err(ConfigError::new(
            "DELIVERY_TIMEOUT_MS",
            format!("{why}; {fits}"),
        ))
    }

    /// Reads `FUNCTION_TIMEOUT_SECONDS` and checks `delivery_timeout` against it
    /// ([`TimeoutUse::check`]); with the variable unset, there is nothing to check.
    pub fn check_env(self, env: &dyn Env, delivery_timeout: Duration) -> Result<(), ConfigError> {
        match function_timeout(env)? {
            Some(function_timeout) => self.check(delivery_timeout, function_timeout).map(drop),
            None => Ok(()),
        }
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

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name: &str| map.get(name).cloned()
    }

    const FULL: [(&str, &str); 6] = [
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
        for (missing, _) in &FULL[..5] {
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

    fn seconds(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn given_a_delivery_function_when_asked_what_fits_then_it_keeps_two_margins() {
        // 60 s less 2 s for the reads before the first delivery, 2 s for its writes.
        assert_eq!(
            TimeoutUse::Delivery.longest_delivery_timeout(seconds(60)),
            seconds(56)
        );
        assert_eq!(
            TimeoutUse::Delivery.longest_delivery_timeout(seconds(15)),
            seconds(11)
        );
        assert_eq!(
            TimeoutUse::Delivery.longest_delivery_timeout(seconds(3)),
            Duration::ZERO
        );
    }

    #[test]
    fn given_a_connection_test_when_asked_what_fits_then_dns_and_request_share_the_shorter_limit() {
        // 30 s - 2 s: the DNS lookup and the request share the timeout.
        assert_eq!(
            TimeoutUse::ConnectionTest.longest_delivery_timeout(seconds(30)),
            seconds(28)
        );
        assert_eq!(
            TimeoutUse::ConnectionTest.longest_delivery_timeout(seconds(15)),
            seconds(13)
        );
        // A function longer than API Gateway waits gains nothing.
        assert_eq!(
            TimeoutUse::ConnectionTest.longest_delivery_timeout(seconds(900)),
            seconds(28)
        );
    }

    #[test]
    fn given_a_timeout_that_fits_exactly_when_checked_then_it_is_kept() {
        assert_eq!(
            TimeoutUse::Delivery.check(seconds(56), seconds(60)),
            Ok(seconds(56))
        );
        assert_eq!(
            TimeoutUse::ConnectionTest.check(seconds(14), seconds(30)),
            Ok(seconds(14))
        );
    }

    #[test]
    fn given_a_timeout_that_does_not_fit_when_checked_then_the_error_names_the_variable_and_what_fits(
    ) {
        let delivery = TimeoutUse::Delivery
            .check(Duration::from_millis(56_001), seconds(60))
            .unwrap_err();
        assert_eq!(delivery.name, "DELIVERY_TIMEOUT_MS");
        let message = delivery.to_string();
        assert!(
            message.starts_with("DELIVERY_TIMEOUT_MS: 56001 ms"),
            "{message}"
        );
        assert!(message.contains("FUNCTION_TIMEOUT_SECONDS"), "{message}");
        assert!(message.ends_with("at most 56000 ms fits"), "{message}");

        let test = TimeoutUse::ConnectionTest
            .check(seconds(29), seconds(30))
            .unwrap_err();
        assert_eq!(test.name, "DELIVERY_TIMEOUT_MS");
        let message = test.to_string();
        assert!(message.contains("API Gateway's 30 s"), "{message}");
        assert!(message.ends_with("at most 28000 ms fits"), "{message}");
    }

    #[test]
    fn given_a_function_too_short_for_any_timeout_when_checked_then_the_error_says_to_raise_it() {
        let error = TimeoutUse::Delivery
            .check(seconds(1), seconds(4))
            .unwrap_err();
        assert!(
            error.to_string().ends_with(
                "no DELIVERY_TIMEOUT_MS fits: raise the function's Timeout and \
                 FUNCTION_TIMEOUT_SECONDS"
            ),
            "{error}"
        );
    }

    #[test]
    fn given_the_function_timeout_in_the_environment_when_checked_then_it_decides() {
        let fits = env(&[("FUNCTION_TIMEOUT_SECONDS", "30")]);
        assert_eq!(function_timeout(&fits), Ok(Some(seconds(30))));
        assert_eq!(
            TimeoutUse::ConnectionTest.check_env(&fits, seconds(28)),
            Ok(())
        );
        assert_eq!(
            TimeoutUse::ConnectionTest
                .check_env(&fits, seconds(29))
                .unwrap_err()
                .name,
            "DELIVERY_TIMEOUT_MS"
        );
    }

    #[test]
    fn given_no_function_timeout_when_checked_then_nothing_is_refused() {
        assert_eq!(function_timeout(&env(&[])), Ok(None));
        assert_eq!(
            function_timeout(&env(&[("FUNCTION_TIMEOUT_SECONDS", " ")])),
            Ok(None)
        );
        assert_eq!(
            TimeoutUse::Delivery.check_env(&env(&[]), seconds(30)),
            Ok(())
        );
    }

    #[test]
    fn given_a_malformed_function_timeout_when_read_then_it_is_refused_naming_it() {
        for value in ["0", "901", "60s", "-1"] {
            let error = function_timeout(&env(&[("FUNCTION_TIMEOUT_SECONDS", value)])).unwrap_err();
            assert_eq!(error.name, "FUNCTION_TIMEOUT_SECONDS", "{value}");
            assert!(error.to_string().contains("1 to 900"), "{error}");
        }
    }
}
