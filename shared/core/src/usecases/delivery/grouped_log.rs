//! A [`LogSink`] that sends the attempts recorded at about the same time together:
//! the delivery function's fan-out records up to 100 attempts at once, and one
//! `SendMessageBatch` of 10 costs what one `SendMessage` does. Each caller still hears
//! back only once its own attempt was sent, and only of its own failure.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::oneshot;

use crate::domain::delivery_log::LoggedAttempt;
use crate::ports::{LogSink, StoreError};

type Waiting = Vec<(LoggedAttempt, oneshot::Sender<Result<(), StoreError>>)>;

pub struct GroupedLogSink {
    inner: Arc<dyn LogSink>,
    /// The most attempts sent in one `record_many`.
    max_group: usize,
    /// How long the first attempt of a group waits for others to join it.
    linger: Duration,
    waiting: Arc<Mutex<Waiting>>,
}

impl GroupedLogSink {
    pub fn new(inner: Arc<dyn LogSink>, max_group: usize, linger: Duration) -> Self {
        Self {
            inner,
            max_group: max_group.max(1),
            linger,
            waiting: Arc::new(Mutex::new(Vec::new())),
        }
    }
}

/// Sends what is waiting, at most `max_group` at a time, and answers each caller.
async fn send_waiting(inner: &dyn LogSink, waiting: &Mutex<Waiting>, max_group: usize) {
    loop {
        let group: Waiting = {
            let mut waiting = waiting.lock().unwrap_or_else(PoisonError::into_inner);
            let take = waiting.len().min(max_group);
            waiting.drain(..take).collect()
        };
        if group.is_empty() {
            return;
        }
        let (attempts, replies): (Vec<_>, Vec<_>) = group.into_iter().unzip();
        let mut results = inner.record_many(&attempts).await.into_iter();
        for reply in replies {
            let result = results.next().unwrap_or_else(|| {
                Err(StoreError::backend(
                    "the log sink answered for fewer attempts",
                ))
            });
            let _ = reply.send(result);
        }
    }
}

#[async_trait]
impl LogSink for GroupedLogSink {
    async fn record(&self, attempt: &LoggedAttempt) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        let (first, full) = {
            let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
            waiting.push((attempt.clone(), reply));
            (waiting.len() == 1, waiting.len() >= self.max_group)
        };
        if full {
            // A full group leaves at once, sent by the caller that filled it.
            send_waiting(self.inner.as_ref(), &self.waiting, self.max_group).await;
        } else if first {
            // The first of a group makes sure it leaves after `linger`, even if no
            // one else comes (a task of its own: it must not depend on this caller).
            let inner = Arc::clone(&self.inner);
            let waiting = Arc::clone(&self.waiting);
            let (max_group, linger) = (self.max_group, self.linger);
            tokio::spawn(async move {
                tokio::time::sleep(linger).await;
                send_waiting(inner.as_ref(), &waiting, max_group).await;
            });
        }
        answer
            .await
            .unwrap_or_else(|_| Err(StoreError::backend("the log record was never sent")))
    }
}

#[cfg(test)]
mod tests {
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
