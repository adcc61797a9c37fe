//! A retry task received hours before its time stays in the retry queue, hidden
//! until it is due (one `ChangeMessageVisibility`), instead of being sent again as a
//! new message every 15 minutes; one received too often is sent again as before. The
//! delivery function's real binary against moto.

use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{json, Value};
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::task::{DeliveryTask, TaskMessage};
use webhooks_core::domain::time::{Clock, SystemClock};
use webhooks_core::testing::fixtures::event;
use webhooks_tests::functions::Function;
use webhooks_tests::moto::Moto;

/// The queue's attribute as a number.
async fn count(moto: &Moto, queue: &str, name: QueueAttributeName) -> u64 {
    let read = moto
        .clients
        .sqs
        .get_queue_attributes()
        .queue_url(queue)
        .attribute_names(name.clone())
        .send()
        .await
        .unwrap();
    read.attributes().unwrap()[&name].parse().unwrap()
}

/// A retry task due in two hours, received with a 5 s visibility timeout; the
/// function's batch of it, received `receive_count` times, and the function.
async fn early_task_batch(moto: &Moto, retry: &str, receive_count: u32) -> (Value, Function) {
    let logs = moto.create_queue("logs").await;
    let dlq = moto.create_queue("events-dlq").await;
    let mut task = DeliveryTask::first(
        event("report.publish_status", "acme"),
        WebhookId::generate(),
    );
    task.not_before = Some(SystemClock.now().plus(Duration::from_secs(2 * 3600)));
    let body = TaskMessage::from(task).to_json();
    let message = &moto.send_and_receive(retry, &body, 5).await;
    let arn = moto.queue_arn(retry).await;
    let delivery = Function::start(
        "delivery",
        &[
            ("WEBHOOKS_TABLE", "a-table-never-read"),
            ("RETRY_QUEUE_URL", retry),
            ("LOGS_QUEUE_URL", &logs),
            ("EVENTS_DLQ_URL", &dlq),
            ("METRICS_STACK", "webhooks-test"),
            ("SECRET_PREFIX", &moto.secret_prefix()),
            ("DELIVERY_TIMEOUT_MS", "2000"),
        ],
        moto,
    )
    .await;
    let batch = json!({"Records": [{
        "messageId": message.message_id().unwrap(), "receiptHandle": message.receipt_handle().unwrap(),
        "body": body, "attributes": {"ApproximateReceiveCount": receive_count.to_string()},
        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": arn, "awsRegion": "us-east-1"}]});
    (batch, delivery)
}

#[tokio::test]
async fn an_early_retry_task_stays_hidden_in_its_queue_until_it_is_due() {
    // GIVEN a retry task due in two hours, received once with a 5 s visibility
    let moto = Moto::connect().await;
    let retry = moto.create_queue("retry").await;
    let (batch, delivery) = early_task_batch(&moto, &retry, 1).await;
    let message_id = batch["Records"][0]["messageId"].clone();
    // WHEN the delivery function gets it
    let response = delivery.invoke(batch).await;
    // THEN SQS is told to keep it (a batch item failure) and it stays hidden past its
    // 5 s, with no new message sent in its place
    assert_eq!(
        response["batchItemFailures"][0]["itemIdentifier"], message_id,
        "{response}"
    );
    tokio::time::sleep(Duration::from_secs(7)).await;
    assert!(
        moto.receive(&retry, 1).await.is_empty(),
        "visible again before it is due"
    );
    assert_eq!(
        count(
            &moto,
            &retry,
            QueueAttributeName::ApproximateNumberOfMessagesNotVisible
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &moto,
            &retry,
            QueueAttributeName::ApproximateNumberOfMessagesDelayed
        )
        .await,
        0
    );
}

#[tokio::test]
async fn an_early_retry_task_received_too_often_is_sent_again_with_its_delay() {
    // GIVEN the same task, received four times already
    let moto = Moto::connect().await;
    let retry = moto.create_queue("retry").await;
    let (batch, delivery) = early_task_batch(&moto, &retry, 4).await;
    // WHEN the delivery function gets it
    let response = delivery.invoke(batch).await;
    // THEN the record is done with (SQS deletes it) and a new, delayed message carries
    // the task
    assert_eq!(
        response["batchItemFailures"].as_array().map(Vec::len),
        Some(0),
        "{response}"
    );
    assert_eq!(
        count(
            &moto,
            &retry,
            QueueAttributeName::ApproximateNumberOfMessagesDelayed
        )
        .await,
        1
    );
}
