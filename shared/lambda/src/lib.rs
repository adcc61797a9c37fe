//! What every Lambda function of the service does the same way: JSON logs whose
//! every line carries the invocation's request id, SQS records turned into the
//! core's queue messages, partial batch responses, and the invocation deadline as an
//! `Instant`.

#[cfg(any(test, feature = "testing"))]
pub mod capture;
mod invocation;
mod log_format;
#[cfg(any(test, feature = "testing"))]
pub mod runbook;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_lambda_events::sqs::BatchItemFailure;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;
use webhooks_core::config::{ConfigError, Env, ProcessEnv};
use webhooks_core::domain::time::Timestamp;
use webhooks_core::ports::QueueMessage;

pub use invocation::{invocation_span, InvocationLayer, InvocationService};
pub use log_format::{json_subscriber, FlatJson};

/// JSON logs on stdout (CloudWatch), `info` unless `RUST_LOG` says otherwise: one
/// flat object per line, with the fields of every span it happened in (the request
/// id, a record's message id, ...).
fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = json_subscriber(filter, std::io::stdout).try_init();
}

/// What every function does first: JSON logs on, then its configuration read from the
/// process environment; a bad or missing variable is logged and ends the start.
pub fn start<C>(
    read_config: impl FnOnce(&dyn Env) -> Result<C, ConfigError>,
) -> Result<C, ConfigError> {
    init_tracing();
    read_config(&ProcessEnv).inspect_err(|error| {
        tracing::error!(error = %error, "bad configuration");
    })
}

/// The SQS records of an invocation as the core reads them. A record without a body
/// gets an empty one (which the core refuses, with a reason).
pub fn queue_messages(event: SqsEvent, now: Timestamp) -> Vec<QueueMessage> {
    event
        .records
        .into_iter()
        .map(|message| queue_message(message, now))
        .collect()
}

fn queue_message(message: SqsMessage, now: Timestamp) -> QueueMessage {
    let received_at = message
        .attributes
        .get("SentTimestamp")
        .and_then(|ms| ms.parse::<i64>().ok())
        .map(Timestamp::from_unix_millis)
        .unwrap_or(now);
    QueueMessage {
        message_id: message.message_id.unwrap_or_default(),
        body: message.body.unwrap_or_default(),
        received_at,
    }
}

/// The answer that makes SQS retry only the listed messages.
pub fn batch_response(failed_message_ids: Vec<String>) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed_message_ids
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}

/// A record of a batch, as the queue can be asked to deliver it again sooner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redeliverable {
    pub message_id: String,
    /// The queue's ARN (`eventSourceARN`).
    pub queue_arn: String,
    pub receipt_handle: String,
    /// `ApproximateReceiveCount`: 1 on the first delivery.
    pub receive_count: u32,
}

/// The records of `event` that name their queue and receipt (all of them from SQS).
pub fn redeliverable(event: &SqsEvent) -> Vec<Redeliverable> {
    event
        .records
        .iter()
        .filter_map(|message| {
            Some(Redeliverable {
                message_id: message.message_id.clone()?,
                queue_arn: message.event_source_arn.clone()?,
                receipt_handle: message.receipt_handle.clone()?,
                receive_count: message
                    .attributes
                    .get("ApproximateReceiveCount")
                    .and_then(|count| count.parse().ok())
                    .unwrap_or(1),
            })
        })
        .collect()
}

/// The invocation's deadline (`Context::deadline`, unix milliseconds) as an `Instant`.
pub fn deadline(deadline_unix_ms: u64) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let left = u128::from(deadline_unix_ms).saturating_sub(now_ms);
    Instant::now() + Duration::from_millis(u64::try_from(left).unwrap_or(u64::MAX / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_carry_message_id_body_and_sent_time() {
        let event: SqsEvent = serde_json::from_value(serde_json::json!({"Records": [
            {"messageId": "m-1", "body": "{}", "attributes": {"SentTimestamp": "1700000000000"}},
            {"messageId": "m-2"}
        ]}))
        .unwrap();
        let now = Timestamp::from_unix_millis(5);
        let records = queue_messages(event, now);
        assert_eq!(records[0].message_id, "m-1");
        assert_eq!(records[0].body, "{}");
        assert_eq!(
            records[0].received_at,
            Timestamp::from_unix_millis(1_700_000_000_000)
        );
        assert_eq!(records[1].body, "");
        assert_eq!(records[1].received_at, now);
    }

    #[test]
    fn the_batch_response_lists_only_the_failed_ids() {
        let response = serde_json::to_value(batch_response(vec!["m-2".into()])).unwrap();
        assert_eq!(
            response,
            serde_json::json!({"batchItemFailures": [{"itemIdentifier": "m-2"}]})
        );
    }

    #[test]
    fn a_deadline_in_the_past_is_now() {
        assert!(deadline(0) <= Instant::now());
        let later = deadline(
            u64::try_from(
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_millis(),
            )
            .unwrap()
                + 60_000,
        );
        assert!(later > Instant::now() + Duration::from_secs(50));
    }
}
