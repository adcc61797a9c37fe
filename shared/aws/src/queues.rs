//! The SQS queues: the retry queue (delivery tasks with `DelaySeconds`, chained past
//! 15 minutes), the logs queue (logged attempts for the log-writer) and the events DLQ
//! (refused bodies with a `reason` attribute).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use aws_sdk_sqs::Client;
use webhooks_core::log::LoggedAttempt;
use webhooks_core::ports::{DeadLetters, LogSink, StoreError, TaskQueue};
use webhooks_core::task::{DeliveryTask, TaskMessage};
use webhooks_core::time::Clock;

use crate::error::{mapping_error, sdk_error, AwsError};
use crate::limits::{
    batches, delay_seconds, needs_chaining, truncate, MAX_BATCH_BYTES, MAX_BATCH_ENTRIES,
    MAX_MESSAGE_BYTES, MAX_REASON_BYTES,
};

/// Calls per `SendMessageBatch` run while entries fail on the service's side.
const BATCH_SEND_TRIES: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// The DLQ message attribute that says why a body was refused.
pub const REASON_ATTRIBUTE: &str = "reason";

fn too_large(operation: &'static str, what: &str, bytes: usize) -> StoreError {
    AwsError::new(
        operation,
        format!("{what} is {bytes} bytes, over SQS's {MAX_MESSAGE_BYTES}-byte message limit"),
    )
    .into()
}

/// [`TaskQueue`] on the retry queue. A delay up to 15 minutes is the message's
/// `DelaySeconds`; a longer one also sets the task's `not_before`, and the delivery
/// function puts a task that arrives early back for the remainder
/// (`Dispatcher::run_task`), 15 minutes at a time.
#[derive(Clone)]
pub struct SqsTaskQueue {
    client: Client,
    queue_url: String,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for SqsTaskQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqsTaskQueue")
            .field("queue_url", &self.queue_url)
            .finish()
    }
}

impl SqsTaskQueue {
    pub fn new(client: Client, queue_url: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
            clock,
        }
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// The message body for a task enqueued with `delay`, and its `DelaySeconds`.
    fn message(&self, task: &DeliveryTask, delay: Duration) -> (String, i32) {
        let mut task = task.clone();
        if needs_chaining(delay) {
            task.not_before = Some(self.clock.now().plus(delay));
        }
        (TaskMessage::from(task).to_json(), delay_seconds(delay))
    }
}

#[async_trait]
impl TaskQueue for SqsTaskQueue {
    async fn enqueue(&self, task: &DeliveryTask, delay: Duration) -> Result<(), StoreError> {
        let (body, delay) = self.message(task, delay);
        if body.len() > MAX_MESSAGE_BYTES {
            return Err(too_large(
                "SendMessage",
                &format!("the task of delivery {}", task.delivery_id),
                body.len(),
            ));
        }
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .delay_seconds(delay)
            .send()
            .await
            .map_err(sdk_error("SendMessage"))?;
        Ok(())
    }
}

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
        let sizes: Vec<usize> = bodies.iter().map(|(_, body)| body.len()).collect();
        for run in batches(&sizes, MAX_BATCH_ENTRIES, MAX_BATCH_BYTES) {
            failed.extend(self.send_run(&bodies[run]).await);
        }
        if failed.is_empty() {
            return Ok(());
        }
        failed.sort_by_key(|(index, _)| *index);
        Err(StoreError::backend(BatchFailure {
            failed: failed.iter().map(|(index, _)| *index).collect(),
            reason: failed.swap_remove(0).1,
        }))
    }

    /// One `SendMessageBatch` run (entry ids are positions within the run); returns
    /// the entries that could not be sent, with why.
    async fn send_run(&self, run: &[(usize, String)]) -> Vec<(usize, String)> {
        let mut pending: Vec<usize> = (0..run.len()).collect();
        let mut backoff = FIRST_BACKOFF;
        let mut gave_up = Vec::new();
        for try_number in 1..=BATCH_SEND_TRIES {
            let entries = pending.iter().map(|&i| {
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(&run[i].1)
                    .build()
            });
            let entries = match entries.collect::<Result<Vec<_>, _>>() {
                Ok(entries) => entries,
                Err(error) => {
                    let why = error.to_string();
                    return pending.iter().map(|&i| (run[i].0, why.clone())).collect();
                }
            };
            let output = match self
                .client
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
            {
                Ok(output) => output,
                Err(error) => {
                    let why = AwsError::sdk("SendMessageBatch", &error).to_string();
                    return pending.iter().map(|&i| (run[i].0, why.clone())).collect();
                }
            };
            let mut retry = Vec::new();
            for entry in output.failed() {
                let Some(i) = entry.id().parse::<usize>().ok().filter(|i| *i < run.len()) else {
                    continue;
                };
                let why = format!(
                    "SendMessageBatch: {}: {}",
                    entry.code(),
                    entry.message().unwrap_or("no message")
                );
                if entry.sender_fault() || try_number == BATCH_SEND_TRIES {
                    gave_up.push((run[i].0, why));
                } else {
                    retry.push(i);
                }
            }
            if retry.is_empty() {
                break;
            }
            tracing::debug!(failed = retry.len(), "resending log records");
            tokio::time::sleep(backoff).await;
            backoff *= 2;
            pending = retry;
        }
        gave_up
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

/// [`DeadLetters`] on the events DLQ: the refused body as it came, and why as the
/// `reason` string attribute (cut to 1 KiB).
#[derive(Clone, Debug)]
pub struct SqsDeadLetters {
    client: Client,
    queue_url: String,
}

impl SqsDeadLetters {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }
}

