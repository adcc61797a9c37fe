//! A webhook's rate limit on the delivery function's real binary against moto: a batch
//! beyond the limit sends what the limit allows and queues the rest, same attempt,
//! none logged as an attempt that failed.

use std::time::Duration;

use super::delivery_stack::DeliveryStack;
use serde_json::{json, Value};
use webhooks_aws::DynamoWebhookStore;
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::time::{Clock, SystemClock};
use webhooks_core::domain::webhook::{ClientScope, Webhook};
use webhooks_core::ports::WebhookRegistry;
use webhooks_tests::functions::sqs_batch;
use webhooks_tests::receiver::Receiver;

/// An SQS batch of `count` events from the events queue.
fn events_batch(count: usize) -> Value {
    let bodies: Vec<String> = (0..count)
        .map(|i| {
            json!({"id": format!("evt_rate_{i}"), "type": "report.publish_status",
                "client_id": "acme", "data": {"n": i}})
            .to_string()
        })
        .collect();
    sqs_batch("webhooks-events", &bodies)
}

#[tokio::test]
async fn a_batch_beyond_a_webhooks_rate_sends_what_the_rate_allows_and_queues_the_rest() {
    // GIVEN a webhook limited to 2 requests a second
    let stack = DeliveryStack::create().await;
    let moto = &stack.moto;
    let table = stack.table.clone();
    let logs = stack.logs.clone();
    let receiver = Receiver::start(vec![200]).await;
    let now = SystemClock.now();
    let hook = Webhook {
        id: WebhookId::generate(),
        name: "rate limited".into(),
        url: receiver.url("/limited"),
        event: "report.publish_status".into(),
        clients: ClientScope::all(),
        enabled: true,
        secret_ref: None,
        disabled_reason: None,
        version: 1,
        created_at: now,
        updated_at: now,
        failing_since: None,
        rate_limit_per_second: Some(2),
        header_names: Vec::new(),
    };
    DynamoWebhookStore::new(moto.clients.dynamodb.clone(), &table)
        .insert(&hook)
        .await
        .expect("insert the webhook");
    let delivery = stack.delivery(&[]).await;

    // WHEN a batch of 10 of its events arrives
    let response = delivery.invoke(events_batch(10)).await;

    // THEN no record is handed back, the receiver got what the limit allows (its bucket
    // starts full: 2), and the others wait on the retry queue as first attempts
    assert_eq!(
        response["batchItemFailures"].as_array().map_or(0, Vec::len),
        0,
        "{response}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    // (a loaded machine may take past the half second the third token needs)
    let sent = receiver.deliveries().len();
    assert!((2..=3).contains(&sent), "{sent} sent within the limit");
    // (queued with a delay until the bucket refills: read through moto's own view)
    let queued: Vec<Value> = moto
        .held_messages()
        .await
        .into_iter()
        .filter_map(|held| serde_json::from_str::<Value>(&held.body).ok())
        .filter(|task| task["type"] == "delivery_v1" && task["webhook_id"] == hook.id.as_str())
        .collect();
    assert_eq!(queued.len(), 10 - sent, "{queued:?}");
    assert!(queued.iter().all(|task| task["attempt"] == 1), "{queued:?}");
    // AND the log holds only the attempts made, all succeeded
    let records = moto.receive_all(&logs).await;
    let outcomes: Vec<String> = records
        .iter()
        .flat_map(|m| {
            let body: Value = serde_json::from_str(m.body().unwrap_or("")).unwrap_or(Value::Null);
            // A logs-queue message is one record or a group of them.
            match body["records"].as_array() {
                Some(group) => group
                    .iter()
                    .map(|r| r["outcome"].as_str().unwrap_or("").to_owned())
                    .collect(),
                None => vec![body["outcome"].as_str().unwrap_or("").to_owned()],
            }
        })
        .collect();
    assert_eq!(outcomes, vec!["succeeded"; sent], "{records:?}");
}
