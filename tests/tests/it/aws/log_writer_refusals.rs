//! The log-writer's real binary on moto with a record DynamoDB can never take: the
//! emulator would store an item nested 33 levels deep (real DynamoDB refuses it with
//! a `ValidationException`), so the adapter's own check is what refuses it, the same
//! on both; its batch-mates are stored, and it alone goes to the logs DLQ with its
//! reason.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{json, Value};
use webhooks_aws::REASON_ATTRIBUTE;
use webhooks_core::domain::delivery_log::{LoggedAttempt, Outcome};
use webhooks_core::domain::ids::{DeliveryId, WebhookId};
use webhooks_core::testing::fixtures::{attempt, base_time};
use webhooks_tests::functions::{sqs_batch, Function};
use webhooks_tests::moto::Moto;

/// Good records in the batch, beside the one too deep (a full batch of 100).
const GOOD: usize = 99;

/// `levels` JSON objects, one inside the other.
fn nested(levels: usize) -> Value {
    (0..levels).fold(json!(1), |inner, _| json!({ "a": inner }))
}

#[tokio::test]
async fn a_record_nested_too_deep_is_dead_lettered_alone_and_its_batch_mates_are_stored() {
    // GIVEN the log-writer on a delivery-logs table and a logs DLQ
    let moto = Moto::connect().await;
    let table = moto.create_delivery_logs_table().await;
    let logs_dlq = moto.create_queue("logs-dlq").await;
    let writer = Function::start(
        "log-writer",
        &[("DELIVERY_LOGS_TABLE", &table), ("LOGS_DLQ_URL", &logs_dlq)],
        &moto,
    )
    .await;
    let webhook = WebhookId::generate();
    let logged = |n: usize, data: Value| -> LoggedAttempt {
        let delivery = DeliveryId::from_trusted(format!("dlv_{n:03}"));
        let mut logged = attempt(&webhook, &delivery, 1, Outcome::Succeeded, base_time());
        logged.data = data;
        logged
    };
    let mut bodies: Vec<String> = (0..GOOD)
        .map(|n| serde_json::to_string(&logged(n, json!({"n": n}))).unwrap())
        .collect();
    let deep = serde_json::to_string(&logged(GOOD, nested(33))).unwrap();
    bodies.insert(42, deep.clone());

    // WHEN a batch of 99 good records and one whose event is 33 levels deep arrives
    let response = writer.invoke(sqs_batch("webhooks-logs", &bodies)).await;

    // THEN no record is handed back for SQS to retry
    assert_eq!(response["batchItemFailures"], json!([]), "{response}");
    // AND the 99 good ones are in the table, and the deep one is not
    let items = moto
        .clients
        .dynamodb
        .query()
        .table_name(&table)
        .key_condition_expression("webhook_id = :w")
        .expression_attribute_values(":w", AttributeValue::S(webhook.to_string()))
        .send()
        .await
        .expect("query the logs table")
        .items
        .unwrap_or_default();
    let mut stored: Vec<String> = items
        .iter()
        .filter_map(|item| item.get("delivery_id")?.as_s().ok().cloned())
        .collect();
    stored.sort();
    let expected: Vec<String> = (0..GOOD).map(|n| format!("dlv_{n:03}")).collect();
    assert_eq!(stored, expected);
    // AND the deep one alone is in the logs DLQ, as it came, saying why
    let refused = moto.receive_all(&logs_dlq).await;
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].body(), Some(deep.as_str()));
    let reason = refused[0]
        .message_attributes()
        .and_then(|a| a.get(REASON_ATTRIBUTE))
        .and_then(|v| v.string_value())
        .unwrap_or("");
    assert_eq!(
        reason,
        format!(
            "refused by the store: BatchWriteItem: the log item of delivery dlv_{GOOD:03} \
             attempt 1 is nested 33 levels deep, over DynamoDB's limit of 32"
        )
    );
}
