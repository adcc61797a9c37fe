//! `webhooks dlq list`: the messages of a dead-letter queue, read without removing
//! them. SQS cannot peek, so each message is received (hidden meanwhile, which pages
//! through the queue) and made visible again at the end; each listing counts as one
//! receive of each message shown.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use super::port::{receipt, reveal_all, DlqMessage, Queues, Receipt};
use crate::error::CliError;

/// How long a listed message stays hidden if the listing is cut short (a crash): it
/// is made visible again as soon as the listing ends.
pub const HIDE_FOR: Duration = Duration::from_secs(30);
/// A listing stops receiving after this long, whatever it found.
const LIST_FOR: Duration = Duration::from_secs(20);
/// Receives beyond `limit / 10` allowed for duplicates and short answers.
const EXTRA_RECEIVES: usize = 5;

/// Up to `limit` distinct messages of `dlq`, oldest receive first; every message
/// received is visible again afterwards.
pub async fn list<Q: Queues>(
    queues: &Q,
    dlq: &str,
    limit: usize,
) -> Result<Vec<DlqMessage>, CliError> {
    let started = Instant::now();
    let mut found: Vec<DlqMessage> = Vec::new();
    let mut received: Vec<Receipt> = Vec::new();
    let mut ids = HashSet::new();
    let mut failure = None;
    for _ in 0..limit.div_ceil(10) + EXTRA_RECEIVES {
        if found.len() >= limit || started.elapsed() >= LIST_FOR {
            break;
        }
        let want = (limit - found.len()).min(10);
        let batch = match queues.receive(dlq, want as i32, HIDE_FOR).await {
            Ok(batch) if batch.is_empty() => break,
            Ok(batch) => batch,
            Err(error) => {
                failure = Some(error);
                break;
            }
        };
        for message in batch {
            received.push(receipt(&message));
            if found.len() < limit && ids.insert(message.id.clone()) {
                found.push(message);
            }
        }
    }
    let revealed = reveal_all(queues, dlq, &received).await;
    match failure {
        Some(error) => Err(error),
        None => revealed.map(|()| found),
    }
}
