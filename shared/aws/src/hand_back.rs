//! Asking SQS to deliver handed-back records again sooner than their visibility
//! timeout (`ChangeMessageVisibilityBatch`), the queue found from the record's ARN
//! (`GetQueueUrl`, once per queue).

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_sqs::types::ChangeMessageVisibilityBatchRequestEntry;
use aws_sdk_sqs::Client;
use tokio::sync::Mutex;

/// One message to show again after `visible_in`.
#[derive(Clone, Debug)]
pub struct HandBack {
    pub queue_arn: String,
    pub receipt_handle: String,
    pub visible_in: Duration,
}

/// Changes the visibility of handed-back messages. Best effort: a failure is logged,
/// and the message then comes back after the queue's own visibility timeout.
#[derive(Debug)]
pub struct SqsHandBack {
    client: Client,
    urls: Mutex<HashMap<String, String>>,
}

impl SqsHandBack {
    pub fn new(client: Client) -> Self {
        Self {
            client,
            urls: Mutex::new(HashMap::new()),
        }
    }

    pub async fn hand_back(&self, messages: &[HandBack]) {
        let mut by_queue: HashMap<&str, Vec<&HandBack>> = HashMap::new();
        for message in messages {
            by_queue
                .entry(&message.queue_arn)
                .or_default()
                .push(message);
        }
        for (arn, messages) in by_queue {
            let Some(url) = self.url(arn).await else {
                continue;
            };
            for chunk in messages.chunks(10) {
                let entries: Vec<_> = chunk
                    .iter()
                    .enumerate()
                    .filter_map(|(n, message)| {
                        ChangeMessageVisibilityBatchRequestEntry::builder()
                            .id(n.to_string())
                            .receipt_handle(&message.receipt_handle)
                            .visibility_timeout(
                                i32::try_from(message.visible_in.as_secs()).unwrap_or(i32::MAX),
                            )
                            .build()
                            .ok()
                    })
                    .collect();
                let sent = self
                    .client
                    .change_message_visibility_batch()
                    .queue_url(&url)
                    .set_entries(Some(entries))
                    .send()
                    .await;
                match sent {
                    Ok(output) if output.failed().is_empty() => {}
                    Ok(output) => tracing::warn!(
                        queue = arn,
                        failed = output.failed().len(),
                        "some handed-back records keep their visibility timeout"
                    ),
                    Err(error) => {
                        tracing::warn!(queue = arn, error = %aws_sdk_sqs::error::DisplayErrorContext(&error), "handed-back records keep their visibility timeout")
                    }
                }
            }
        }
    }

    /// The queue's URL from its ARN (`arn:aws:sqs:REGION:ACCOUNT:NAME`).
    async fn url(&self, arn: &str) -> Option<String> {
        let mut urls = self.urls.lock().await;
        if let Some(url) = urls.get(arn) {
            return Some(url.clone());
        }
        let mut parts = arn.rsplitn(3, ':');
        let (name, account) = (parts.next()?, parts.next()?);
        let found = self
            .client
            .get_queue_url()
            .queue_name(name)
            .queue_owner_aws_account_id(account)
            .send()
            .await;
        match found {
            Ok(output) => {
                let url = output.queue_url()?.to_owned();
                urls.insert(arn.to_owned(), url.clone());
                Some(url)
            }
            Err(error) => {
                tracing::warn!(queue = arn, error = %aws_sdk_sqs::error::DisplayErrorContext(&error), "cannot find the queue of handed-back records");
                None
            }
        }
    }
}
