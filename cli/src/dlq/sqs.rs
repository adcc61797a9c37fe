//! [`Queues`] on SQS, with the AWS SDK's standard configuration chain and the
//! queue's region (as `send --queue-url`).

use std::time::Duration;

use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{
    BatchResultErrorEntry, ChangeMessageVisibilityBatchRequestEntry,
    DeleteMessageBatchRequestEntry, MessageSystemAttributeName, SendMessageBatchRequestEntry,
};
use aws_sdk_sqs::Client;
use webhooks_aws::{sdk, REASON_ATTRIBUTE};

use super::port::{DlqMessage, Failure, Outgoing, Queues, Receipt};
use crate::error::CliError;

/// A receive waits this long for a first message: a long poll asks every SQS server,
/// so an empty answer means an empty (or all-hidden) queue.
const WAIT_SECONDS: i32 = 1;
/// At most this many pages of `ListDeadLetterSourceQueues`.
const MAX_SOURCE_PAGES: usize = 10;

pub struct SqsQueues {
    client: Client,
}

impl SqsQueues {
    /// A client for the queue's region, with credentials checked now.
    pub async fn connect(queue_url: &str) -> Result<Self, CliError> {
        let config = sdk::load_for_queue(queue_url).await;
        sdk::check_usable(&config)
            .await
            .map_err(CliError::runtime)?;
        Ok(Self {
            client: Client::new(&config),
        })
    }
}

fn failed<'a, E>(call: &'static str, queue: &'a str) -> impl FnOnce(E) -> CliError + 'a
where
    E: std::error::Error + 'static,
{
    move |error| {
        CliError::runtime(format!(
            "SQS {call} on {queue} failed: {}",
            DisplayErrorContext(&error)
        ))
    }
}

fn secs(duration: Duration) -> i32 {
    i32::try_from(duration.as_secs()).unwrap_or(i32::MAX)
}

impl Queues for SqsQueues {
    async fn receive(
        &self,
        queue: &str,
        max: i32,
        hide_for: Duration,
    ) -> Result<Vec<DlqMessage>, CliError> {
        let output = self
            .client
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(max.clamp(1, 10))
            .visibility_timeout(secs(hide_for))
            .wait_time_seconds(WAIT_SECONDS)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .map_err(failed("ReceiveMessage", queue))?;
        Ok(output
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|message| {
                let system = message.attributes.unwrap_or_default();
                let attributes = message.message_attributes.unwrap_or_default();
                Some(DlqMessage {
                    id: message.message_id?,
                    receipt: message.receipt_handle?,
                    body: message.body.unwrap_or_default(),
                    sent_at_ms: system
                        .get(&MessageSystemAttributeName::SentTimestamp)
                        .and_then(|v| v.parse().ok()),
                    receive_count: system
                        .get(&MessageSystemAttributeName::ApproximateReceiveCount)
                        .and_then(|v| v.parse().ok()),
                    reason: attributes
                        .get(REASON_ATTRIBUTE)
                        .and_then(|v| v.string_value.clone()),
                    group_id: system
                        .get(&MessageSystemAttributeName::MessageGroupId)
                        .cloned(),
                    attributes,
                })
            })
            .collect())
    }

    async fn send(&self, queue: &str, messages: &[Outgoing]) -> Result<Vec<Failure>, CliError> {
        let mut entries = Vec::with_capacity(messages.len());
        for message in messages {
            let entry = SendMessageBatchRequestEntry::builder()
                .id(&message.id)
                .message_body(&message.body)
                .set_message_attributes(
                    (!message.attributes.is_empty()).then(|| message.attributes.clone()),
                );
            let entry = entry
                .set_message_group_id(message.group_id.clone())
                .set_message_deduplication_id(message.deduplication_id.clone());
            entries.push(entry.build().map_err(failed("SendMessageBatch", queue))?);
        }
        let output = self
            .client
            .send_message_batch()
            .queue_url(queue)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(failed("SendMessageBatch", queue))?;
        Ok(failures(output.failed))
    }

    async fn delete(&self, queue: &str, receipts: &[Receipt]) -> Result<Vec<Failure>, CliError> {
        if receipts.is_empty() {
            return Ok(Vec::new());
        }
        let entries = receipts
            .iter()
            .map(|r| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(&r.id)
                    .receipt_handle(&r.handle)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(failed("DeleteMessageBatch", queue))?;
        let output = self
            .client
            .delete_message_batch()
            .queue_url(queue)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(failed("DeleteMessageBatch", queue))?;
        Ok(failures(output.failed))
    }

    async fn reveal(&self, queue: &str, receipts: &[Receipt]) -> Result<(), CliError> {
        if receipts.is_empty() {
            return Ok(());
        }
        let entries = receipts
            .iter()
            .map(|r| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(&r.id)
                    .receipt_handle(&r.handle)
                    .visibility_timeout(0)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(failed("ChangeMessageVisibilityBatch", queue))?;
        let output = self
            .client
            .change_message_visibility_batch()
            .queue_url(queue)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(failed("ChangeMessageVisibilityBatch", queue))?;
        match output.failed.first() {
            None => Ok(()),
            Some(first) => Err(CliError::runtime(format!(
                "{} messages of {queue} stay hidden until their visibility timeout ends ({} {})",
                output.failed.len(),
                first.code,
                first.message.clone().unwrap_or_default()
            ))),
        }
    }

    async fn sources(&self, dlq: &str) -> Result<Vec<String>, CliError> {
        let mut urls = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_SOURCE_PAGES {
            let output = self
                .client
                .list_dead_letter_source_queues()
                .queue_url(dlq)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(failed("ListDeadLetterSourceQueues", dlq))?;
            urls.extend(output.queue_urls);
            match output.next_token {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        Ok(urls)
    }
}

/// The entries a batch call could not carry out, as the port reports them.
fn failures(failed: Vec<BatchResultErrorEntry>) -> Vec<Failure> {
    failed
        .into_iter()
        .map(|f| Failure {
            id: f.id,
            message: format!("{} {}", f.code, f.message.unwrap_or_default()),
        })
        .collect()
}
