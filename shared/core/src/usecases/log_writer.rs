//! The log-writer use case: delivery-log records from the logs queue into the log
//! store. Unreadable records are reported back (SQS moves them to the logs DLQ after
//! its receive limit); a store failure fails only the records it concerned.

use tracing::{error, info};

use crate::domain::delivery_log::LoggedAttempt;
use crate::ports::{LogAppender, QueueMessage};

/// Writes a batch; returns the message ids SQS should deliver again.
pub async fn write_batch(store: &dyn LogAppender, records: Vec<QueueMessage>) -> Vec<String> {
    let mut failed = Vec::new();
    let mut attempts = Vec::with_capacity(records.len());
    let mut ids = Vec::with_capacity(records.len());
    for record in records {
        match serde_json::from_str::<LoggedAttempt>(&record.body) {
            Ok(attempt) => {
                attempts.push(attempt);
                ids.push(record.message_id);
            }
            Err(error) => {
                error!(message_id = %record.message_id, error = %error, "unreadable delivery-log record");
                failed.push(record.message_id);
            }
        }
    }
    if attempts.is_empty() {
        return failed;
    }
    match store.append(&attempts).await {
        Ok(()) => info!(records = attempts.len(), "delivery-log records written"),
        Err(error) => {
            error!(records = attempts.len(), error = %error, "writing delivery-log records failed; will retry");
            failed.extend(ids);
        }
    }
    failed
}
