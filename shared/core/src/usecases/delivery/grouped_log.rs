//! The log sink and the task queue of the delivery function, grouped
//! ([`Grouper`]): what concurrent attempts record or queue at about the same time
//! leaves together.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::grouping::{Grouper, SendMany};
use crate::domain::delivery_log::LoggedAttempt;
use crate::domain::task::DeliveryTask;
use crate::ports::{LogSink, StoreError, TaskQueue};

/// A [`LogSink`] whose records leave in groups through the inner sink's `record_many`.
pub struct GroupedLogSink {
    grouper: Grouper<LoggedAttempt>,
}

struct RecordMany(Arc<dyn LogSink>);

#[async_trait]
impl SendMany<LoggedAttempt> for RecordMany {
    async fn send_many(&self, items: &[LoggedAttempt]) -> Vec<Result<(), StoreError>> {
        self.0.record_many(items).await
    }
}

impl GroupedLogSink {
    pub fn new(inner: Arc<dyn LogSink>, max_group: usize, linger: Duration) -> Self {
        Self {
            grouper: Grouper::new(Arc::new(RecordMany(inner)), max_group, linger),
        }
    }
}

#[async_trait]
impl LogSink for GroupedLogSink {
    async fn record(&self, attempt: &LoggedAttempt) -> Result<(), StoreError> {
        self.grouper.send(attempt.clone()).await
    }
}

/// A [`TaskQueue`] whose tasks leave in groups through the inner queue's
/// `enqueue_many` (retries and deferrals of one invocation share `SendMessageBatch`
/// calls). Parked log records pass straight through: they are rare.
pub struct GroupedTaskQueue {
    inner: Arc<dyn TaskQueue>,
    grouper: Grouper<(DeliveryTask, Duration)>,
}

struct EnqueueMany(Arc<dyn TaskQueue>);

#[async_trait]
impl SendMany<(DeliveryTask, Duration)> for EnqueueMany {
    async fn send_many(&self, items: &[(DeliveryTask, Duration)]) -> Vec<Result<(), StoreError>> {
        self.0.enqueue_many(items).await
    }
}

impl GroupedTaskQueue {
    pub fn new(inner: Arc<dyn TaskQueue>, max_group: usize, linger: Duration) -> Self {
        Self {
            grouper: Grouper::new(Arc::new(EnqueueMany(inner.clone())), max_group, linger),
            inner,
        }
    }
}

#[async_trait]
impl TaskQueue for GroupedTaskQueue {
    async fn enqueue(&self, task: &DeliveryTask, delay: Duration) -> Result<(), StoreError> {
        self.grouper.send((task.clone(), delay)).await
    }

