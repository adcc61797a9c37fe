//! What `dlq list` and `dlq redrive` ask of SQS, as a trait: the SQS adapter
//! (`sqs.rs`) implements it, and the unit tests a fake that records the order of calls.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_sqs::types::MessageAttributeValue;

use crate::error::CliError;

/// A message received from a dead-letter queue (and hidden while it is handled).
#[derive(Debug, Clone)]
pub struct DlqMessage {
    pub id: String,
    pub receipt: String,
    pub body: String,
    /// `SentTimestamp`, Unix milliseconds.
    pub sent_at_ms: Option<i64>,
    /// `ApproximateReceiveCount`, this receive included.
    pub receive_count: Option<u32>,
    /// The `reason` attribute the service puts on a body it refused.
    pub reason: Option<String>,
    /// `MessageGroupId`, on a FIFO queue.
    pub group_id: Option<String>,
    /// Every message attribute, `reason` included.
    pub attributes: HashMap<String, MessageAttributeValue>,
}

/// A message to send to the source queue.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// Unique within one call: the DLQ message's id.
    pub id: String,
    pub body: String,
    pub attributes: HashMap<String, MessageAttributeValue>,
    /// The message's `MessageGroupId`: a FIFO queue needs it, a standard queue uses it
    /// as a fair queue does (the retry queue's tasks carry their webhook id).
    pub group_id: Option<String>,
    /// A deduplication id of this run, for a FIFO source queue.
    pub deduplication_id: Option<String>,
}

/// A message receipt: the message's id and the handle to delete or reveal it by.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub id: String,
    pub handle: String,
}

/// One entry of a batch call that failed, by the id it was given under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub id: String,
    pub message: String,
}

/// The SQS calls of the two commands; each takes at most 10 messages.
pub(crate) trait Queues {
    /// Up to `max` (1–10) visible messages with their attributes, hidden for `hide_for`.
    async fn receive(
        &self,
        queue: &str,
        max: i32,
        hide_for: Duration,
    ) -> Result<Vec<DlqMessage>, CliError>;

    /// Sends the messages; the ones that were not sent.
    async fn send(&self, queue: &str, messages: &[Outgoing]) -> Result<Vec<Failure>, CliError>;

    /// Deletes the messages; the ones that were not deleted.
    async fn delete(&self, queue: &str, receipts: &[Receipt]) -> Result<Vec<Failure>, CliError>;

    /// Makes the messages visible again at once.
    async fn reveal(&self, queue: &str, receipts: &[Receipt]) -> Result<(), CliError>;

    /// The queues whose redrive policy names `dlq` as their dead-letter queue.
    async fn sources(&self, dlq: &str) -> Result<Vec<String>, CliError>;
}

/// The receipt of a received message.
pub fn receipt(message: &DlqMessage) -> Receipt {
    Receipt {
        id: message.id.clone(),
        handle: message.receipt.clone(),
    }
}

/// [`Queues::reveal`] for any number of receipts, 10 at a time.
pub async fn reveal_all<Q: Queues>(
    queues: &Q,
    queue: &str,
    receipts: &[Receipt],
) -> Result<(), CliError> {
    for chunk in receipts.chunks(10) {
        queues.reveal(queue, chunk).await?;
    }
    Ok(())
}
