//! The delivery function's log lines, captured as JSON: every line of an invocation
//! names its request id, and a failed attempt's names its record and ids. In a test
//! binary of its own: `tracing` decides once per call site whether anyone listens,
//! and a test on another thread without a subscriber could make that decision for
//! this one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{delivery, sqs_event, TYPE};
use std::time::{Duration, Instant};

use lambda_runtime::Context;
use tracing::Instrument;
use webhooks_core::ports::WebhookRegistry;
use webhooks_core::testing::fakes::answer;
use webhooks_core::testing::fixtures::webhook;
use webhooks_lambda::capture::CapturedLogs;
use webhooks_lambda::invocation_span;

#[tokio::test]
async fn every_log_line_of_an_invocation_carries_its_request_id_and_a_failure_its_ids() {
    // GIVEN the functions' JSON logs captured, and a webhook whose receiver fails
    let logs = CapturedLogs::default();
    let _default = tracing::subscriber::set_default(logs.subscriber());
    let (delivery, webhooks) = delivery([answer(503)]);
    let hook = webhook(TYPE);
    webhooks.insert(&hook).await.unwrap();
    let event = format!(r#"{{"id": "evt_1", "type": "{TYPE}", "client_id": "acme"}}"#);
    let mut context = Context::default();
    context.request_id = "8f5c-request".to_owned();
    // WHEN an invocation brings the event and a body that is not JSON
    delivery
        .handle(
            sqs_event(&[("m-1", &event), ("m-2", "not json")]),
            Instant::now() + Duration::from_secs(60),
        )
        .instrument(invocation_span(&context))
        .await;
    // THEN every line names the invocation's request id
    let lines = logs.lines();
    assert!(lines.len() >= 2, "{lines:?}");
    for line in &lines {
        assert_eq!(line["request_id"], "8f5c-request", "{line}");
    }
    // AND the failed attempt's line names its record, webhook, event, delivery and attempt
    let failed = lines
        .iter()
        .find(|l| l["message"] == "delivery failed")
        .expect("a delivery failed line");
    assert_eq!(failed["message_id"], "m-1");
    assert_eq!(failed["webhook_id"], hook.id.as_str());
    assert_eq!(failed["event_id"], "evt_1");
    assert!(failed["delivery_id"].as_str().unwrap().starts_with("dlv_"));
    assert_eq!(failed["attempt"], 1);
    // AND the refused body's line names its record
    let refused = lines
        .iter()
        .find(|l| l["message_id"] == "m-2")
        .expect("a line of the refused record");
    assert!(refused["reason"]
        .as_str()
        .unwrap()
        .contains("not valid JSON"));
}
