//! Put an event on the webhooks service's SQS events queue in Rust, with `aws-sdk-sqs`,
//! `serde` and `serde_json`.
//!
//! The queue URL is the stack's `EventsQueueUrl` output; the producer needs
//! `sqs:SendMessage` on it (the stack's `ProducerPolicyArn`). The service reads the
//! body as the event JSON: a body it cannot take (unknown type, no `client_id`, over
//! 256 KiB) goes to its events DLQ with the reason, so check what you can before
//! sending.
//!
//! ```text
//! let sqs = aws_sdk_sqs::Client::new(&aws_config::load_from_env().await);
//! let event = Event {
//!     id: None,
//!     event_type: "report.publish_status".into(),
//!     client_id: "acme".into(),
//!     occurred_at: None,
//!     data: serde_json::json!({"report_id": "r-42", "status": "published"}),
//! };
//! let message_id = send_event(&sqs, &queue_url, &event).await?;
//! ```

use aws_sdk_sqs::Client;
use serde::Serialize;
use serde_json::Value;

/// The largest event body the webhooks service accepts, in bytes (256 KiB).
pub const MAX_EVENT_BYTES: usize = 256 * 1024;

/// An event as the webhooks service reads it from its events queue.
#[derive(Clone, Debug, Serialize)]
pub struct Event {
    /// Your id for the event (letters, digits, `_ - . :`); without one the SQS
    /// message id stands in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// A type from the service's event catalogue, such as `report.publish_status`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The client whose webhooks receive the event.
    pub client_id: String,
    /// When it happened, RFC 3339 (`2026-11-28T12:00:00Z`); without it the time the
    /// service receives the event stands in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<String>,
    /// The event's payload: a JSON object.
    pub data: Value,
}

/// Sends `event` to the events queue at `queue_url`; returns the SQS message id.
/// Refuses, without sending, an event whose JSON is over 256 KiB. Make `sqs` once,
/// say with `aws_sdk_sqs::Client::new(&aws_config::load_from_env().await)`.
pub async fn send_event(
    sqs: &Client,
    queue_url: &str,
    event: &Event,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let body = serde_json::to_string(event)?;
    if body.len() > MAX_EVENT_BYTES {
        return Err(format!(
            "event is {} bytes of JSON; the webhooks service takes at most {MAX_EVENT_BYTES} (256 KiB)",
            body.len()
        )
        .into());
    }
    let sent = sqs
        .send_message()
        .queue_url(queue_url)
        .message_body(body)
        .send()
        .await?;
    Ok(sent.message_id.ok_or("SQS returned no message id")?)
}

#[cfg(test)]
mod tests {
    //! Against the moto emulator, which `scripts/moto.sh run -- cargo test ...` (and
    //! `make test`) starts and names in `AWS_ENDPOINT_URL`. Without it these tests
    //! fail, saying how to start it: they never pass by skipping.

    use std::time::Duration;

    use aws_sdk_sqs::config::{Credentials, Region};
    use aws_sdk_sqs::types::Message;
    use serde_json::json;
    use webhooks_core::domain::event::Event as ServiceEvent;
    use webhooks_core::domain::ids::EventId;
    use webhooks_core::domain::time::Timestamp;

    use super::*;

    const HOW_TO_START: &str = "these tests need the moto emulator: run them with \
    `scripts/moto.sh run -- cargo test -p webhooks-produce-example` (or `make test`), or \
    start it once with `eval \"$(scripts/moto.sh start)\"`";

