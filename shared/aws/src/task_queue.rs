//! The retry queue: delivery tasks as SQS messages with `DelaySeconds`, chained past
//! 15 minutes, each in the message group of its webhook.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::operation::send_message::builders::SendMessageFluentBuilder;
use aws_sdk_sqs::Client;
use webhooks_core::domain::delivery_log::LoggedAttempt;
use webhooks_core::domain::task::{DeliveryTask, TaskMessage};
use webhooks_core::domain::time::Clock;
use webhooks_core::ports::{StoreError, TaskQueue};

use crate::batch_send::{send_in_batches, BatchEntry};
use crate::error::sdk_error;
use crate::limits::{delay_seconds, needs_chaining, MAX_MESSAGE_BYTES};
use crate::message_size::too_large;

/// [`TaskQueue`] on the retry queue. A delay up to 15 minutes is the message's
/// `DelaySeconds`; a longer one also sets the task's `not_before`, and the delivery
/// function puts a task that arrives early back for the remainder
/// (`Dispatcher::run_task`), 15 minutes at a time.
///
/// Every task is sent with `MessageGroupId` = its webhook id: on a standard queue
/// that makes SQS a fair queue, which serves the tasks of quiet webhooks first when
/// one webhook's backlog (a slow or failing receiver) holds most of the consumers
/// (docs/storage.md). Tasks of one webhook still run in parallel: no FIFO order.
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

    /// The `SendMessage` request of a task enqueued with `delay`, ready to send: its
    /// body, its `DelaySeconds` and its message group (the webhook id). A task over
    /// SQS's message limit is refused here, before anything is sent.
    fn send_request(
        &self,
        task: &DeliveryTask,
        delay: Duration,
    ) -> Result<SendMessageFluentBuilder, StoreError> {
        let entry = self.entry(task, delay)?;
        Ok(self
            .client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(entry.body)
            .set_delay_seconds(entry.delay_seconds)
            .set_message_group_id(entry.group))
    }

    /// What one task's message carries, in a `SendMessage` or a batch entry alike.
    fn entry(&self, task: &DeliveryTask, delay: Duration) -> Result<BatchEntry, StoreError> {
        let mut message = task.clone();
        if needs_chaining(delay) {
            message.not_before = Some(self.clock.now().plus(delay));
        }
        let body = TaskMessage::from(message).to_json();
        if body.len() > MAX_MESSAGE_BYTES {
            return Err(too_large(
                "SendMessage",
                &format!("the task of delivery {}", task.delivery_id),
                body.len(),
            ));
        }
        Ok(BatchEntry {
            body,
            delay_seconds: Some(delay_seconds(delay)),
            group: Some(task.webhook_id.as_str().to_owned()),
        })
    }
}

#[async_trait]
impl TaskQueue for SqsTaskQueue {
    async fn enqueue(&self, task: &DeliveryTask, delay: Duration) -> Result<(), StoreError> {
        self.send_request(task, delay)?
            .send()
            .await
            .map_err(sdk_error("SendMessage"))?;
        Ok(())
    }

    /// `SendMessageBatch`, 10 tasks a call, each with its own delay and group; only
    /// the tasks that could not be sent fail.
    async fn enqueue_many(
        &self,
        tasks: &[(DeliveryTask, Duration)],
    ) -> Vec<Result<(), StoreError>> {
        let mut results: Vec<Result<(), StoreError>> = Vec::with_capacity(tasks.len());
        let mut entries = Vec::with_capacity(tasks.len());
        for (index, (task, delay)) in tasks.iter().enumerate() {
            match self.entry(task, *delay) {
                Ok(entry) => {
                    entries.push((index, entry));
                    results.push(Ok(()));
                }
                Err(error) => results.push(Err(error)),
            }
        }
        for (index, why) in send_in_batches(&self.client, &self.queue_url, &entries).await {
            if let Some(result) = results.get_mut(index) {
                *result = Err(StoreError::backend(why));
            }
        }
        results
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

    fn task(webhook: &str) -> DeliveryTask {
        DeliveryTask::first(
            event(serde_json::json!({})),
            WebhookId::from_trusted(webhook),
        )
    }

    /// What the request carries: its queue, body, `DelaySeconds` and `MessageGroupId`.
    fn sent(
        request: &SendMessageFluentBuilder,
    ) -> (Option<&str>, String, Option<i32>, Option<&str>) {
        let input = request.as_input();
        (
            input.get_queue_url().as_deref(),
            input.get_message_body().clone().unwrap_or_default(),
            *input.get_delay_seconds(),
            input.get_message_group_id().as_deref(),
        )
    }

    #[test]
    fn given_a_short_delay_when_a_task_is_enqueued_then_it_waits_that_long_in_its_webhooks_group() {
        let mut task = task("wh_1");
        task.not_before = Some(now().plus(Duration::from_secs(300)));
        let request = queue()
            .send_request(&task, Duration::from_secs(300))
            .unwrap();
        let (queue_url, body, delay, group) = sent(&request);
        assert_eq!(queue_url, Some("http://q"));
        assert_eq!(delay, Some(300));
        assert_eq!(group, Some("wh_1"));
        let sent = serde_json::from_str::<TaskMessage>(&body)
            .unwrap()
            .into_task();
        assert_eq!(sent, Some(task));
    }

    #[test]
    fn given_a_delay_past_15_minutes_when_a_task_is_enqueued_then_it_waits_900_s_and_carries_its_time(
    ) {
        let request = queue()
            .send_request(&task("wh_1"), Duration::from_secs(2 * 3600))
            .unwrap();
        let (_, body, delay, group) = sent(&request);
        assert_eq!(delay, Some(900));
        assert_eq!(group, Some("wh_1"));
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["type"], "delivery_v1");
        assert_eq!(json["not_before"], "2026-11-28T14:00:00.000Z");
    }

    #[test]
    fn given_tasks_of_two_webhooks_when_enqueued_at_once_then_each_is_in_its_own_message_group() {
        let queue = queue();
        let groups: Vec<Option<String>> = ["wh_01HZY0000000000000000000AA", "wh_2"]
            .into_iter()
            .map(|webhook| {
                let request = queue.send_request(&task(webhook), Duration::ZERO).unwrap();
                assert_eq!(*request.as_input().get_delay_seconds(), Some(0));
                request.as_input().get_message_group_id().clone()
            })
            .collect();
        assert_eq!(
            groups,
            [
                Some("wh_01HZY0000000000000000000AA".to_owned()),
                Some("wh_2".to_owned())
            ]
        );
    }

    #[test]
    fn given_a_task_over_the_message_limit_when_enqueued_then_it_is_refused_before_sending() {
        let mut task = task("wh_1");
        task.event = event(serde_json::json!({"blob": "x".repeat(MAX_MESSAGE_BYTES)}));
        let error = queue()
            .send_request(&task, Duration::ZERO)
            .expect_err("a task over 256 KiB is refused");
        assert!(error.to_string().contains("message limit"), "{error}");
    }
}
