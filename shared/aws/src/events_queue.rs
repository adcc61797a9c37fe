//! The producer's side of the events queue: [`EventSink`] on SQS, for `webhooks send
//! --queue-url`. The message body is the event in the producer format (`docs/events.md`),
//! with its `id` and `occurred_at` filled in, so what the delivery function
//! reads back is the event that was sent.

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use webhooks_core::domain::event::Event;
use webhooks_core::ports::{EventSink, StoreError};

use crate::error::{mapping_error, sdk_error, AwsError};
use crate::limits::MAX_MESSAGE_BYTES;

/// [`EventSink`] on the service's SQS events queue.
#[derive(Clone, Debug)]
pub struct SqsEventSink {
    client: Client,
    queue_url: String,
}

impl SqsEventSink {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }
}

/// The message body of `event`: refused, without sending, when SQS would refuse it.
pub(crate) fn event_message(event: &Event) -> Result<String, StoreError> {
    let body = serde_json::to_string(event).map_err(mapping_error("SendMessage"))?;
    if body.len() > MAX_MESSAGE_BYTES {
        return Err(AwsError::new(
            "SendMessage",
            format!(
                "the event is {} bytes of JSON, over SQS's {MAX_MESSAGE_BYTES}-byte message limit",
                body.len()
            ),
        )
        .into());
    }
    Ok(body)
}

#[async_trait]
impl EventSink for SqsEventSink {
    async fn ingest(&self, event: &Event) -> Result<(), StoreError> {
        let body = event_message(event)?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .send()
            .await
            .map_err(sdk_error("SendMessage"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use webhooks_core::domain::ids::EventId;
    use webhooks_core::domain::time::Timestamp;

    fn event(data: serde_json::Value) -> Event {
        Event {
            id: EventId::from_producer("evt_1").unwrap(),
            event_type: "report.publish_status".into(),
            client_id: "acme".into(),
            occurred_at: Timestamp::from_unix_millis(1_795_000_000_000),
            data,
        }
    }

    #[test]
    fn the_message_is_the_event_the_service_parses_back() {
        // Given an event with its id and time
        let sent = event(json!({"report_id": "r-42"}));

        // When it becomes a message and the service parses that message
        let body = event_message(&sent).unwrap();
        let read = Event::parse(
            body.as_bytes(),
            || panic!("the id was sent"),
            Timestamp::from_unix_millis(0),
        )
        .unwrap();

        // Then it is the same event
        assert_eq!(read, sent);
    }

    #[test]
    fn an_event_over_the_message_limit_is_refused_before_sending() {
        // Given an event whose JSON is over 256 KiB
        let big = event(json!({"blob": "x".repeat(MAX_MESSAGE_BYTES)}));

        // When it becomes a message, then it is refused, saying why
        let error = event_message(&big).unwrap_err().to_string();
        assert!(
            error.contains("over SQS's 262144-byte message limit"),
            "{error}"
        );
    }
}
