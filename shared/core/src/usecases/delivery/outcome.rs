//! Classifies what a receiver (or the network) answered.

use std::time::Duration;

use crate::outbound::{OutboundResponse, SendError};

/// What one attempt amounted to, before the schedule is consulted.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// 2xx.
    Delivered,
    /// 410 Gone: the receiver asks us to stop.
    Gone,
    /// Refused by configuration (URL form); retrying cannot help.
    Refused(String),
    /// Anything else: retried on the schedule.
    Failed {
        error: String,
        retry_after: Option<Duration>,
    },
}

pub fn verdict(result: &Result<OutboundResponse, SendError>) -> Verdict {
    match result {
        Ok(response) if (200..300).contains(&response.status) => Verdict::Delivered,
        Ok(response) if response.status == 410 => Verdict::Gone,
        Ok(response) if (300..400).contains(&response.status) => Verdict::Failed {
            error: match &response.location {
                Some(location) => {
                    format!("redirect ({}) to {location} not followed", response.status)
                }
                None => format!("redirect ({}) not followed", response.status),
            },
            retry_after: None,
        },
        Ok(response) => Verdict::Failed {
            error: format!("receiver answered HTTP {}", response.status),
            retry_after: response.retry_after,
        },
        Err(error) if matches!(error, SendError::Refused(_)) && !error.is_address_refusal() => {
            Verdict::Refused(error.to_string())
        }
        Err(error) => Verdict::Failed {
            error: error.to_string(),
            retry_after: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::Refusal;

    fn response(status: u16) -> Result<OutboundResponse, SendError> {
        Ok(OutboundResponse {
            status,
            location: Some("https://elsewhere.example/".into()),
            retry_after: Some(Duration::from_secs(7)),
            excerpt: String::new(),
            elapsed: Duration::from_millis(3),
            remote_addr: None,
            tls: false,
        })
    }

    #[test]
    fn any_2xx_is_delivered() {
        for status in [200, 201, 202, 204, 299] {
            assert_eq!(verdict(&response(status)), Verdict::Delivered, "{status}");
        }
    }

    #[test]
    fn gone_is_its_own_verdict() {
        assert_eq!(verdict(&response(410)), Verdict::Gone);
    }

    #[test]
    fn a_redirect_is_a_failure_naming_its_target() {
        let Verdict::Failed { error, .. } = verdict(&response(302)) else {
            panic!("a redirect must fail");
        };
        assert!(error.contains("https://elsewhere.example/"));
    }

    #[test]
    fn other_statuses_fail_and_carry_retry_after() {
        assert_eq!(
            verdict(&response(503)),
            Verdict::Failed {
                error: "receiver answered HTTP 503".into(),
                retry_after: Some(Duration::from_secs(7))
            }
        );
    }

    #[test]
    fn a_blocked_address_is_retried_but_a_bad_url_form_is_refused() {
        let blocked = Err(SendError::Refused(Refusal::Address {
            addr: "10.0.0.1".parse().unwrap(),
            kind: "private (RFC 1918)",
        }));
        assert!(matches!(verdict(&blocked), Verdict::Failed { .. }));
        let https = Err(SendError::Refused(Refusal::HttpsRequired));
        assert!(matches!(verdict(&https), Verdict::Refused(_)));
    }
}