/// The DLQ message for a refused body: the body itself, or as much of it as fits
/// beside the reason (SQS counts attributes into the 256 KiB), and the reason, which
/// says when the body was cut or empty.
fn dead_letter(body: &str, reason: &str) -> (String, String) {
    let mut reason = truncate(reason, MAX_REASON_BYTES).to_owned();
    if body.is_empty() {
        // SQS refuses an empty body.
        reason.push_str(" (the body was empty)");
        return ("(empty)".to_owned(), reason);
    }
    // Attribute size: name, data type and value; keep room for the note below.
    let room = MAX_MESSAGE_BYTES - REASON_ATTRIBUTE.len() - "String".len() - reason.len() - 64;
    if body.len() <= room {
        return (body.to_owned(), reason);
    }
    reason.push_str(&format!(" (body cut from {} bytes)", body.len()));
    (truncate(body, room).to_owned(), reason)
}

#[async_trait]
impl DeadLetters for SqsDeadLetters {
    async fn reject(&self, body: &str, reason: &str) -> Result<(), StoreError> {
        let (body, reason) = dead_letter(body, reason);
        let reason = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(reason)
            .build()
            .map_err(mapping_error("SendMessage"))?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .message_attributes(REASON_ATTRIBUTE, reason)
            .send()
            .await
            .map_err(sdk_error("SendMessage"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use webhooks_core::event::Event;
    use webhooks_core::ids::{DeliveryId, EventId, WebhookId};
    use webhooks_core::log::{DeliveryLogRecord, Outcome};
    use webhooks_core::time::Timestamp;

    struct Fixed(Timestamp);

    impl Clock for Fixed {
        fn now(&self) -> Timestamp {
            self.0
        }
    }

    fn now() -> Timestamp {
        Timestamp::parse("2026-11-28T12:00:00Z").unwrap()
    }

    fn queue() -> SqsTaskQueue {
        let config = aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .build();
        SqsTaskQueue::new(
            Client::from_conf(config),
            "http://q",
            Arc::new(Fixed(now())),
        )
    }

    fn event(data: serde_json::Value) -> Event {
        Event {
            id: EventId::from_trusted("evt_1"),
            event_type: "report.publish_status".into(),
            client_id: "acme".into(),
            occurred_at: now(),
            data,
        }
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
    fn a_short_delay_is_the_message_delay_alone() {
        let mut task = DeliveryTask::first(
            event(serde_json::json!({})),
            WebhookId::from_trusted("wh_1"),
        );
        task.not_before = Some(now().plus(Duration::from_secs(300)));
        let (body, delay) = queue().message(&task, Duration::from_secs(300));
        assert_eq!(delay, 300);
        let sent = serde_json::from_str::<TaskMessage>(&body)
            .unwrap()
            .into_task();
        assert_eq!(sent, task);
    }

    #[test]
    fn a_delay_past_15_minutes_waits_900_s_and_carries_its_time() {
        let task = DeliveryTask::first(
            event(serde_json::json!({})),
            WebhookId::from_trusted("wh_1"),
        );
        let (body, delay) = queue().message(&task, Duration::from_secs(2 * 3600));
        assert_eq!(delay, 900);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["type"], "delivery_v1");
        assert_eq!(json["not_before"], "2026-11-28T14:00:00.000Z");
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

    #[test]
    fn a_dead_letter_keeps_its_body_and_a_short_reason() {
        let (body, reason) = dead_letter("{\"not\": json", &"r".repeat(5000));
        assert_eq!(body, "{\"not\": json");
        assert_eq!(reason.len(), MAX_REASON_BYTES);
    }

    #[test]
    fn an_oversized_dead_letter_is_cut_to_fit_and_says_so() {
        let huge = "é".repeat(MAX_MESSAGE_BYTES);
        let (body, reason) = dead_letter(&huge, "exceeds 256 KiB");
        assert!(body.len() + reason.len() + REASON_ATTRIBUTE.len() + 6 <= MAX_MESSAGE_BYTES);
        assert!(huge.starts_with(&body));
        assert!(
            reason.starts_with("exceeds 256 KiB (body cut from"),
            "{reason}"
        );
        let (body, reason) = dead_letter("", "empty");
        assert!(!body.is_empty());
        assert!(reason.contains("empty"));
    }
}
