//! Custom headers on the delivery function's real binary against moto: the values kept
//! in Secrets Manager beside the signing secret go out on the delivery, before the
//! signatures, which still verify.

use std::time::Duration;

use super::delivery_stack::DeliveryStack;
use webhooks_aws::{DynamoWebhookStore, SecretsManagerStore};
use webhooks_core::domain::custom_headers::CustomHeaders;
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::signing::verify_standard;
use webhooks_core::domain::time::{Clock, SystemClock};
use webhooks_core::domain::webhook::{ClientScope, Webhook};
use webhooks_core::ports::{SecretWriter, WebhookRegistry};
use webhooks_tests::functions::fixture;
use webhooks_tests::receiver::Receiver;

const SECRET: &str = "a-fixture-secret-0123";

#[tokio::test]
async fn a_delivery_carries_the_webhooks_custom_headers_and_its_signatures() {
    // GIVEN a signed webhook with two custom headers stored beside its secret
    let stack = DeliveryStack::create().await;
    let moto = &stack.moto;
    let table = stack.table.clone();
    let prefix = stack.prefix.clone();
    let receiver = Receiver::start(vec![200]).await;
    let secrets = SecretsManagerStore::new(moto.clients.secrets.clone(), &prefix);
    let id = WebhookId::generate();
    let now = SystemClock.now();
    let secret_ref = secrets.put(&id, SECRET, now).await.expect("the secret");
    let headers = CustomHeaders::from_stored([
        ("Authorization".to_owned(), "Splunk 0123-token".to_owned()),
        ("X-Collector".to_owned(), "siem-eu".to_owned()),
    ]);
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
    DynamoWebhookStore::new(moto.clients.dynamodb.clone(), &table)
        .insert(&hook)
        .await
        .expect("insert the webhook");
    let delivery = stack.delivery(&[]).await;

    // WHEN an event of its type arrives
    delivery.invoke(fixture("sqs/event.json", &[])).await;

    // THEN the delivery carries both headers with their values, and its signature verifies
    let delivered = receiver.wait_for(1, Duration::from_secs(10)).await;
    let request = &delivered[0];
    assert_eq!(
        request.header("authorization").as_deref(),
        Some("Splunk 0123-token")
    );
    assert_eq!(request.header("x-collector").as_deref(), Some("siem-eu"));
    assert!(verify_standard(
        SECRET,
        &request.header("webhook-id").unwrap(),
        &request.header("webhook-timestamp").unwrap(),
        &request.body,
        &request.header("webhook-signature").unwrap()
    ));
}
