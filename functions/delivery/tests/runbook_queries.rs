//! The runbook's Logs Insights queries on the delivery log group (docs/operations.md,
//! blocks fenced `logs-insights delivery`) against the function's real log lines: a
//! fan-out, a failed attempt, a webhook disabled by a 410, a refused body. In a test
//! binary of its own, as `log_lines.rs` says why.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
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
use webhooks_lambda::{invocation_span, runbook};

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

fn runbook_page() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/operations.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[tokio::test]
async fn every_field_and_message_of_the_runbooks_delivery_queries_is_in_the_functions_lines() {
    // GIVEN the function's JSON logs captured, and two webhooks of one event type whose
    // receivers answer 503 and 410 Gone
    let logs = CapturedLogs::default();
    let _default = tracing::subscriber::set_default(logs.subscriber());
    let webhooks = Arc::new(MemoryWebhookStore::default());
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::at(base_time()));
    let ports = DeliveryPorts {
        webhooks: webhooks.clone(),
        secrets: Arc::new(MemorySecretStore::default()),
        queue: Arc::new(MemoryTaskQueue::default()),
        logs: Arc::new(MemoryLogs::default()),
        sender: Arc::new(ScriptedSender::answering([answer(503), answer(410)])),
        clock,
    };
    let delivery = Delivery::with_ports(
        ports,
        DeliverySettings::default(),
        Arc::new(MemoryDeadLetters::default()),
        "webhooks-test",
    );
    webhooks.insert(&webhook(TYPE)).await.unwrap();
    webhooks.insert(&webhook(TYPE)).await.unwrap();
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
    // THEN the runbook has delivery queries, and every field and message they use is
    // in those lines
    let queries = runbook::queries(&runbook_page(), "delivery");
    assert!(queries.len() >= 5, "{queries:?}");
    let lines = logs.lines();
    let problems = runbook::unmatched(&queries, &lines);
    assert!(
        problems.is_empty(),
        "{}\n\nlines: {lines:#?}",
        problems.join("\n\n")
    );
}
