//! `SendMessageBatch` for every adapter that sends several messages to one queue at
//! once (the logs queue's records, the retry queue's tasks): runs of at most 10
//! entries and 256 KiB, entries that fail on the service's side sent again (up to
//! three calls, with backoff), and per entry what could not be sent, with why.

use std::time::Duration;

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use aws_sdk_sqs::Client;

use crate::error::AwsError;
use crate::limits::{batches, MAX_BATCH_BYTES, MAX_BATCH_ENTRIES};

/// Calls per `SendMessageBatch` run while entries fail on the service's side.
const BATCH_SEND_TRIES: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// One message of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchEntry {
    pub body: String,
    pub delay_seconds: Option<i32>,
    pub group: Option<String>,
}

impl BatchEntry {
    /// A message with only a body.
    pub fn body(body: String) -> Self {
        Self {
            body,
            delay_seconds: None,
            group: None,
        }
    }

    /// The request entry, its id being `id`.
    pub fn request(&self, id: usize) -> Result<SendMessageBatchRequestEntry, String> {
        SendMessageBatchRequestEntry::builder()
            .id(id.to_string())
            .message_body(&self.body)
            .set_delay_seconds(self.delay_seconds)
            .set_message_group_id(self.group.clone())
            .build()
            .map_err(|error| error.to_string())
    }
}

/// Sends `entries` (each with the caller's index) in runs; returns the indexes that
/// could not be sent, with why. Everything else was sent.
pub async fn send_in_batches(
    client: &Client,
    queue_url: &str,
    entries: &[(usize, BatchEntry)],
) -> Vec<(usize, String)> {
    let sizes: Vec<usize> = entries.iter().map(|(_, e)| e.body.len()).collect();
    let mut failed = Vec::new();
    for run in batches(&sizes, MAX_BATCH_ENTRIES, MAX_BATCH_BYTES) {
        failed.extend(send_run(client, queue_url, &entries[run]).await);
    }
    failed
}

/// One run (entry ids are positions within the run).
async fn send_run(
    client: &Client,
    queue_url: &str,
    run: &[(usize, BatchEntry)],
) -> Vec<(usize, String)> {
    let mut pending: Vec<usize> = (0..run.len()).collect();
    let mut backoff = FIRST_BACKOFF;
    let mut gave_up = Vec::new();
    for try_number in 1..=BATCH_SEND_TRIES {
        let entries = pending.iter().map(|&i| run[i].1.request(i));
        let entries = match entries.collect::<Result<Vec<_>, _>>() {
            Ok(entries) => entries,
            Err(why) => return pending.iter().map(|&i| (run[i].0, why.clone())).collect(),
        };
        let output = match client
            .send_message_batch()
            .queue_url(queue_url)
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
        tracing::debug!(failed = retry.len(), "resending batch entries");
        tokio::time::sleep(backoff).await;
        backoff *= 2;
        pending = retry;
    }
    gave_up
}
