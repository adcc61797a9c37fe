//! `webhooks send --queue-url`: the event checked as the service will check it, then
//! put on a deployed stack's SQS events queue. The AWS SDK comes with the `sqs`
//! feature (a default one); `make bench` builds without it.

use serde_json::Value;
use webhooks_core::domain::event::Event;

use super::check::validated;
use crate::error::CliError;
use crate::output;

/// Checks the event as the service will (the service would move a bad one to its DLQ)
/// and sends it with its id and time filled in.
pub async fn send(queue_url: &str, body: &Value) -> Result<(), CliError> {
    check_queue_url("--queue-url", queue_url)?;
    let event = validated(body)?;
    put(queue_url, &event).await?;
    output::emit(&format!("queued {}\n", event.id))
}

#[cfg(feature = "sqs")]
async fn put(queue_url: &str, event: &Event) -> Result<(), CliError> {
    use webhooks_aws::{sdk, AwsClients, SqsEventSink};
    use webhooks_core::ports::EventSink;

    let config = sdk::load_for_queue(queue_url).await;
    sdk::check_usable(&config)
        .await
        .map_err(CliError::runtime)?;
    SqsEventSink::new(AwsClients::new(&config).sqs, queue_url)
        .ingest(event)
        .await
        .map_err(|e| CliError::runtime(format!("could not send the event to {queue_url}: {e}")))
}

#[cfg(not(feature = "sqs"))]
async fn put(_queue_url: &str, _event: &Event) -> Result<(), CliError> {
    Err(CliError::invalid_argument(
        "--queue-url",
        "this build of webhooks has no SQS support (built without the `sqs` feature)",
    ))
}

/// A queue URL given as `flag` must be an http(s) URL with a host.
pub(crate) fn check_queue_url(flag: &'static str, queue_url: &str) -> Result<(), CliError> {
    match reqwest::Url::parse(queue_url) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Ok(()),
        Ok(_) => Err(CliError::invalid_argument(
            flag,
            "must be an http(s) URL, such as one of the stack's queue URL outputs",
        )),
        Err(e) => Err(CliError::invalid_argument(
            flag,
            format!("is not a URL ({e})"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::send::event_body;
    use serde_json::Map;

    #[test]
    fn an_event_for_the_queue_is_checked_and_gets_an_id_and_a_time() {
        // Given a valid event without id or time
        let body = event_body("report.publish_status", "acme", Map::new(), None);

        // When it is checked for the queue
        let event = validated(&body).unwrap();

        // Then it has a new evt_ id and a time
        assert!(event.id.as_str().starts_with("evt_"), "{}", event.id);
        assert_eq!(event.client_id, "acme");
    }

    #[test]
    fn a_refused_event_names_the_flag_to_fix() {
        // Given events the service would refuse, then each error names its flag
        let unknown = validated(&event_body("report.nope", "acme", Map::new(), None)).unwrap_err();
        assert!(
            unknown
                .to_string()
                .starts_with("--type: unknown event type"),
            "{unknown}"
        );
        assert_eq!(unknown.exit_code(), 2);
        let client =
            validated(&event_body("report.publish_status", "", Map::new(), None)).unwrap_err();
        assert!(client.to_string().starts_with("--client: "), "{client}");
        let id = validated(&event_body(
            "report.publish_status",
            "acme",
            Map::new(),
            Some("has space"),
        ))
        .unwrap_err();
        assert!(id.to_string().starts_with("--id: "), "{id}");
        let mut big = Map::new();
        big.insert("blob".into(), Value::from("x".repeat(300 * 1024)));
        let large = validated(&event_body("report.publish_status", "acme", big, None)).unwrap_err();
        assert!(
            large.to_string().starts_with("--data: event is "),
            "{large}"
        );
    }

    #[test]
    fn a_queue_url_must_be_an_http_url() {
        // Given URLs that cannot be a queue's, then the flag is named
        for bad in ["sqs", "ftp://host/q", "mailto:a@b"] {
            let error = check_queue_url("--queue-url", bad).unwrap_err();
            assert!(
                error.to_string().starts_with("--queue-url: "),
                "{bad}: {error}"
            );
        }
        assert!(check_queue_url("--queue-url", "https://sqs.eu-west-1.amazonaws.com/1/q").is_ok());
    }
}
