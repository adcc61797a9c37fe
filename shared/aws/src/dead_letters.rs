//! A dead-letter queue of refused bodies (the events DLQ for the delivery function,
//! the logs DLQ for the log-writer): SQS messages, with why as the `reason`
//! attribute.

use async_trait::async_trait;
use aws_sdk_sqs::types::MessageAttributeValue;
use aws_sdk_sqs::Client;
use webhooks_core::ports::{DeadLetters, StoreError};

use crate::error::{mapping_error, sdk_error};
use crate::limits::{truncate, MAX_MESSAGE_BYTES, MAX_REASON_BYTES};

/// The DLQ message attribute that says why a body was refused.
pub const REASON_ATTRIBUTE: &str = "reason";

/// [`DeadLetters`] on a DLQ: the refused body as it came, and why as the
/// `reason` string attribute (cut to 1 KiB).
#[derive(Clone, Debug)]
pub struct SqsDeadLetters {
    client: Client,
    queue_url: String,
}

impl SqsDeadLetters {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }
}

/// The DLQ message for a refused body: the body itself, or as much of it as fits
/// beside the reason (SQS counts attributes into the 256 KiB), and the reason, which
/// says when the body was cut or empty.
fn dead_letter(body: &str, reason: &str) -> (String, String) {
    let mut reason = truncate(reason, MAX_REASON_BYTES).to_owned();
    if body.is_empty() {
        // SQS refuses an empty body.
        reason.push_str(" (the body was empty)");
        return ("(empty)".to_owned(), reason);
    }
    // Attribute size: name, data type and value; keep room for the note below.
    let room = MAX_MESSAGE_BYTES - REASON_ATTRIBUTE.len() - "String".len() - reason.len() - 64;
    if body.len() <= room {
        return (body.to_owned(), reason);
    }
    reason.push_str(&format!(" (body cut from {} bytes)", body.len()));
    (truncate(body, room).to_owned(), reason)
}

#[async_trait]
impl DeadLetters for SqsDeadLetters {
    async fn reject(&self, body: &str, reason: &str) -> Result<(), StoreError> {
        let (body, reason) = dead_letter(body, reason);
        let reason = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(reason)
            .build()
            .map_err(mapping_error("SendMessage"))?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .message_attributes(REASON_ATTRIBUTE, reason)
            .send()
            .await
            .map_err(sdk_error("SendMessage"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_letter_keeps_its_body_and_a_short_reason() {
        let (body, reason) = dead_letter("{\"not\": json", &"r".repeat(5000));
        assert_eq!(body, "{\"not\": json");
        assert_eq!(reason.len(), MAX_REASON_BYTES);
    }

    #[test]
    fn an_oversized_dead_letter_is_cut_to_fit_and_says_so() {
        let huge = "é".repeat(MAX_MESSAGE_BYTES);
        let (body, reason) = dead_letter(&huge, "exceeds 256 KiB");
        assert!(body.len() + reason.len() + REASON_ATTRIBUTE.len() + 6 <= MAX_MESSAGE_BYTES);
        assert!(huge.starts_with(&body));
        assert!(
            reason.starts_with("exceeds 256 KiB (body cut from"),
            "{reason}"
        );
        let (body, reason) = dead_letter("", "empty");
        assert!(!body.is_empty());
        assert!(reason.contains("empty"));
    }
}
