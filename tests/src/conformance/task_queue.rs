//! What every [`TaskQueue`] must do. The port only enqueues, so the suite also needs
//! a way to take the tasks that are due: each adapter's runner provides a
//! [`QueueProbe`] (the local queue claims and completes jobs; SQS receives and
//! deletes messages, polling until it has seen what is due).

use std::time::Duration;

use async_trait::async_trait;
use webhooks_core::domain::delivery_log::{LoggedAttempt, Outcome};
use webhooks_core::domain::event::Event;
use webhooks_core::domain::ids::{DeliveryId, EventId, WebhookId};
use webhooks_core::domain::task::DeliveryTask;
use webhooks_core::ports::{StoreError, TaskQueue};

use super::support::{at, attempt, base_time};

/// A task queue the suite can also read from.
#[async_trait]
pub trait QueueProbe: TaskQueue {
    /// Takes (removes) every task due now.
    async fn take_due(&self) -> Result<Vec<DeliveryTask>, StoreError>;
    /// Takes (removes) every parked log record that is due now.
    async fn take_parked(&self) -> Result<Vec<LoggedAttempt>, StoreError>;
}

/// Expands to one `#[tokio::test]` per case below; see [`crate::conformance`].
#[macro_export]
macro_rules! task_queue_conformance {
    ($probe:expr) => {
        $crate::conformance_tests!(
            task_queue,
            $probe,
            [
                an_enqueued_task_comes_back_intact,
                a_delayed_task_is_not_due_at_once,
                a_parked_log_record_comes_back_intact,
                tasks_enqueued_together_each_keep_their_delay,
            ]
        );
    };
}

fn task(tag: &str) -> DeliveryTask {
    let event = Event {
        id: EventId::from_trusted(format!("evt_{tag}_{}", EventId::generate())),
        event_type: "report.publish_status".into(),
        client_id: "acme".into(),
        occurred_at: base_time(),
        data: serde_json::json!({"report_id": "r-42", "status": "published"}),
    };
    DeliveryTask::first(event, WebhookId::generate())
}

pub async fn an_enqueued_task_comes_back_intact(queue: &dyn QueueProbe) {
    // GIVEN a retry task well into a redelivery series
    let mut retry = task("intact");
    retry.attempt = 5;
    retry.series_start = 4;
    retry.not_before = Some(at(0));
    // WHEN it is enqueued without delay
    queue
        .enqueue(&retry, Duration::ZERO)
        .await
        .expect("enqueue");
    // THEN it is due, exactly as enqueued
    let due = queue.take_due().await.expect("take");
    let found: Vec<_> = due
        .into_iter()
        .filter(|t| t.delivery_id == retry.delivery_id)
        .collect();
    assert_eq!(found, vec![retry]);
}

pub async fn a_delayed_task_is_not_due_at_once(queue: &dyn QueueProbe) {
    // GIVEN a task delayed by an hour and one without delay
    let later = task("later");
    let now = task("now");
    queue
        .enqueue(&later, Duration::from_secs(3600))
        .await
        .expect("enqueue");
    queue.enqueue(&now, Duration::ZERO).await.expect("enqueue");
    // WHEN the due tasks are taken
    let due = queue.take_due().await.expect("take");
    // THEN the undelayed one is there and the delayed one is not
    assert!(due.iter().any(|t| t.delivery_id == now.delivery_id));
    assert!(!due.iter().any(|t| t.delivery_id == later.delivery_id));
}

pub async fn a_parked_log_record_comes_back_intact(queue: &dyn QueueProbe) {
    // GIVEN the log record of an attempt whose log write failed
    let parked = attempt(
        &WebhookId::generate(),
        &DeliveryId::from_trusted(format!("dlv_{}", EventId::generate())),
        3,
        Outcome::Retrying,
        at(5),
    );
    // WHEN it is parked on the queue
    queue.park_log(&parked).await.expect("park");
    // THEN it is due at once, exactly as parked, and is not a delivery task
    assert_eq!(queue.take_parked().await.expect("take"), vec![parked]);
}

pub async fn tasks_enqueued_together_each_keep_their_delay(queue: &dyn QueueProbe) {
    // GIVEN 12 tasks (more than one SQS batch), every third delayed by an hour
    let tasks: Vec<(DeliveryTask, Duration)> = (0..12u64)
        .map(|i| {
            let delay = if i % 3 == 0 { 3600 } else { 0 };
            (task(&format!("many{i}")), Duration::from_secs(delay))
        })
        .collect();
    // WHEN they are enqueued in one call
    let results = queue.enqueue_many(&tasks).await;
    // THEN each was accepted, and exactly the undelayed ones are due
    assert_eq!(results.len(), 12);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let due = queue.take_due().await.expect("take");
    for (task, delay) in &tasks {
        let is_due = due.iter().any(|t| t.delivery_id == task.delivery_id);
        assert_eq!(
            is_due,
            delay.is_zero(),
            "{} delayed {delay:?}",
            task.delivery_id
        );
    }
}
