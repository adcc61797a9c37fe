//! The log-writer use case: delivery-log records from the logs queue into the log
//! store, and what a failure means for each record. A record that can never be
//! stored (unreadable, or refused by the store on its own) goes to the dead letters
//! with its reason, once; a record the store failed on for a passing reason
//! (throttling, an outage) is reported back so SQS retries only it. Good records are
//! stored whatever their batch-mates are. The stored records are then added to the
//! webhooks' stats, one addition per webhook and bucket of the batch.

mod isolation;

use tracing::{error, info, warn};

use crate::domain::delivery_log::LoggedAttempt;
use crate::domain::health::tally;
use crate::ports::{DeadLetters, LogAppender, QueueMessage, StatsRecorder, StoreError};

/// Writes a batch; returns the message ids SQS should deliver again.
pub async fn write_batch(
    store: &dyn LogAppender,
    stats: &dyn StatsRecorder,
    dead_letters: &dyn DeadLetters,
    records: Vec<QueueMessage>,
) -> Vec<String> {
    let mut failed = Vec::new();
    let mut readable: Vec<(QueueMessage, LoggedAttempt)> = Vec::with_capacity(records.len());
    let mut dead_lettered = 0;
    for record in records {
        match serde_json::from_str::<LoggedAttempt>(&record.body) {
            Ok(attempt) => readable.push((record, attempt)),
            Err(error) => {
                let reason = format!("not a delivery-log record: {error}");
                if refuse(dead_letters, &record, &reason).await {
                    dead_lettered += 1;
                } else {
                    failed.push(record.message_id);
                }
            }
        }
    }
    if readable.is_empty() {
        return failed;
    }
    let attempts: Vec<LoggedAttempt> = readable.iter().map(|(_, a)| a.clone()).collect();
    let results = isolation::append_isolating(store, &attempts).await;
    let mut stored = Vec::with_capacity(readable.len());
    for ((record, attempt), result) in readable.iter().zip(results) {
        match result {
            Ok(()) => stored.push(attempt),
            Err(refusal @ StoreError::Refused(_)) => {
                if refuse(dead_letters, record, &refusal.to_string()).await {
                    dead_lettered += 1;
                } else {
                    failed.push(record.message_id.clone());
                }
            }
            Err(error) => {
                error!(
                    message_id = %record.message_id,
                    delivery_id = %attempt.record.delivery_id,
                    attempt = attempt.record.attempt,
                    error = %error,
                    "writing a delivery-log record failed; will retry",
                );
                failed.push(record.message_id.clone());
            }
        }
    }
    add_to_stats(stats, &stored).await;
    info!(
        written = stored.len(),
        dead_lettered,
        retrying = failed.len(),
        "delivery-log batch done"
    );
    failed
}

/// Adds the stored attempts to the stats. A failure is logged, not retried: the
/// records are stored, and retrying them would add again whatever part of the
/// addition the store did make (the stats then miss these attempts).
async fn add_to_stats(stats: &dyn StatsRecorder, stored: &[&LoggedAttempt]) {
    let update = tally(stored.iter().copied());
    if update.is_empty() {
        return;
    }
    if let Err(error) = stats.record(&update).await {
        error!(
            attempts = stored.len(),
            buckets = update.buckets.len(),
            error = %error,
            "adding a delivery-log batch to the webhook stats failed; its attempts are not counted",
        );
    }
}

/// Sends a record that can never be stored to the dead letters; false when they
/// failed too (the record is then retried, and SQS's redrive is the last resort).
async fn refuse(dead_letters: &dyn DeadLetters, record: &QueueMessage, reason: &str) -> bool {
    match dead_letters.reject(&record.body, reason).await {
        Ok(()) => {
            warn!(
                message_id = %record.message_id,
                reason = %reason,
                bytes = record.body.len(),
                "delivery-log record refused; sent to the dead-letter queue",
            );
            true
        }
        Err(error) => {
            error!(
                message_id = %record.message_id,
                reason = %reason,
                error = %error,
                "delivery-log record refused, and the dead-letter queue failed; will retry",
            );
            false
        }
    }
}

#[cfg(test)]
mod tests;
