//! The logs queue: one SQS message per logged attempt, for the log-writer; batches
//! with `SendMessageBatch`.

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use webhooks_core::domain::delivery_log::LoggedAttempt;
use webhooks_core::ports::{LogSink, StoreError};

use crate::batch_send::{send_in_batches, BatchEntry};
use crate::error::{mapping_error, sdk_error};
use crate::limits::MAX_MESSAGE_BYTES;
use crate::message_size::too_large;

/// Entries of a [`SqsLogSink::record_batch`] that could not be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} of the log records could not be sent: {reason}", failed.len())]
pub struct BatchFailure {
    /// Positions in the slice given to `record_batch`, in order.
    pub failed: Vec<usize>,
    /// The first failure's code and message.
    pub reason: String,
}

/// [`LogSink`] on the logs queue: one message per logged attempt, its JSON as the
/// body.
#[derive(Clone, Debug)]
pub struct SqsLogSink {
    client: Client,
    queue_url: String,
}

impl SqsLogSink {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// Sends many attempts with `SendMessageBatch`, at most 10 entries and 256 KiB a
    /// call. Entries that fail on the service's side are sent again (up to three
    /// calls, with backoff); what still fails, or cannot be sent at all, is reported
    /// as a [`BatchFailure`] inside `StoreError::Backend`, everything else having been
    /// sent.
    pub async fn record_batch(&self, attempts: &[LoggedAttempt]) -> Result<(), StoreError> {
        let mut failed: Vec<(usize, String)> = Vec::new();
        let mut bodies = Vec::with_capacity(attempts.len());
        for (index, attempt) in attempts.iter().enumerate() {
            match message_body(attempt) {
                Ok(body) => bodies.push((index, body)),
                Err(error) => failed.push((index, error.to_string())),
            }
        }
        let entries: Vec<(usize, BatchEntry)> = bodies
            .into_iter()
            .map(|(index, body)| (index, BatchEntry::body(body)))
            .collect();
        failed.extend(send_in_batches(&self.client, &self.queue_url, &entries).await);
        if failed.is_empty() {
            return Ok(());
        }
        failed.sort_by_key(|(index, _)| *index);
        Err(StoreError::backend(BatchFailure {
            failed: failed.iter().map(|(index, _)| *index).collect(),
            reason: failed.swap_remove(0).1,
        }))
    }
}

/// A logged attempt's JSON, within SQS's message limit. An attempt of an event near
/// the 256 KiB event limit may not fit with its response excerpt; the excerpt is then
/// left out (the event's data is kept: a redelivery needs it).
fn message_body(attempt: &LoggedAttempt) -> Result<String, StoreError> {
    let body = serde_json::to_string(attempt).map_err(mapping_error("log record"))?;
    if body.len() <= MAX_MESSAGE_BYTES {
        return Ok(body);
    }
    let mut trimmed = attempt.clone();
    trimmed.record.response_excerpt = None;
    let body = serde_json::to_string(&trimmed).map_err(mapping_error("log record"))?;
    if body.len() <= MAX_MESSAGE_BYTES {
        return Ok(body);
    }
    Err(too_large(
        "SendMessage",
        &format!(
            "the log record of delivery {} attempt {}",
            attempt.record.delivery_id, attempt.record.attempt
        ),
        body.len(),
    ))
}

#[async_trait]
impl LogSink for SqsLogSink {
    async fn record(&self, attempt: &LoggedAttempt) -> Result<(), StoreError> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(message_body(attempt)?)
            .send()
            .await
            .map_err(sdk_error("SendMessage"))?;
        Ok(())
    }

    /// `SendMessageBatch` (see [`SqsLogSink::record_batch`]); only the entries that
    /// could not be sent fail.
    async fn record_many(&self, attempts: &[LoggedAttempt]) -> Vec<Result<(), StoreError>> {
        let failure = match self.record_batch(attempts).await {
            Ok(()) => return attempts.iter().map(|_| Ok(())).collect(),
            Err(error) => error,
        };
        let batch = match &failure {
            StoreError::Backend(source) => source.downcast_ref::<BatchFailure>().cloned(),
            _ => None,
        };
        (0..attempts.len())
            .map(|index| match &batch {
                Some(batch) if !batch.failed.contains(&index) => Ok(()),
                _ => Err(StoreError::backend(failure.to_string())),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use webhooks_core::domain::delivery_log::{DeliveryLogRecord, Outcome};
    use webhooks_core::domain::ids::{DeliveryId, EventId, WebhookId};
    use webhooks_core::domain::time::Timestamp;

    fn now() -> Timestamp {
        Timestamp::parse("2026-11-28T12:00:00Z").unwrap()
    }

    fn logged(data: serde_json::Value, excerpt: usize) -> LoggedAttempt {
        LoggedAttempt {
            record: DeliveryLogRecord {
                delivery_id: DeliveryId::from_trusted("dlv_1"),
                webhook_id: WebhookId::from_trusted("wh_1"),
                event_id: EventId::from_trusted("evt_1"),
                event: "report.publish_status".into(),
                client_id: "acme".into(),
                attempt: 1,
                outcome: Outcome::Succeeded,
                status_code: Some(200),
                elapsed_ms: Some(3),
                error: None,
                response_excerpt: Some("r".repeat(excerpt)),
                at: now(),
                next_attempt_at: None,
            },
            occurred_at: now(),
            data,
        }
    }

    #[test]
    fn a_log_record_too_large_with_its_excerpt_goes_without_it() {
        let data = serde_json::json!({"blob": "x".repeat(MAX_MESSAGE_BYTES - 2_000)});
        let body = message_body(&logged(data, 4096)).unwrap();
        assert!(body.len() <= MAX_MESSAGE_BYTES);
        assert!(body.contains("\"response_excerpt\":null"));
        let data = serde_json::json!({"blob": "x".repeat(MAX_MESSAGE_BYTES)});
        let error = message_body(&logged(data, 0)).unwrap_err();
        assert!(error.to_string().contains("over SQS"), "{error}");
    }
}
