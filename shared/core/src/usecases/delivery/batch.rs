//! One SQS batch for the delivery function. Records from the events queue are events;
//! records from the retry queue are versioned delivery tasks (`"type":
//! "delivery_v…"`); the body tells them apart ([`Work::from_message`]). A body that
//! can never be processed goes to the dead letters with the reason, once; a record
//! that failed for a passing reason is reported back so SQS retries only it.

use std::time::Instant;

use futures::stream::{self, StreamExt};
use tracing::{error, warn, Instrument};

use super::work::{Ran, Work};
use super::Dispatcher;
use crate::ports::{DeadLetters, QueueMessage};

/// Processes a batch; returns the message ids SQS should deliver again.
pub async fn process_batch(
    dispatcher: &Dispatcher,
    dead_letters: &dyn DeadLetters,
    records: Vec<QueueMessage>,
    deadline: Option<Instant>,
) -> Vec<String> {
    let records_len = records.len();
    let results: Vec<Option<String>> = stream::iter(records)
        .map(|record| {
            let span = tracing::info_span!("record", message_id = %record.message_id);
            async move {
                let ok = process_record(dispatcher, dead_letters, &record, deadline).await;
                (!ok).then_some(record.message_id)
            }
            .instrument(span)
        })
        // Every record at once: a slow receiver in one record must not hold the start
        // of the others. Requests stay bounded by the dispatcher's global and
        // per-webhook caps.
        .buffer_unordered(records_len.max(1))
        .collect()
        .await;
    results.into_iter().flatten().collect()
}

/// True when the record is done with (delivered, queued, or dead-lettered).
async fn process_record(
    dispatcher: &Dispatcher,
    dead_letters: &dyn DeadLetters,
    record: &QueueMessage,
    deadline: Option<Instant>,
) -> bool {
    match Work::from_message(record) {
        Ok(work) => match work.run(dispatcher, deadline).await {
            Ran::Done => true,
            Ran::Failed(_) => false,
        },
        Err(reason) => match dead_letters.reject(&record.body, &reason).await {
            Ok(()) => {
                warn!(reason = %reason, bytes = record.body.len(), "record refused; sent to the dead-letter queue");
                true
            }
            Err(error) => {
                error!(reason = %reason, error = %error, "record refused, and the dead-letter queue failed; will retry");
                false
            }
        },
    }
}
