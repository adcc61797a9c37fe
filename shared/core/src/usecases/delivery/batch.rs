//! One SQS batch for the delivery function. Records from the events queue are events;
//! records from the retry queue are versioned delivery tasks (`"type":
//! "delivery_v…"`); the body tells them apart ([`Work::from_message`]). A body that
//! can never be processed goes to the dead letters with the reason, once; a record
//! that failed for a passing reason is reported back so SQS retries only it.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use tracing::{debug, error, warn, Instrument};

use super::work::{Ran, Work};
use super::Dispatcher;
use crate::ports::{DeadLetters, QueueMessage};

/// What SQS should do with a batch's records besides deleting the rest.
#[derive(Debug, Default, PartialEq)]
pub struct BatchOutcome {
    /// Failed for a passing reason: deliver again.
    pub retry: Vec<String>,
    /// Delivery tasks received before their time: keep them hidden this long (see
    /// [`hold`](super::hold)).
    pub held: Vec<(String, Duration)>,
}

/// How one record ended.
enum RecordEnd {
    Done,
    Retry,
    Held(Duration),
}

/// Processes a batch: what to deliver again, and what to keep hidden until due. A
/// delivery task received early whose message id is in `holdable` is left in the
/// queue, unattempted; any other early task is queued again with its delay.
pub async fn process_batch(
    dispatcher: &Dispatcher,
    dead_letters: &dyn DeadLetters,
    records: Vec<QueueMessage>,
    deadline: Option<Instant>,
    holdable: &HashSet<String>,
) -> BatchOutcome {
    let records_len = records.len();
    let ends: Vec<(String, RecordEnd)> = stream::iter(records)
        .map(|record| {
            let span = tracing::info_span!("record", message_id = %record.message_id);
            let may_hold = holdable.contains(&record.message_id);
            async move {
                let end = process_record(dispatcher, dead_letters, &record, deadline, may_hold).await;
                (record.message_id, end)
            }
            .instrument(span)
        })
        // Every record at once: a slow receiver in one record must not hold the start
        // of the others. Requests stay bounded by the dispatcher's global and
        // per-webhook caps.
        .buffer_unordered(records_len.max(1))
        .collect()
        .await;
    let mut outcome = BatchOutcome::default();
    for (message_id, end) in ends {
        match end {
            RecordEnd::Done => {}
            RecordEnd::Retry => outcome.retry.push(message_id),
            RecordEnd::Held(wait) => outcome.held.push((message_id, wait)),
        }
    }
    outcome
}

/// Done with (delivered, queued, or dead-lettered), to retry, or to hold.
async fn process_record(
    dispatcher: &Dispatcher,
    dead_letters: &dyn DeadLetters,
    record: &QueueMessage,
    deadline: Option<Instant>,
    may_hold: bool,
) -> RecordEnd {
    match Work::from_message(record) {
        Ok(Work::Delivery(task)) if may_hold => match dispatcher.not_due_for(&task) {
            Some(wait) => {
                debug!(delivery_id = %task.delivery_id, attempt = task.attempt,
                    wait_s = wait.as_secs(), "task not due; held in the queue");
                RecordEnd::Held(wait)
            }
            None => ran(Work::Delivery(task).run(dispatcher, deadline).await),
        },
        Ok(work) => ran(work.run(dispatcher, deadline).await),
        Err(reason) => match dead_letters.reject(&record.body, &reason).await {
            Ok(()) => {
                warn!(reason = %reason, bytes = record.body.len(), "record refused; sent to the dead-letter queue");
                RecordEnd::Done
            }
            Err(error) => {
                error!(reason = %reason, error = %error, "record refused, and the dead-letter queue failed; will retry");
                RecordEnd::Retry
            }
        },
    }
}

fn ran(ran: Ran) -> RecordEnd {
    match ran {
        Ran::Done => RecordEnd::Done,
        Ran::Failed(_) => RecordEnd::Retry,
    }
}