    /// A client for the emulator and a new queue with a name no other test uses.
    async fn queue() -> (Client, String) {
        let endpoint = std::env::var("AWS_ENDPOINT_URL")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| panic!("AWS_ENDPOINT_URL is not set; {HOW_TO_START}"));
        let sdk = webhooks_aws::sdk::loader()
            .endpoint_url(&endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "moto"))
            .load()
            .await;
        let sqs = Client::new(&sdk);
        let name = EventId::generate()
            .as_str()
            .replace('_', "-")
            .to_lowercase();
        let create = sqs
            .create_queue()
            .queue_name(format!("events-{name}"))
            .send();
        let created = match tokio::time::timeout(Duration::from_secs(10), create).await {
            Ok(Ok(created)) => created,
            Ok(Err(error)) => panic!(
                "the emulator at {endpoint} did not create a queue: {}; {HOW_TO_START}",
                aws_sdk_sqs::error::DisplayErrorContext(&error)
            ),
            Err(_) => panic!("the emulator at {endpoint} did not answer in 10 s; {HOW_TO_START}"),
        };
        let url = created.queue_url.expect("a queue URL");
        (sqs, url)
    }

    /// The messages visible on the queue now (one receive, waiting at most 1 s).
    async fn received(sqs: &Client, queue_url: &str) -> Vec<Message> {
        let receive = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send();
        tokio::time::timeout(Duration::from_secs(10), receive)
            .await
            .expect("a receive within 10 s")
            .expect("receive messages")
            .messages
            .unwrap_or_default()
    }

    /// The one message on the queue, read by the parser the delivery function uses.
    async fn the_one_event(sqs: &Client, queue_url: &str) -> (Message, ServiceEvent) {
        let mut messages = received(sqs, queue_url).await;
        assert_eq!(messages.len(), 1, "{messages:?}");
        let message = messages.remove(0);
        let body = message.body().expect("a body");
        let fallback = || EventId::from_producer("evt_fallback").expect("a valid id");
        let event = ServiceEvent::parse(body.as_bytes(), fallback, Timestamp::from_unix_millis(0))
            .unwrap_or_else(|rejection| panic!("the service refuses {body}: {rejection}"));
        (message, event)
    }

    fn report_published() -> Event {
        Event {
            id: None,
            event_type: "report.publish_status".into(),
            client_id: "acme".into(),
            occurred_at: None,
            data: json!({"report_id": "r-42", "status": "published"}),
        }
    }

    #[tokio::test]
    async fn an_event_arrives_as_the_service_reads_it() {
        let (sqs, queue_url) = queue().await;
        let event = Event {
            id: Some("order-7.published".into()),
            occurred_at: Some("2026-11-28T12:00:00Z".into()),
            ..report_published()
        };

        let message_id = send_event(&sqs, &queue_url, &event).await.unwrap();

        let (message, parsed) = the_one_event(&sqs, &queue_url).await;
        assert_eq!(message.message_id(), Some(message_id.as_str()));
        assert_eq!(parsed.id.as_str(), "order-7.published");
        assert_eq!(parsed.event_type, "report.publish_status");
        assert_eq!(parsed.client_id, "acme");
        assert_eq!(
            parsed.occurred_at,
            Timestamp::parse("2026-11-28T12:00:00Z").unwrap()
        );
        assert_eq!(parsed.data, event.data);
    }

    #[tokio::test]
    async fn the_optional_fields_are_left_out_when_unset() {
        let (sqs, queue_url) = queue().await;

        send_event(&sqs, &queue_url, &report_published())
            .await
            .unwrap();

        let (message, parsed) = the_one_event(&sqs, &queue_url).await;
        let body: Value = serde_json::from_str(message.body().unwrap()).unwrap();
        assert_eq!(
            body,
            json!({"type": "report.publish_status", "client_id": "acme",
                   "data": {"report_id": "r-42", "status": "published"}})
        );
        // The service's stand-ins for the absent fields.
        assert_eq!(parsed.id.as_str(), "evt_fallback");
        assert_eq!(parsed.occurred_at, Timestamp::from_unix_millis(0));
        assert_eq!(parsed.event_type, "report.publish_status");
        assert_eq!(parsed.client_id, "acme");
        assert_eq!(parsed.data, report_published().data);
    }

    #[tokio::test]
    async fn an_event_over_256_kib_is_refused_without_sending() {
        let (sqs, queue_url) = queue().await;
        let event = Event {
            data: json!({"blob": "x".repeat(MAX_EVENT_BYTES)}),
            ..report_published()
        };

        let error = send_event(&sqs, &queue_url, &event).await.unwrap_err();

        assert!(error.to_string().contains("256 KiB"), "{error}");
        assert!(received(&sqs, &queue_url).await.is_empty());
    }

    #[test]
    fn the_limit_is_the_services() {
        assert_eq!(
            MAX_EVENT_BYTES,
            webhooks_core::domain::event::MAX_EVENT_BYTES
        );
    }
}
