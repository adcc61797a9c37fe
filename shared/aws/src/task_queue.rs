//! The retry queue: delivery tasks as SQS messages with `DelaySeconds`, chained past
//! 15 minutes.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use webhooks_core::domain::delivery_log::LoggedAttempt;
use webhooks_core::domain::task::{DeliveryTask, TaskMessage};
use webhooks_core::domain::time::Clock;
use webhooks_core::ports::{StoreError, TaskQueue};

use crate::error::sdk_error;
use crate::limits::{delay_seconds, needs_chaining, MAX_MESSAGE_BYTES};
use crate::message_size::too_large;

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

    /// Sends the record to the retry queue as a `delivery_log_v1` message, which the
    /// delivery function writes to the log sink when it comes back.
    async fn park_log(&self, attempt: &LoggedAttempt) -> Result<(), StoreError> {
        let body = TaskMessage::DeliveryLogV1(attempt.clone()).to_json();
        if body.len() > MAX_MESSAGE_BYTES {
            return Err(too_large(
                "SendMessage",
                &format!(
                    "the parked log record of delivery {}",
                    attempt.record.delivery_id
                ),
                body.len(),
            ));
        }
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .send()
            .await
            .map_err(sdk_error("SendMessage"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use webhooks_core::domain::event::Event;
    use webhooks_core::domain::ids::{EventId, WebhookId};
    use webhooks_core::domain::time::Timestamp;

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
        assert_eq!(sent, Some(task));
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
}
