//! `SECRETS_MODE=kms` on the real api and delivery binaries against moto: a secret and
//! a custom header set through the API are sealed under a KMS key, sign and go out on
//! the delivery, and a rotation through the API signs with both secrets.

use std::time::Duration;

use super::delivery_stack::DeliveryStack;
use webhooks_core::domain::signing::verify_standard;
use webhooks_tests::functions::{fixture, http_answer, Function};
use webhooks_tests::receiver::{Delivery, Receiver};

const FIRST: &str = "a-first-kms-secret-0123";
const SECOND: &str = "a-second-kms-secret-0123";

fn verifies(secret: &str, request: &Delivery) -> bool {
    verify_standard(
        secret,
        &request.header("webhook-id").unwrap(),
        &request.header("webhook-timestamp").unwrap(),
        &request.body,
        &request.header("webhook-signature").unwrap(),
    )
}

#[tokio::test]
async fn in_kms_mode_a_secret_set_through_the_api_signs_deliveries_and_rotation_signs_with_both() {
    // GIVEN the api and delivery functions in kms mode, on one KMS key and secrets table
    let stack = DeliveryStack::create().await;
    let moto = &stack.moto;
    let key = moto.create_kms_key().await;
    let secrets_table = moto.create_secrets_table().await;
    let logs_table = moto.create_delivery_logs_table().await;
    let kms_env = [
        ("SECRETS_MODE", "kms"),
        ("SECRETS_KMS_KEY_ID", key.as_str()),
        ("SECRETS_TABLE", secrets_table.as_str()),
        ("SECRETS_STACK_TAG", "webhooks-test"),
    ];
    let mut api_env = vec![
        ("WEBHOOKS_TABLE", stack.table.as_str()),
        ("DELIVERY_LOGS_TABLE", logs_table.as_str()),
        ("RETRY_QUEUE_URL", stack.retry.as_str()),
        ("WEBHOOKS_ALLOW_NETS", "127.0.0.0/8"),
        ("WEBHOOKS_REQUIRE_HTTPS", "false"),
    ];
    api_env.extend(kms_env);
    let api = Function::start("api", &api_env, moto).await;
    let receiver = Receiver::start(vec![200, 200]).await;
    let hook_url = receiver.url("/hec");
    let call = |name: &str, webhook_id: &str, body: serde_json::Value| {
        let mut event = fixture(
            &format!("apigw/{name}.json"),
            &[
                ("{{WEBHOOK_ID}}", webhook_id),
                ("{{RECEIVER_URL}}", &hook_url),
            ],
        );
        event["body"] = serde_json::Value::String(body.to_string());
        event
    };

    // WHEN a webhook is created through the API with a secret and a custom header
    let (status, _, created) = http_answer(
        &api.invoke(call(
            "create-webhook",
            "",
            serde_json::json!({"name": "siem", "url": hook_url, "event": "report.publish_status",
                "clients": ["acme"], "secret": FIRST, "headers": {"X-Collector": "siem-eu"}}),
        ))
        .await,
    );
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("an id").to_owned();
    // AND an event of its type reaches the delivery function
    let delivery = stack.delivery(&kms_env).await;
    delivery.invoke(fixture("sqs/event.json", &[])).await;

    // THEN the delivery carries the header and verifies with the secret
    let delivered = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(
        delivered[0].header("x-collector").as_deref(),
        Some("siem-eu")
    );
    assert!(verifies(FIRST, &delivered[0]));
    // AND nothing of the secret is in the secrets table in the clear
    let items = moto
        .clients
        .dynamodb
        .scan()
        .table_name(&secrets_table)
        .send()
        .await
        .expect("scan the secrets table");
    assert_eq!(items.count(), 1);
    let raw = format!("{:?}", items.items());
    assert!(!raw.contains(FIRST) && !raw.contains("siem-eu"));

    // AND WHEN the secret is rotated through the API and a fresh container delivers
    let (status, _, updated) = http_answer(
        &api.invoke(call(
            "update-webhook",
            &id,
            serde_json::json!({"secret": SECOND}),
        ))
        .await,
    );
    assert_eq!(status, 200, "{updated}");
    let fresh = stack.delivery(&kms_env).await;
    fresh.invoke(fixture("sqs/event.json", &[])).await;

    // THEN that delivery verifies with the new secret and, in the grace period, the old
    let delivered = receiver.wait_for(2, Duration::from_secs(10)).await;
    assert!(verifies(SECOND, &delivered[1]));
    assert!(verifies(FIRST, &delivered[1]));
    assert_eq!(
        delivered[1].header("x-collector").as_deref(),
        Some("siem-eu")
    );
}
