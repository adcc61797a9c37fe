//! The four Lambda functions, each its real binary driven through the Lambda runtime
//! API with the fixture events of tests/fixtures/, against the moto emulator and
//! loopback receivers: what DynamoDB, SQS and the receivers hold afterwards.

use std::time::Duration;

use serde_json::{json, Value};
use webhooks_aws::{DynamoWebhookStore, SecretsManagerStore, REASON_ATTRIBUTE};
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::signing::{verify_hmac_hex, verify_standard};
use webhooks_core::domain::time::{Clock, SystemClock};
use webhooks_core::domain::webhook::{ClientScope, Webhook};
use webhooks_core::ports::{SecretWriter, WebhookRegistry};
use webhooks_tests::functions::{fixture, http_answer, run_to_exit, Function};
use webhooks_tests::moto::Moto;
use webhooks_tests::receiver::Receiver;

const SECRET: &str = "a-fixture-secret-0123";
const WAIT: Duration = Duration::from_secs(10);

fn ids_failed(response: &Value) -> Vec<String> {
    response["batchItemFailures"]
        .as_array()
        .expect("an SQS batch response")
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// Puts a webhook straight into the table (and its secret into Secrets Manager).
pub(super) async fn put_webhook(
    moto: &Moto,
    table: &str,
    prefix: &str,
    url: &str,
    secret: Option<&str>,
) -> Webhook {
    let now = SystemClock.now();
    let id = WebhookId::generate();
    let secret_ref = match secret {
        Some(secret) => Some(
            SecretsManagerStore::new(moto.clients.secrets.clone(), prefix)
                .put(&id, secret, now)
                .await
                .expect("store the secret"),
        ),
        None => None,
    };
    let webhook = Webhook {
        id,
        name: "fixture hook".into(),
        url: url.into(),
        event: "report.publish_status".into(),
        clients: ClientScope::all(),
        enabled: true,
        secret_ref,
        disabled_reason: None,
        version: 1,
        created_at: now,
        updated_at: now,
        failing_since: None,
        rate_limit_per_second: None,
        header_names: Vec::new(),
    };
    DynamoWebhookStore::new(moto.clients.dynamodb.clone(), table)
        .insert(&webhook)
        .await
        .expect("insert the webhook");
    webhook
}

#[tokio::test]
async fn the_api_and_test_connection_functions_answer_every_route() {
    // GIVEN the tables, the retry queue, a secret prefix and a receiver
    let moto = Moto::connect().await;
    let webhooks_table = moto.create_webhooks_table().await;
    let logs_table = moto.create_delivery_logs_table().await;
    let retry_queue = moto.create_queue("retry").await;
    let prefix = moto.secret_prefix();
    let receiver = Receiver::start(vec![200]).await;
    let hook_url = receiver.url("/hook");
    let api = Function::start(
        "api",
        &[
            ("WEBHOOKS_TABLE", &webhooks_table),
            ("DELIVERY_LOGS_TABLE", &logs_table),
            ("RETRY_QUEUE_URL", &retry_queue),
            ("SECRET_PREFIX", &prefix),
            ("WEBHOOKS_ALLOW_NETS", "127.0.0.0/8"),
            ("WEBHOOKS_REQUIRE_HTTPS", "false"),
        ],
        &moto,
    )
    .await;
    let call = |name: &str, webhook_id: &str| {
        fixture(
            &format!("apigw/{name}.json"),
            &[
                ("{{WEBHOOK_ID}}", webhook_id),
                ("{{DELIVERY_ID}}", "dlv_missing"),
                ("{{RECEIVER_URL}}", &hook_url),
            ],
        )
    };

    // WHEN each route is called, THEN each answers as the contract says
    let (status, _, types) = http_answer(&api.invoke(call("get-event-types", "")).await);
    assert_eq!(status, 200);
    assert_eq!(types.as_array().map(Vec::len), Some(4));

    let (status, headers, created) = http_answer(&api.invoke(call("create-webhook", "")).await);
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("an id").to_owned();
    assert_eq!(headers["location"], format!("/webhooks/{id}"));
    assert_eq!(created["secret_configured"], true);

    // AND the item in DynamoDB carries the secret's ARN, never the secret
    let item = moto
        .clients
        .dynamodb
        .get_item()
        .table_name(&webhooks_table)
        .key("id", aws_sdk_dynamodb::types::AttributeValue::S(id.clone()))
        .send()
        .await
        .expect("get the item")
        .item
        .expect("the item exists");
    assert!(item
        .get("secret_arn")
        .and_then(|v| v.as_s().ok())
        .is_some_and(|arn| arn.contains(&prefix)));
    assert!(!format!("{item:?}").contains(SECRET));
    assert_eq!(
        item.get("event")
            .and_then(|v| v.as_s().ok())
            .map(String::as_str),
        Some("report.publish_status")
    );

    let (status, headers, problem) =
        http_answer(&api.invoke(call("create-webhook-invalid", "")).await);
    assert_eq!(status, 422);
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(
        problem["errors"].as_array().map(Vec::len),
        Some(4),
        "{problem}"
    );

    let (status, _, page) = http_answer(&api.invoke(call("list-webhooks", "")).await);
    assert_eq!(status, 200);
    assert!(page["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["id"] == id.as_str()));

    let (status, headers, fetched) = http_answer(&api.invoke(call("get-webhook", &id)).await);
    assert_eq!(
        (status, fetched["name"].as_str()),
        (200, Some("SIEM relay"))
    );
    assert_eq!(headers["etag"], "\"1\"");

    let (status, _, updated) = http_answer(&api.invoke(call("update-webhook", &id)).await);
    assert_eq!(
        (status, updated["version"].as_u64()),
        (200, Some(2)),
        "{updated}"
    );
    assert_eq!(updated["clients"], "all");

    let (status, _, logs) = http_answer(&api.invoke(call("list-logs", &id)).await);
    assert_eq!(
        (status, logs),
        (200, json!({"items": [], "next_cursor": null}))
    );
    assert_eq!(
        http_answer(&api.invoke(call("get-delivery", &id)).await).0,
        404
    );
    assert_eq!(
        http_answer(&api.invoke(call("redeliver", &id)).await).0,
        404
    );

    let (status, _, openapi) = http_answer(&api.invoke(call("get-openapi", "")).await);
    assert_eq!(status, 200);
    assert!(openapi["openapi"].as_str().unwrap_or("").starts_with("3.1"));

    // AND the test-connection function tests the unsaved config and the saved webhook
    let tester = Function::start(
        "test-connection",
        &[
            ("WEBHOOKS_TABLE", &webhooks_table),
            ("SECRET_PREFIX", &prefix),
            ("DELIVERY_TIMEOUT_MS", "2000"),
            ("WEBHOOKS_ALLOW_NETS", "127.0.0.0/8"),
            ("WEBHOOKS_REQUIRE_HTTPS", "false"),
        ],
        &moto,
    )
    .await;
    let (status, _, unsaved) = http_answer(&tester.invoke(call("test-unsaved", "")).await);
    assert_eq!(
        (status, unsaved["ok"].as_bool()),
        (200, Some(true)),
        "{unsaved}"
    );
    let (status, _, saved) = http_answer(&tester.invoke(call("test-saved", &id)).await);
    assert_eq!(
        (status, saved["ok"].as_bool()),
        (200, Some(true)),
        "{saved}"
    );
    let tests = receiver.wait_for(2, WAIT).await;
    assert_eq!(tests.len(), 2);
    let signed = &tests[1];
    assert!(verify_hmac_hex(
        SECRET,
        &signed.body,
        &signed.header("x-authorization-hmac-256").unwrap()
    ));
    assert_eq!(signed.header("x-webhook-id").as_deref(), Some(id.as_str()));

    // AND delete removes the item and schedules the secret's deletion
    assert_eq!(
        http_answer(&api.invoke(call("delete-webhook", &id)).await).0,
        204
    );
    assert_eq!(
        http_answer(&api.invoke(call("get-webhook", &id)).await).0,
        404
    );
    let secret = moto
        .clients
        .secrets
        .describe_secret()
        .secret_id(format!("{prefix}{id}"))
        .send()
        .await
        .expect("describe the secret");
    assert!(
        secret.deleted_date().is_some(),
        "the secret is scheduled for deletion"
    );
}

#[tokio::test]
async fn the_delivery_and_log_writer_functions_deliver_dead_letter_retry_and_log() {
    // GIVEN two webhooks: one signed whose receiver answers 200, one whose receiver fails once
    let moto = Moto::connect().await;
    let webhooks_table = moto.create_webhooks_table().await;
    let logs_table = moto.create_delivery_logs_table().await;
    let retry_queue = moto.create_queue("retry").await;
    let logs_queue = moto.create_queue("logs").await;
    let dlq = moto.create_queue("events-dlq").await;
    let prefix = moto.secret_prefix();
    let good = Receiver::start(vec![200]).await;
    let flaky = Receiver::start(vec![500, 500, 200]).await;
    let signed = put_webhook(
        &moto,
        &webhooks_table,
        &prefix,
        &good.url("/good"),
        Some(SECRET),
    )
    .await;
    let unsigned = put_webhook(&moto, &webhooks_table, &prefix, &flaky.url("/flaky"), None).await;
    let delivery = Function::start(
        "delivery",
        &[
            ("WEBHOOKS_TABLE", &webhooks_table),
            ("RETRY_QUEUE_URL", &retry_queue),
            ("LOGS_QUEUE_URL", &logs_queue),
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

    // WHEN a batch of two good events and four bad ones (invalid JSON, unknown type,
    // no client_id, over 256 KiB) arrives
    let response = delivery.invoke(fixture("sqs/events-batch.json", &[])).await;

    // THEN no record is handed back for retry
    assert_eq!(ids_failed(&response), Vec::<String>::new());
    // AND the signed webhook got both events, signed, the one without an id under its message id
    let deliveries = good.wait_for(2, WAIT).await;
    assert_eq!(deliveries.len(), 2);
    let mut event_ids: Vec<String> = deliveries
        .iter()
        .map(|d| d.json()["id"].as_str().unwrap_or("").to_owned())
        .collect();
    event_ids.sort();
    assert_eq!(
        event_ids,
        ["evt_11111111-0000-4000-8000-000000000006", "evt_fixture_1"]
    );
    for d in &deliveries {
        let delivery_id = d.header("x-delivery-id").unwrap();
        assert!(verify_hmac_hex(
            SECRET,
            &d.body,
            &d.header("x-authorization-hmac-256").unwrap()
        ));
        assert!(verify_standard(
            SECRET,
            &delivery_id,
            &d.header("webhook-timestamp").unwrap(),
            &d.body,
            &d.header("webhook-signature").unwrap()
        ));
        assert_eq!(d.json()["webhook_id"], signed.id.as_str());
    }
    // AND the four bad bodies are in the events DLQ, each with its reason
    let dead = moto.receive_all(&dlq).await;
    let mut reasons: Vec<String> = dead
        .iter()
        .map(|m| {
            m.message_attributes()
                .and_then(|a| a.get(REASON_ATTRIBUTE))
                .and_then(|v| v.string_value())
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    reasons.sort();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("not valid JSON")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("unknown event type")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("client_id")),
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|r| r.contains("limit")), "{reasons:?}");
    // AND the failing webhook's two first attempts became delivery tasks on the retry queue, delayed
    assert_eq!(flaky.wait_for(2, WAIT).await.len(), 2);
    let tasks: Vec<_> = moto
        .held_messages()
        .await
        .into_iter()
        .filter(|m| m.body.contains("delivery_v1") && m.body.contains(unsigned.id.as_str()))
        .collect();
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    assert!(
        tasks
            .iter()
            .all(|t| t.delay.is_some_and(|d| (3..=7).contains(&d.as_secs()))),
        "{tasks:?}"
    );

    // WHEN the retry queue hands a task back before its time (as a delay past SQS's
    // 15 minutes would), THEN it is held: reported back for SQS to keep hidden until
    // it is due, not attempted and not sent again as a new message
    let task: Value = serde_json::from_str(&tasks[0].body).unwrap();
    let retry = fixture("sqs/retry-batch.json", &[("{{TASK}}", &tasks[0].body)]);
    let held = ids_failed(&delivery.invoke(retry.clone()).await);
    assert_eq!(held.len(), 1, "{held:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(flaky.deliveries().len(), 2);
    let queued = moto
        .held_messages()
        .await
        .into_iter()
        .filter(|m| m.body.contains("delivery_v1") && m.body.contains(unsigned.id.as_str()))
        .count();
    assert_eq!(queued, 2);

    // WHEN it comes back on time
    let not_before =
        chrono::DateTime::parse_from_rfc3339(task["not_before"].as_str().unwrap()).unwrap();
    let wait =
        (not_before.timestamp_millis() - chrono::Utc::now().timestamp_millis()).clamp(0, 10_000);
    tokio::time::sleep(Duration::from_millis(u64::try_from(wait).unwrap_or(0) + 50)).await;
    let response = delivery.invoke(retry).await;

    // THEN it is attempt 2 of the same delivery, and it succeeds
    assert_eq!(ids_failed(&response), Vec::<String>::new());
    let attempts = flaky.wait_for(3, WAIT).await;
    assert_eq!(attempts.len(), 3);
    assert_eq!(
        attempts[2].header("x-delivery-attempt").as_deref(),
        Some("2")
    );
    assert_eq!(
        attempts[2].header("x-delivery-id").as_deref(),
        task["delivery_id"].as_str()
    );

    // AND every attempt went to the logs queue: 2 + 2 + 1
    let logged = moto.receive_all(&logs_queue).await;
    assert_eq!(logged.len(), 5);
    let records: Vec<Value> = logged
        .iter()
        .map(|m| serde_json::from_str(m.body().unwrap_or("")).unwrap())
        .collect();
    let outcomes = |hook: &WebhookId| {
        let mut o: Vec<String> = records
            .iter()
            .filter(|r| r["webhook_id"] == hook.as_str())
            .map(|r| r["outcome"].as_str().unwrap().to_owned())
            .collect();
        o.sort();
        o
    };
    assert_eq!(outcomes(&signed.id), ["succeeded", "succeeded"]);
    assert_eq!(
        outcomes(&unsigned.id),
        ["retrying", "retrying", "succeeded"]
    );

    // WHEN the log-writer gets one of those records and a garbage one
    let logs_dlq = moto.create_queue("logs-dlq").await;
    let writer = Function::start(
        "log-writer",
        &[
            ("DELIVERY_LOGS_TABLE", &logs_table),
            ("LOGS_DLQ_URL", &logs_dlq),
            ("LOG_RETENTION_DAYS", "7"),
        ],
        &moto,
    )
    .await;
    let record = logged[0].body().unwrap();
    let response = writer
        .invoke(fixture(
            "sqs/logs-batch.json",
            &[("{{LOG_RECORD}}", record)],
        ))
        .await;

    // THEN nothing is handed back, the garbage is in the logs DLQ with its reason, and
    // the record is in the table with its TTL
    assert_eq!(ids_failed(&response), Vec::<String>::new());
    let refused = moto.receive_all(&logs_dlq).await;
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].body(), Some("{\"not\": \"a log record\"}"));
    let reason = refused[0]
        .message_attributes()
        .and_then(|a| a.get(REASON_ATTRIBUTE))
        .and_then(|v| v.string_value())
        .unwrap_or("");
    assert!(reason.starts_with("not a delivery-log record"), "{reason}");
    let written: Value = serde_json::from_str(record).unwrap();
    let items = moto
        .clients
        .dynamodb
        .query()
        .table_name(&logs_table)
        .key_condition_expression("webhook_id = :w")
        .expression_attribute_values(
            ":w",
            aws_sdk_dynamodb::types::AttributeValue::S(
                written["webhook_id"].as_str().unwrap().to_owned(),
            ),
        )
        .send()
        .await
        .expect("query the logs table")
        .items
        .unwrap_or_default();
    assert_eq!(items.len(), 1);
    let expires_at: i64 = items[0]["expires_at"].as_n().unwrap().parse().unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(written["at"].as_str().unwrap())
        .unwrap()
        .timestamp();
    assert_eq!(expires_at - at, 7 * 86_400);
    assert!(items[0]["sk"]
        .as_s()
        .unwrap()
        .contains(written["delivery_id"].as_str().unwrap()));
}

#[tokio::test]
async fn a_function_with_a_missing_variable_fails_to_start_naming_it() {
    // GIVEN the delivery function without EVENTS_DLQ_URL
    let moto = Moto::connect().await;
    let env = [
        ("WEBHOOKS_TABLE", "webhooks"),
        ("RETRY_QUEUE_URL", "http://127.0.0.1:1/q"),
        ("LOGS_QUEUE_URL", "http://127.0.0.1:1/l"),
    ];
    // WHEN it starts, THEN it stops before asking for work, naming the variable
    let (code, printed) = run_to_exit("delivery", &env, &moto).await;
    assert!(code.is_some_and(|c| c != 0), "{code:?}: {printed}");
    assert!(printed.contains("EVENTS_DLQ_URL"), "{printed}");
}
