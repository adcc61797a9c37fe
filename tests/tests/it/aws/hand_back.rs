//! A record the delivery function hands back (a store failed for now) comes back in
//! seconds, not after the queue's visibility timeout: the function's real binary
//! against moto changes the received message's visibility.

use std::time::{Duration, Instant};

use serde_json::json;
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::task::{DeliveryTask, TaskMessage};
use webhooks_core::testing::fixtures::event;
use webhooks_tests::functions::Function;
use webhooks_tests::moto::Moto;

#[tokio::test]
async fn a_handed_back_retry_task_is_visible_again_in_about_ten_seconds() {
    // GIVEN a retry task received from the queue, hidden for 300 s, and a delivery
    // function whose webhooks table does not exist (every read fails)
    let moto = Moto::connect().await;
    let retry = moto.create_queue("retry").await;
    let logs = moto.create_queue("logs").await;
    let dlq = moto.create_queue("events-dlq").await;
    let task = DeliveryTask::first(
        event("report.publish_status", "acme"),
        WebhookId::generate(),
    );
    let body = serde_json::to_string(&TaskMessage::from(task)).unwrap();
    let message = &moto.send_and_receive(&retry, &body, 300).await;
    let arn = moto.queue_arn(&retry).await;
    let delivery = Function::start(
        "delivery",
        &[
            ("WEBHOOKS_TABLE", "a-table-that-does-not-exist"),
            ("RETRY_QUEUE_URL", &retry),
            ("LOGS_QUEUE_URL", &logs),
            ("EVENTS_DLQ_URL", &dlq),
            ("METRICS_STACK", "webhooks-test"),
            ("SECRET_PREFIX", &moto.secret_prefix()),
            ("DELIVERY_TIMEOUT_MS", "2000"),
        ],
        &moto,
    )
    .await;
    let batch = json!({"Records": [{
        "messageId": message.message_id().unwrap(), "receiptHandle": message.receipt_handle().unwrap(),
        "body": body, "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
        "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": "us-east-1"}]});

    // WHEN the function gets it and hands it back
    let response = delivery.invoke(batch).await;
    let handed_back = Instant::now();
    assert_eq!(
        response["batchItemFailures"][0]["itemIdentifier"],
        message.message_id().unwrap(),
        "{response}"
    );

    // THEN the queue shows it again after about 10 s (its first receive), not 300 s
    let mut again = Vec::new();
    while again.is_empty() && handed_back.elapsed() < Duration::from_secs(30) {
        again = moto.receive(&retry, 5).await;
    }
    let waited = handed_back.elapsed();
    assert_eq!(again.len(), 1, "not visible again within 30 s");
    assert!(
        waited >= Duration::from_secs(5) && waited <= Duration::from_secs(25),
        "visible again after {waited:?}"
    );
}
