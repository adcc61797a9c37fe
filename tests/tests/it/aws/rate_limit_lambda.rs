//! A webhook's rate limit on the delivery function's real binary against moto: a batch
//! beyond the limit sends what the limit allows and queues the rest, same attempt,
//! none logged as an attempt that failed.

use std::time::Duration;

use serde_json::{json, Value};
use webhooks_aws::DynamoWebhookStore;
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::time::{Clock, SystemClock};
use webhooks_core::domain::webhook::{ClientScope, Webhook};
use webhooks_core::ports::WebhookRegistry;
use webhooks_tests::functions::Function;
use webhooks_tests::moto::Moto;
use webhooks_tests::receiver::Receiver;

/// An SQS batch of `count` events from the events queue.
fn events_batch(count: usize) -> Value {
    let records: Vec<Value> = (0..count)
        .map(|i| {
            let body = json!({"id": format!("evt_rate_{i}"), "type": "report.publish_status",
                "client_id": "acme", "data": {"n": i}});
            json!({"messageId": format!("m-rate-{i}"), "receiptHandle": format!("r-rate-{i}"),
                "body": body.to_string(), "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:webhooks-events",
                "awsRegion": "us-east-1"})
        })
        .collect();
    json!({ "Records": records })
}

#[tokio::test]
async fn a_batch_beyond_a_webhooks_rate_sends_what_the_rate_allows_and_queues_the_rest() {
    // GIVEN a webhook limited to 2 requests a second
    let moto = Moto::connect().await;
    let table = moto.create_webhooks_table().await;
    let retry = moto.create_queue("retry").await;
    let logs = moto.create_queue("logs").await;
    let dlq = moto.create_queue("events-dlq").await;
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
    let prefix = moto.secret_prefix();
    let delivery = Function::start(
        "delivery",
        &[
            ("WEBHOOKS_TABLE", &table),
            ("RETRY_QUEUE_URL", &retry),
            ("LOGS_QUEUE_URL", &logs),
            ("EVENTS_DLQ_URL", &dlq),
            ("METRICS_STACK", "webhooks-test"),
            ("SECRET_PREFIX", &prefix),
            ("DELIVERY_TIMEOUT_MS", "2000"),
            ("WEBHOOKS_ALLOW_NETS", "127.0.0.0/8"),
            ("WEBHOOKS_REQUIRE_HTTPS", "false"),
        ],
        &moto,
    )
    .await;

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
