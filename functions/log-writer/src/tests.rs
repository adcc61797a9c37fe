//! The log-writer function on an in-memory log: one SQS invocation in, the partial
//! batch response out. The same on moto is in the integration tests
//! (`aws::lambda_functions`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use webhooks_core::domain::delivery_log::Outcome;
use webhooks_core::domain::ids::{DeliveryId, WebhookId};
use webhooks_core::testing::fixtures::{attempt, base_time};
use webhooks_core::testing::memory::MemoryLogs;

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
async fn good_records_are_stored_and_only_an_unreadable_one_is_handed_back() {
    // Given a log writer on an empty log
    let logs = Arc::new(MemoryLogs::default());
    let writer = LogWriter::with_store(logs.clone());
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
    // When a batch carries two attempts and a body that is not one
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
    // Then both attempts are in the log
    assert_eq!(logs.all().len(), 2);
    // And only the unreadable record is handed back for SQS to retry (then the DLQ)
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, vec!["m-2".to_owned()]);
}
