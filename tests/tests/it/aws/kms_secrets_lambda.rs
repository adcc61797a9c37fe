//! `SECRETS_MODE=kms` on the delivery function's real binary against moto: a secret
//! and custom headers sealed under a KMS key sign and go out on the delivery, and a
//! rotation signs with both secrets during its grace period.

use std::time::Duration;

use super::delivery_stack::DeliveryStack;
use webhooks_aws::{DynamoWebhookStore, KmsSecretStore};
use webhooks_core::domain::custom_headers::CustomHeaders;
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::signing::verify_standard;
use webhooks_core::domain::time::{Clock, SystemClock};
use webhooks_core::domain::webhook::{ClientScope, Webhook};
use webhooks_core::ports::{SecretWriter, WebhookRegistry};
use webhooks_tests::functions::fixture;
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
async fn in_kms_mode_a_delivery_is_signed_with_the_sealed_secret_and_rotation_signs_with_both() {
    // GIVEN a KMS key, a secrets table and a webhook whose secret and custom header are
    // sealed under that key
    let stack = DeliveryStack::create().await;
    let moto = &stack.moto;
    let key = moto.create_kms_key().await;
    let secrets_table = moto.create_secrets_table().await;
    let secrets = KmsSecretStore::new(
        moto.clients.kms.clone(),
        moto.clients.dynamodb.clone(),
        &secrets_table,
        &key,
    )
    .for_stack(Some("webhooks-test".into()));
    let receiver = Receiver::start(vec![200, 200]).await;
    let id = WebhookId::generate();
    let now = SystemClock.now();
    let secret_ref = secrets.put(&id, FIRST, now).await.expect("the secret");
    let headers = CustomHeaders::from_stored([("X-Collector".to_owned(), "siem-eu".to_owned())]);
    secrets
        .put_headers(&id, &headers)
        .await
        .expect("the headers");
    let hook = Webhook {
        id: id.clone(),
        name: "siem".into(),
        url: receiver.url("/hec"),
        event: "report.publish_status".into(),
        clients: ClientScope::all(),
        enabled: true,
        secret_ref: Some(secret_ref),
        disabled_reason: None,
        version: 1,
        created_at: now,
        updated_at: now,
        failing_since: None,
        rate_limit_per_second: None,
        header_names: headers.names(),
    };
    DynamoWebhookStore::new(moto.clients.dynamodb.clone(), &stack.table)
        .insert(&hook)
        .await
        .expect("insert the webhook");
    let kms_env = [
        ("SECRETS_MODE", "kms"),
        ("SECRETS_KMS_KEY_ID", key.as_str()),
        ("SECRETS_TABLE", secrets_table.as_str()),
        ("SECRETS_STACK_TAG", "webhooks-test"),
    ];

    // WHEN the delivery function in kms mode gets an event of its type
    let delivery = stack.delivery(&kms_env).await;
    delivery.invoke(fixture("sqs/event.json", &[])).await;

    // THEN the delivery carries the header and verifies with the secret
    let delivered = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(
        delivered[0].header("x-collector").as_deref(),
        Some("siem-eu")
    );
    assert!(verifies(FIRST, &delivered[0]));

    // AND WHEN the secret is rotated and a fresh container delivers the next event
    secrets
        .put(&id, SECOND, SystemClock.now())
        .await
        .expect("the rotation");
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
