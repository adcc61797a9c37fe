//! `POST /webhooks/{id}/recover` on the api function's real binary against moto: the
//! period is read from DynamoDB with one key-condition query, and the failed delivery
//! goes to the retry queue as its next attempt.

use std::time::Duration;

use serde_json::Value;
use webhooks_aws::{DynamoLogStore, DynamoWebhookStore};
use webhooks_core::domain::delivery_log::Outcome;
use webhooks_core::domain::ids::{DeliveryId, EventId};
use webhooks_core::domain::time::{Clock, SystemClock};
use webhooks_core::ports::{LogAppender, WebhookRegistry};
use webhooks_core::testing::fixtures::{attempt, webhook};
use webhooks_tests::functions::{fixture, http_answer, Function};
use webhooks_tests::moto::Moto;

#[tokio::test]
async fn the_api_function_recovers_a_periods_failed_delivery_onto_the_retry_queue() {
    // GIVEN a webhook whose log holds an exhausted delivery, and a succeeded one
    let moto = Moto::connect().await;
    let webhooks_table = moto.create_webhooks_table().await;
    let logs_table = moto.create_delivery_logs_table().await;
    let retry_queue = moto.create_queue("retry").await;
    let hook = webhook("report.publish_status");
    DynamoWebhookStore::new(moto.clients.dynamodb.clone(), &webhooks_table)
        .insert(&hook)
        .await
        .expect("insert the webhook");
    let now = SystemClock.now();
    let failed = DeliveryId::derive(&EventId::from_trusted("evt_failed"), &hook.id);
    let fine = DeliveryId::derive(&EventId::from_trusted("evt_fine"), &hook.id);
    DynamoLogStore::new(
        moto.clients.dynamodb.clone(),
        &logs_table,
        Duration::from_secs(86400),
    )
    .append(&[
        attempt(
            &hook.id,
            &failed,
            3,
            Outcome::Exhausted,
            now.minus(Duration::from_secs(60)),
        ),
        attempt(
            &hook.id,
            &fine,
            1,
            Outcome::Succeeded,
            now.minus(Duration::from_secs(30)),
        ),
    ])
    .await
    .expect("append the log");
    let api = Function::start(
        "api",
        &[
            ("WEBHOOKS_TABLE", &webhooks_table),
            ("DELIVERY_LOGS_TABLE", &logs_table),
            ("RETRY_QUEUE_URL", &retry_queue),
            ("SECRET_PREFIX", &moto.secret_prefix()),
            ("WEBHOOKS_ALLOW_NETS", "127.0.0.0/8"),
            ("WEBHOOKS_REQUIRE_HTTPS", "false"),
        ],
        &moto,
    )
    .await;

    // WHEN the last hour is recovered
    let since = now.minus(Duration::from_secs(3600)).to_string();
    let call = fixture(
        "apigw/recover.json",
        &[("{{WEBHOOK_ID}}", hook.id.as_str()), ("{{SINCE}}", &since)],
    );
    let (status, _, answer) = http_answer(&api.invoke(call).await);

    // THEN one delivery is queued, and the retry queue holds its next attempt
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["queued"], 1, "{answer}");
    assert_eq!(answer["skipped"], 0, "{answer}");
    let tasks = moto.receive_all(&retry_queue).await;
    assert_eq!(tasks.len(), 1);
    let task: Value = serde_json::from_str(tasks[0].body().unwrap_or("")).unwrap();
    assert_eq!(task["delivery_id"], failed.as_str());
    assert_eq!(task["attempt"], 4);
}