    async fn park_log(&self, attempt: &LoggedAttempt) -> Result<(), StoreError> {
        self.inner.park_log(attempt).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::domain::delivery_log::{DeliveryLogRecord, Outcome};
    use crate::domain::ids::{DeliveryId, EventId, WebhookId};
    use crate::domain::time::Timestamp;

    /// Counts its calls; refuses attempts whose number is 13.
    #[derive(Default)]
    struct CountingSink {
        calls: Mutex<Vec<usize>>,
    }

    #[async_trait]
    impl LogSink for CountingSink {
        async fn record(&self, attempt: &LoggedAttempt) -> Result<(), StoreError> {
            Ok(self
                .record_many(std::slice::from_ref(attempt))
                .await
                .remove(0)?)
        }

        async fn record_many(&self, attempts: &[LoggedAttempt]) -> Vec<Result<(), StoreError>> {
            self.calls.lock().unwrap().push(attempts.len());
            attempts
                .iter()
                .map(|a| match a.record.attempt {
                    13 => Err(StoreError::backend("refused")),
                    _ => Ok(()),
                })
                .collect()
        }
    }

    fn attempt(number: u32) -> LoggedAttempt {
        let at = Timestamp::parse("2026-11-28T12:00:00Z").unwrap();
        let (event, webhook) = (EventId::generate(), WebhookId::generate());
        LoggedAttempt {
            record: DeliveryLogRecord {
                delivery_id: DeliveryId::derive(&event, &webhook),
                webhook_id: webhook,
                event_id: event,
                event: "report.publish_status".into(),
                client_id: "acme".into(),
                attempt: number,
                outcome: Outcome::Succeeded,
                status_code: Some(200),
                elapsed_ms: Some(3),
                error: None,
                response_excerpt: None,
                at,
                next_attempt_at: None,
            },
            occurred_at: at,
            data: serde_json::json!({}),
        }
    }

    // Paused time: the linger ends only once every caller is waiting.
    #[tokio::test(start_paused = true)]
    async fn attempts_recorded_together_leave_in_groups_and_each_hears_of_its_own() {
        // GIVEN a grouping sink of at most 10 over a sink that refuses attempt 13
        let inner = Arc::new(CountingSink::default());
        let sink = GroupedLogSink::new(inner.clone(), 10, Duration::from_millis(5));
        // WHEN 25 attempts are recorded at once
        let attempts: Vec<LoggedAttempt> = (1..=25).map(attempt).collect();
        let results = futures::future::join_all(attempts.iter().map(|a| sink.record(a))).await;
        // THEN they left in 3 calls of at most 10, and only attempt 13 failed
        let calls = inner.calls.lock().unwrap().clone();
        assert_eq!(calls.iter().sum::<usize>(), 25, "{calls:?}");
        assert_eq!(calls.len(), 3, "{calls:?}");
        assert!(calls.iter().all(|&n| n <= 10), "{calls:?}");
        for (number, result) in (1..=25).zip(&results) {
            assert_eq!(result.is_err(), number == 13, "attempt {number}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_lone_attempt_leaves_after_the_linger() {
        // GIVEN a grouping sink
        let inner = Arc::new(CountingSink::default());
        let sink = GroupedLogSink::new(inner.clone(), 10, Duration::from_millis(1));
        // WHEN one attempt is recorded and nothing else comes
        let result = tokio::time::timeout(Duration::from_secs(10), sink.record(&attempt(1))).await;
        // THEN it is sent alone
        assert!(matches!(result, Ok(Ok(()))));
        assert_eq!(*inner.calls.lock().unwrap(), vec![1]);
    }
}

#[cfg(test)]
mod task_queue_tests {
    use std::sync::Mutex;

    use super::*;
    use crate::testing::fixtures::{event, webhook};

    /// Counts its batch calls and keeps what it was given.
    #[derive(Default)]
    struct CountingQueue {
        calls: Mutex<Vec<usize>>,
        got: Mutex<Vec<(DeliveryTask, Duration)>>,
    }

    #[async_trait]
    impl TaskQueue for CountingQueue {
        async fn enqueue(&self, task: &DeliveryTask, delay: Duration) -> Result<(), StoreError> {
            self.enqueue_many(&[(task.clone(), delay)]).await.remove(0)
        }

        async fn enqueue_many(
            &self,
            tasks: &[(DeliveryTask, Duration)],
        ) -> Vec<Result<(), StoreError>> {
            self.calls.lock().unwrap().push(tasks.len());
            self.got.lock().unwrap().extend_from_slice(tasks);
            tasks.iter().map(|_| Ok(())).collect()
        }

        async fn park_log(&self, _attempt: &LoggedAttempt) -> Result<(), StoreError> {
            Ok(())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn tasks_queued_together_leave_in_batches_of_ten_with_their_own_delays() {
        // GIVEN a grouping queue of at most 10
        let inner = Arc::new(CountingQueue::default());
        let queue = GroupedTaskQueue::new(inner.clone(), 10, Duration::from_millis(5));
        let hook = webhook("report.publish_status");
        // WHEN 25 retries with different delays are queued at once
        let tasks: Vec<(DeliveryTask, Duration)> = (0..25u64)
            .map(|i| {
                let task =
                    DeliveryTask::first(event("report.publish_status", "acme"), hook.id.clone());
                (task, Duration::from_secs(i))
            })
            .collect();
        let results =
            futures::future::join_all(tasks.iter().map(|(t, d)| queue.enqueue(t, *d))).await;
        // THEN they left in 3 calls, each task with its delay, and every caller heard Ok
        assert!(results.iter().all(Result::is_ok));
        assert_eq!(inner.calls.lock().unwrap().len(), 3);
        let mut got = inner.got.lock().unwrap().clone();
        got.sort_by_key(|(_, delay)| *delay);
        assert_eq!(got, tasks);
    }
}
