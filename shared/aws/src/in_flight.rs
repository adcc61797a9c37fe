//! How many messages a queue has in flight (`ApproximateNumberOfMessagesNotVisible`),
//! read at most once a minute per container: what decides whether the delivery
//! function may hold early tasks in the retry queue (core's `delivery::hold`).

use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use aws_sdk_sqs::Client;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// How long a read count is used.
const FRESH_FOR: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct InFlightCount {
    client: Client,
    queue_url: String,
    last: Mutex<Option<(Instant, u64)>>,
}

impl InFlightCount {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
            last: Mutex::new(None),
        }
    }

    /// The count read within the last minute, or read now; `None` when it cannot be
    /// read (logged), so that nothing is held on a guess.
    pub async fn get(&self) -> Option<u64> {
        let mut last = self.last.lock().await;
        if let Some((at, count)) = *last {
            if at.elapsed() < FRESH_FOR {
                return Some(count);
            }
        }
        let read = self
            .client
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await;
        let count = match read {
            Ok(output) => output
                .attributes()
                .and_then(|attributes| {
                    attributes.get(&QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
                })
                .and_then(|count| count.parse::<u64>().ok()),
            Err(error) => {
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&error),
                    "could not read the retry queue's in-flight count; early tasks are queued again");
                None
            }
        };
        if let Some(count) = count {
            *last = Some((Instant::now(), count));
        }
        count
    }
}
