//! The log-writer function on an in-memory log: one SQS invocation in, the partial
//! batch response out. The same on moto is in the integration tests
//! (`aws::lambda_functions`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use webhooks_core::domain::delivery_log::Outcome;
use webhooks_core::domain::ids::{DeliveryId, WebhookId};
use webhooks_core::testing::fakes::PickyLogs;
use webhooks_core::testing::fixtures::{attempt, base_time};
use webhooks_core::testing::memory::{MemoryDeadLetters, MemoryLogs};
use webhooks_core::testing::memory_stats::MemoryStats;

use super::LogWriter;

fn sqs_event(bodies: &[(&str, String)]) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = bodies
        .iter()
        .map(|(id, body)| {
            let mut message = SqsMessage::default();
            message.message_id = Some((*id).to_owned());
            message.body = Some(body.clone());
            message
        })
        .collect();
    event
}

#[tokio::test]
async fn good_records_are_stored_and_an_unreadable_one_is_dead_lettered() {
    // GIVEN a log writer on an empty log and empty dead letters
    let logs = Arc::new(MemoryLogs::default());
    let dead = Arc::new(MemoryDeadLetters::default());
    let writer =
        LogWriter::with_ports(logs.clone(), Arc::new(MemoryStats::default()), dead.clone());
    let webhook = WebhookId::from_trusted("wh_1");
    let first = attempt(
        &webhook,
        &DeliveryId::from_trusted("dlv_1"),
        1,
        Outcome::Retrying,
        base_time(),
    );
    let second = attempt(
        &webhook,
        &DeliveryId::from_trusted("dlv_1"),
        2,
        Outcome::Succeeded,
        base_time(),
    );
    // WHEN a batch carries two attempts and a body that is not one
    let response = writer
        .handle(
            sqs_event(&[
                ("m-1", serde_json::to_string(&first).unwrap()),
                ("m-2", "{\"not\": \"an attempt\"}".to_owned()),
                ("m-3", serde_json::to_string(&second).unwrap()),
            ]),
            base_time(),
        )
        .await;
    // THEN both attempts are in the log
    assert_eq!(logs.all().len(), 2);
    // AND nothing is handed back for SQS to retry
    assert!(response.batch_item_failures.is_empty());
    // AND the unreadable record is in the dead letters, with its reason
    let rejected = dead.rejected();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].0, "{\"not\": \"an attempt\"}");
    assert!(rejected[0].1.starts_with("not a delivery-log record"));
}

#[tokio::test]
async fn the_answer_lists_only_the_records_the_store_failed_on_for_now() {
    // GIVEN a log that refuses delivery 2 and throttles delivery 3
    let logs = Arc::new(PickyLogs::new(
        vec![DeliveryId::from_trusted("dlv_2")],
        vec![DeliveryId::from_trusted("dlv_3")],
    ));
    let dead = Arc::new(MemoryDeadLetters::default());
    let writer =
        LogWriter::with_ports(logs.clone(), Arc::new(MemoryStats::default()), dead.clone());
    let webhook = WebhookId::from_trusted("wh_1");
    let bodies: Vec<(String, String)> = (1..=4)
        .map(|n| {
            let delivery = DeliveryId::from_trusted(format!("dlv_{n}"));
            let logged = attempt(&webhook, &delivery, 1, Outcome::Succeeded, base_time());
            (format!("m-{n}"), serde_json::to_string(&logged).unwrap())
        })
        .collect();
    let bodies: Vec<(&str, String)> = bodies
        .iter()
        .map(|(id, b)| (id.as_str(), b.clone()))
        .collect();
    // WHEN the four records arrive in one batch
    let response = writer.handle(sqs_event(&bodies), base_time()).await;
    // THEN only the throttled record is handed back
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, ["m-3"]);
    // AND the refused one is a dead letter, and the two others are stored
    assert_eq!(dead.rejected().len(), 1);
    assert_eq!(dead.rejected()[0].0, bodies[1].1);
    assert_eq!(logs.logs.all().len(), 2);
}
