//! The delivery log: one record per attempt.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::event::Event;
use crate::domain::ids::{DeliveryId, EventId, WebhookId};
use crate::domain::time::Timestamp;

/// At most this much of a response body is kept.
pub const MAX_RESPONSE_EXCERPT: usize = 4 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The receiver answered 2xx.
    Succeeded,
    /// The attempt failed; another is scheduled (`next_attempt_at`).
    Retrying,
    /// The attempt failed and was the last of its series; the delivery can be redelivered.
    Exhausted,
    /// The attempt was not made: the webhook had been disabled meanwhile.
    Failed,
    /// The attempt was refused before sending by a rule retrying cannot change
    /// (the URL is not allowed by the service's configuration).
    Rejected,
    /// This attempt disabled the webhook (410 Gone, or 5 days of only failures).
    Disabled,
}

impl Outcome {
    pub const ALL: [Outcome; 6] = [
        Outcome::Succeeded,
        Outcome::Retrying,
        Outcome::Exhausted,
        Outcome::Failed,
        Outcome::Rejected,
        Outcome::Disabled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Retrying => "retrying",
            Outcome::Exhausted => "exhausted",
            Outcome::Failed => "failed",
            Outcome::Rejected => "rejected",
            Outcome::Disabled => "disabled",
        }
    }

    pub fn parse(text: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

/// One attempt as the API returns it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeliveryLogRecord {
    #[schema(value_type = String)]
    pub delivery_id: DeliveryId,
    #[schema(value_type = String)]
    pub webhook_id: WebhookId,
    #[schema(value_type = String)]
    pub event_id: EventId,
    pub event: String,
    pub client_id: String,
    pub attempt: u32,
    pub outcome: Outcome,
    pub status_code: Option<u16>,
    pub elapsed_ms: Option<u64>,
    pub error: Option<String>,
    pub response_excerpt: Option<String>,
    pub at: Timestamp,
    pub next_attempt_at: Option<Timestamp>,
}

impl DeliveryLogRecord {
    /// The delivery-log sort key: `{at}#{delivery_id}#{attempt:04}`, newest last in
    /// lexicographic order.
    pub fn sort_key(&self) -> String {
        format!("{}#{}#{:04}", self.at, self.delivery_id, self.attempt)
    }
}

/// A stored attempt: the public record plus what a redelivery needs to rebuild the
/// event (its time and data) and where its attempt series began.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoggedAttempt {
    #[serde(flatten)]
    pub record: DeliveryLogRecord,
    pub occurred_at: Timestamp,
    pub data: Value,
}

impl LoggedAttempt {
    pub fn event(&self) -> Event {
        Event {
            id: self.record.event_id.clone(),
            event_type: self.record.event.clone(),
            client_id: self.record.client_id.clone(),
            occurred_at: self.occurred_at,
            data: self.data.clone(),
        }
    }
}

/// Cuts a response body to at most [`MAX_RESPONSE_EXCERPT`] bytes on a character
/// boundary, replacing invalid UTF-8.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX_RESPONSE_EXCERPT)]);
    let mut end = text.len().min(MAX_RESPONSE_EXCERPT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_round_trip_through_their_names() {
        for outcome in Outcome::ALL {
            assert_eq!(Outcome::parse(outcome.as_str()), Some(outcome));
            assert_eq!(
                serde_json::to_value(outcome).unwrap(),
                serde_json::json!(outcome.as_str())
            );
        }
        assert_eq!(Outcome::parse("ok"), None);
    }

    #[test]
    fn excerpts_keep_at_most_4_kib() {
        assert_eq!(excerpt(&vec![b'a'; 10_000]).len(), 4096);
        let multibyte = "é".repeat(3000);
        let cut = excerpt(multibyte.as_bytes());
        assert!(cut.len() <= 4096);
        assert!(cut.chars().all(|c| c == 'é'));
    }

    #[test]
    fn sort_keys_order_by_time_then_delivery_then_attempt() {
        let record = DeliveryLogRecord {
            delivery_id: DeliveryId::from_trusted("dlv_1"),
            webhook_id: WebhookId::from_trusted("wh_1"),
            event_id: EventId::from_trusted("evt_1"),
            event: "report.publish_status".into(),
            client_id: "acme".into(),
            attempt: 3,
            outcome: Outcome::Retrying,
            status_code: Some(500),
            elapsed_ms: Some(5),
            error: None,
            response_excerpt: None,
            at: Timestamp::parse("2026-11-28T12:00:05Z").unwrap(),
            next_attempt_at: None,
        };
        assert_eq!(record.sort_key(), "2026-11-28T12:00:05.000Z#dlv_1#0003");
    }
}
