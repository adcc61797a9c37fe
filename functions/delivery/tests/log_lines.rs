//! The delivery function's log lines, captured as JSON: every line of an invocation
//! names its request id, and a failed attempt's names its record and ids. In a test
//! binary of its own: `tracing` decides once per call site whether anyone listens,
//! and a test on another thread without a subscriber could make that decision for
//! this one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use lambda_runtime::Context;
use tracing::Instrument;
use webhooks_core::domain::time::Clock;
use webhooks_core::ports::WebhookRegistry;
use webhooks_core::testing::fakes::{answer, ManualClock, ScriptedSender};
use webhooks_core::testing::fixtures::{base_time, webhook};
use webhooks_core::testing::memory::{
    MemoryDeadLetters, MemoryLogs, MemorySecretStore, MemoryTaskQueue, MemoryWebhookStore,
};
use webhooks_core::usecases::delivery::{DeliveryPorts, DeliverySettings};
use webhooks_delivery::Delivery;
use webhooks_lambda::capture::CapturedLogs;
use webhooks_lambda::invocation_span;

const TYPE: &str = "report.publish_status";

fn sqs_event(bodies: &[(&str, &str)]) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = bodies
        .iter()
        .map(|(id, body)| {
            let mut message = SqsMessage::default();
            message.message_id = Some((*id).to_owned());
            message.body = Some((*body).to_owned());
            message
        })
        .collect();
    event
}

#[tokio::test]
async fn every_log_line_of_an_invocation_carries_its_request_id_and_a_failure_its_ids() {
    // GIVEN the functions' JSON logs captured, and a webhook whose receiver fails
    let logs = CapturedLogs::default();
    let _default = tracing::subscriber::set_default(logs.subscriber());
    let webhooks = Arc::new(MemoryWebhookStore::default());
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::at(base_time()));
    let ports = DeliveryPorts {
        webhooks: webhooks.clone(),
        secrets: Arc::new(MemorySecretStore::default()),
        queue: Arc::new(MemoryTaskQueue::default()),
        logs: Arc::new(MemoryLogs::default()),
        sender: Arc::new(ScriptedSender::answering([answer(503)])),
        clock,
    };
    let delivery = Delivery::with_ports(
        ports,
        DeliverySettings::default(),
        Arc::new(MemoryDeadLetters::default()),
        "webhooks-test",
    );
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
