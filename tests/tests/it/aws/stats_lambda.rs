//! A webhook's stats through the real binaries on moto: the log-writer stores a batch
//! and adds it to the stats partitions of the delivery-logs table (items that expire),
//! the api function answers `GET /webhooks/{id}/stats` from them, and the webhook's
//! log still lists only its attempts.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;
use webhooks_aws::{DynamoLogReader, DynamoWebhookStore};
use webhooks_core::domain::delivery_log::Outcome;
use webhooks_core::domain::ids::DeliveryId;
use webhooks_core::domain::time::{Clock, SystemClock};
use webhooks_core::ports::{LogReader, WebhookRegistry};
use webhooks_core::testing::fixtures::{attempt, webhook};
use webhooks_tests::functions::{fixture, http_answer, sqs_batch, Function};
use webhooks_tests::moto::Moto;

#[tokio::test]
async fn the_log_writer_adds_a_batch_to_the_stats_and_the_api_function_reads_them() {
    // GIVEN a webhook, the log-writer and the api function on one delivery-logs table
    let moto = Moto::connect().await;
    let webhooks_table = moto.create_webhooks_table().await;
    let logs_table = moto.create_delivery_logs_table().await;
    let logs_dlq = moto.create_queue("logs-dlq").await;
    let retry_queue = moto.create_queue("retry").await;
    let hook = webhook("report.publish_status");
    DynamoWebhookStore::new(moto.clients.dynamodb.clone(), &webhooks_table)
        .insert(&hook)
        .await
        .expect("insert the webhook");
    let writer = Function::start(
        "log-writer",
        &[
            ("DELIVERY_LOGS_TABLE", &logs_table),
            ("LOGS_DLQ_URL", &logs_dlq),
        ],
        &moto,
    )
    .await;
    let api = Function::start(
        "api",
        &[
            ("WEBHOOKS_TABLE", &webhooks_table),
            ("DELIVERY_LOGS_TABLE", &logs_table),
            ("RETRY_QUEUE_URL", &retry_queue),
            ("SECRET_PREFIX", &moto.secret_prefix()),
        ],
        &moto,
    )
    .await;

    // WHEN a batch of three successes and one exhausted attempt of a minute ago is written
    let at = SystemClock.now().minus(Duration::from_secs(60));
    let bodies: Vec<String> = [
        Outcome::Succeeded,
        Outcome::Succeeded,
        Outcome::Succeeded,
        Outcome::Exhausted,
    ]
    .into_iter()
    .enumerate()
    .map(|(n, outcome)| {
        let delivery = DeliveryId::from_trusted(format!("dlv_{n}"));
        serde_json::to_string(&attempt(&hook.id, &delivery, 1, outcome, at)).unwrap()
    })
    .collect();
    let response = writer.invoke(sqs_batch("webhooks-logs", &bodies)).await;
    assert_eq!(response["batchItemFailures"], json!([]), "{response}");

    // THEN the api function's stats of every window count them
    for window in ["1h", "24h", "7d"] {
        let call = fixture(
            "apigw/get-stats.json",
            &[("{{WEBHOOK_ID}}", hook.id.as_str()), ("{{WINDOW}}", window)],
        );
        let (status, _, stats) = http_answer(&api.invoke(call).await);
        assert_eq!(status, 200, "{stats}");
        assert_eq!(stats["window"], window);
        assert_eq!(
            (&stats["attempts"], &stats["succeeded"], &stats["failed"]),
            (&json!(4), &json!(3), &json!(1)),
            "{stats}"
        );
        assert_eq!(stats["success_rate"], 0.75);
        assert_eq!(stats["last_success_at"], at.to_string());
        assert_eq!(stats["last_failure_at"], at.to_string());
        assert_eq!(stats["latency_ms"]["p95"], 50, "{stats}");
    }
    // AND every stats item lives in the webhook's stats partition with an expiry
    let items = moto
        .clients
        .dynamodb
        .query()
        .table_name(&logs_table)
        .key_condition_expression("webhook_id = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("stats#{}", hook.id)))
        .send()
        .await
        .expect("query the stats partition")
        .items
        .unwrap_or_default();
    assert_eq!(items.len(), 5, "3 buckets and 2 latest times: {items:?}");
    assert!(items
        .iter()
        .all(|item| matches!(item.get("expires_at"), Some(AttributeValue::N(_)))));
    // AND the webhook's log lists its four attempts only
    let log = DynamoLogReader::new(moto.clients.dynamodb.clone(), &logs_table)
        .list(&hook.id, None, 50, None)
        .await
        .expect("list the log");
    assert_eq!(log.items.len(), 4);
}
