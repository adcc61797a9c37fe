//! The delivery function on in-memory ports: one SQS invocation in, the partial batch
//! response, the dead letters and the metrics out (its log lines are checked in
//! `tests/log_lines.rs`). The same on moto is in the integration tests
//! (`aws::lambda_functions`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use webhooks_core::domain::time::Clock;
use webhooks_core::ports::WebhookRegistry;
use webhooks_core::testing::fakes::{answer, ManualClock, ScriptedSender};
use webhooks_core::testing::fixtures::{base_time, webhook};
use webhooks_core::testing::memory::{
    MemoryDeadLetters, MemoryLogs, MemorySecretStore, MemoryTaskQueue, MemoryWebhookStore,
};
use webhooks_core::usecases::delivery::{DeliveryPorts, DeliverySettings};

use super::Delivery;

const TYPE: &str = "report.publish_status";
const STACK: &str = "webhooks-test";

struct Function {
    delivery: Delivery,
    webhooks: Arc<MemoryWebhookStore>,
    logs: Arc<MemoryLogs>,
    sender: Arc<ScriptedSender>,
    dead_letters: Arc<MemoryDeadLetters>,
}

fn function(script: Vec<u16>) -> Function {
    let webhooks = Arc::new(MemoryWebhookStore::default());
    let logs = Arc::new(MemoryLogs::default());
    let sender = Arc::new(ScriptedSender::answering(script.into_iter().map(answer)));
    let dead_letters = Arc::new(MemoryDeadLetters::default());
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::at(base_time()));
    let ports = DeliveryPorts {
        webhooks: webhooks.clone(),
        secrets: Arc::new(MemorySecretStore::default()),
        queue: Arc::new(MemoryTaskQueue::default()),
        logs: logs.clone(),
        sender: sender.clone(),
        clock,
    };
    Function {
        delivery: Delivery::with_ports(
            ports,
            DeliverySettings::default(),
            dead_letters.clone(),
            STACK,
        ),
        webhooks,
        logs,
        sender,
        dead_letters,
    }
}

fn sqs_event(bodies: &[(&str, &str)]) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = bodies
        .iter()
        .map(|(id, body)| {
            let mut message = SqsMessage::default();
            message.message_id = Some((*id).to_owned());
            message.body = Some((*body).to_owned());
            message.attributes = HashMap::new();
            message
        })
        .collect();
    event
}

fn later() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

#[tokio::test]
async fn an_event_is_delivered_and_a_bad_record_is_dead_lettered_without_a_retry() {
    // Given a webhook for the event type and a receiver answering 200
    let f = function(vec![200]);
    f.webhooks.insert(&webhook(TYPE)).await.unwrap();
    let event = format!(r#"{{"type": "{TYPE}", "client_id": "acme", "data": {{}}}}"#);
    // When one batch carries the event and a body that is not JSON
    let response = f
        .delivery
        .handle(sqs_event(&[("m-1", &event), ("m-2", "not json")]), later())
        .await;
    // Then nothing is retried, the receiver got one POST, the log one success
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(f.sender.requests().len(), 1);
    assert_eq!(f.logs.all().len(), 1);
    // And the bad body went to the dead letters with its reason
    let rejected = f.dead_letters.rejected();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].0, "not json");
    assert!(
        rejected[0].1.contains("not valid JSON"),
        "{}",
        rejected[0].1
    );
    // And the attempt shows in the metric lines, in the stack's series
    let lines = f.delivery.metric_lines();
    let line: serde_json::Value = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .find(|l: &serde_json::Value| l["Deliveries"] == 1)
        .unwrap_or_else(|| panic!("a Deliveries line: {lines:?}"));
    assert_eq!(line["Stack"], STACK);
}

#[tokio::test]
async fn an_event_nobody_subscribes_to_is_done_with() {
    // Given no webhooks
    let f = function(vec![]);
    let event = format!(r#"{{"type": "{TYPE}", "client_id": "acme"}}"#);
    // When the event arrives
    let response = f
        .delivery
        .handle(sqs_event(&[("m-1", &event)]), later())
        .await;
    // Then it is acknowledged and nothing was sent
    assert!(response.batch_item_failures.is_empty());
    assert!(f.sender.requests().is_empty());
    assert!(f.dead_letters.rejected().is_empty());
}
