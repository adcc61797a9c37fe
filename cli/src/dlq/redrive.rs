//! `webhooks dlq redrive`: the messages of a dead-letter queue moved back to their
//! source queue, each sent there before it is deleted from the DLQ, so a message is
//! never lost (a crash between the two leaves a copy in both). Refused bodies (with
//! a `reason` attribute) stay unless asked for; `reason` itself is never sent on, and
//! the other attributes and the `MessageGroupId` are kept.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Serialize;
use webhooks_aws::REASON_ATTRIBUTE;

use super::port::{receipt, reveal_all, DlqMessage, Outgoing, Queues, Receipt};
use crate::error::CliError;

/// How long a received message stays hidden: longer than a run, so no message is
/// received twice in one run. Skipped and unsent ones are made visible at the end.
pub const HIDE_FOR: Duration = Duration::from_secs(120);
/// A run stops receiving after this long (then says to run it again)...
const RUN_FOR: Duration = Duration::from_secs(60);
/// ...or after this many receives of up to 10 messages.
const MAX_RECEIVES: usize = 1_000;
/// SQS's limit on a deduplication id.
const MAX_DEDUPLICATION_ID: usize = 128;

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The queue the messages went to.
    pub source: String,
    /// Sent to the source queue (and deleted from the DLQ, but for `not_deleted`).
    pub moved: usize,
    /// Left in the DLQ because they carry a `reason` (refused bodies).
    pub skipped: usize,
    /// Not sent, left in the DLQ.
    pub failed: usize,
    /// Sent, but their delete from the DLQ failed: a copy is in both queues.
    pub not_deleted: usize,
    /// Whether the DLQ was drained (false: a bound or an error stopped the run).
    pub complete: bool,
    /// Why messages failed, one line each (not in the JSON).
    #[serde(skip)]
    pub errors: Vec<String>,
}

/// The run's report, and the error that stopped it early, if one did.
#[derive(Debug)]
pub struct Redriven {
    pub report: Report,
    pub error: Option<CliError>,
}

/// Moves the messages of `dlq` to `source`. `nonce` makes this run's FIFO
/// deduplication ids (a retry of the same message in another run is not deduplicated
/// away, which would lose it).
pub async fn redrive<Q: Queues>(
    queues: &Q,
    dlq: &str,
    source: &str,
    include_refused: bool,
    nonce: &str,
) -> Redriven {
    let started = Instant::now();
    let fifo = source.ends_with(".fifo");
    let mut report = Report {
        source: source.to_owned(),
        ..Report::default()
    };
    // Skipped and unsent messages, made visible again at the end.
    let mut to_reveal: HashMap<String, Receipt> = HashMap::new();
    let mut error = None;
    for _ in 0..MAX_RECEIVES {
        if started.elapsed() >= RUN_FOR {
            break;
        }
        let batch = match queues.receive(dlq, 10, HIDE_FOR).await {
            Ok(batch) => batch,
            Err(e) => {
                error = Some(e);
                break;
            }
        };
        if batch.is_empty() {
            report.complete = true;
            break;
        }
        let mut outgoing = Vec::new();
        let mut receipts = HashMap::new();
        for message in batch {
            if let Some(seen) = to_reveal.get_mut(&message.id) {
                *seen = receipt(&message);
            } else if message.reason.is_some() && !include_refused {
                report.skipped += 1;
                to_reveal.insert(message.id.clone(), receipt(&message));
            } else {
                match outgoing_for(&message, fifo, nonce) {
                    Ok(out) => {
                        receipts.insert(message.id.clone(), receipt(&message));
                        outgoing.push(out);
                    }
                    Err(why) => {
                        report.failed += 1;
                        report.errors.push(why);
                        to_reveal.insert(message.id.clone(), receipt(&message));
                    }
                }
            }
        }
        if outgoing.is_empty() {
            continue;
        }
        let unsent = match queues.send(source, &outgoing).await {
            Ok(unsent) => unsent,
            Err(e) => {
                // Perhaps sent, perhaps not: kept, to be sent again (a duplicate at worst).
                report.failed += receipts.len();
                to_reveal.extend(receipts);
                error = Some(e);
                break;
            }
        };
        for failure in unsent {
            if let Some(kept) = receipts.remove(&failure.id) {
                report.failed += 1;
                report
                    .errors
                    .push(format!("{}: {}", failure.id, failure.message));
                to_reveal.insert(failure.id, kept);
            }
        }
        let sent: Vec<Receipt> = receipts.into_values().collect();
        report.moved += sent.len();
        match queues.delete(dlq, &sent).await {
            Ok(undeleted) => {
                report.not_deleted += undeleted.len();
                report.errors.extend(
                    undeleted
                        .into_iter()
                        .map(|f| format!("{} (sent, not deleted): {}", f.id, f.message)),
                );
            }
            Err(e) => {
                // Sent and still in the DLQ, hidden: not revealed, so a second run
                // right away does not send them again.
                report.not_deleted += sent.len();
                error = Some(e);
                break;
            }
        }
    }
    let receipts: Vec<Receipt> = to_reveal.into_values().collect();
    if let Err(e) = reveal_all(queues, dlq, &receipts).await {
        error.get_or_insert(e);
    }
    Redriven { report, error }
}

/// The message as it goes back: its body, its attributes but `reason`, its group;
/// on a FIFO source a deduplication id of this run.
fn outgoing_for(message: &DlqMessage, fifo: bool, nonce: &str) -> Result<Outgoing, String> {
    let mut attributes = message.attributes.clone();
    attributes.remove(REASON_ATTRIBUTE);
    if fifo && message.group_id.is_none() {
        return Err(format!(
            "{}: has no MessageGroupId, which the FIFO source queue needs",
            message.id
        ));
    }
    let deduplication_id = fifo.then(|| {
        let mut id = format!("{nonce}-{}", message.id);
        id.truncate(MAX_DEDUPLICATION_ID);
        id
    });
    Ok(Outgoing {
        id: message.id.clone(),
        body: message.body.clone(),
        attributes,
        group_id: message.group_id.clone(),
        deduplication_id,
    })
}

#[cfg(test)]
#[path = "redrive_tests.rs"]
mod tests;
