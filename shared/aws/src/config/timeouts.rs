//! What delivery timeout fits in a function: one rule ([`TimeoutUse`]), checked by
//! each function at start against its `FUNCTION_TIMEOUT_SECONDS`, and by the template
//! tests against `DeliveryTimeoutMs`'s range.

use std::time::Duration;

use webhooks_core::config::{number, ConfigError, Env};
use webhooks_core::usecases::delivery::DEADLINE_MARGIN;

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

#[cfg(test)]
mod tests {
    use super::super::tests::env;
    use super::*;

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
