//! The `webhook.disabled` notice on the delivery function's real binary against moto:
//! a 410 disables the webhook, the notice is queued on the retry queue for the webhook
//! subscribed to it (not for the disabled one), and that task delivers it.

use std::time::Duration;

use super::delivery_stack::DeliveryStack;
use serde_json::Value;
use webhooks_aws::DynamoWebhookStore;
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::time::{Clock, SystemClock};
use webhooks_core::domain::webhook::{ClientScope, Webhook};
use webhooks_core::ports::{WebhookReader, WebhookRegistry};
use webhooks_tests::functions::fixture;
use webhooks_tests::receiver::Receiver;

const WAIT: Duration = Duration::from_secs(10);

async fn put(store: &DynamoWebhookStore, name: &str, url: String, event: &str) -> Webhook {
    let now = SystemClock.now();
    let webhook = Webhook {
        id: WebhookId::generate(),
        name: name.into(),
        url,
        event: event.into(),
        clients: ClientScope::all(),
        enabled: true,
        secret_ref: None,
        disabled_reason: None,
        version: 1,
        created_at: now,
        updated_at: now,
        failing_since: None,
        rate_limit_per_second: None,
        header_names: Vec::new(),
    };
    store.insert(&webhook).await.expect("insert the webhook");
    webhook
}

#[tokio::test]
async fn a_webhook_disabled_by_a_410_is_announced_to_the_one_subscribed_to_the_notice() {
    // GIVEN a webhook of the fixture event's type whose receiver answers 410, and one
    // subscribed to webhook.disabled
    let stack = DeliveryStack::create().await;
    let moto = &stack.moto;
    let table = stack.table.clone();
    let retry_queue = stack.retry.clone();
    let store = DynamoWebhookStore::new(moto.clients.dynamodb.clone(), &table);
    let gone_receiver = Receiver::start(vec![410]).await;
    let ops_receiver = Receiver::start(vec![200]).await;
    let gone = put(
        &store,
        "gone hook",
        gone_receiver.url("/gone"),
        "report.publish_status",
    )
    .await;
    let ops = put(
        &store,
        "ops notices",
        ops_receiver.url("/ops"),
        "webhook.disabled",
    )
    .await;
    let delivery = stack.delivery(&[]).await;

    // WHEN the event arrives and meets the 410
    delivery.invoke(fixture("sqs/event.json", &[])).await;

    // THEN the webhook is disabled, and one task is queued: the notice, for the other
    let after = store.get(&gone.id).await.expect("get").expect("kept");
    assert!(!after.enabled);
    let tasks = moto.receive_all(&retry_queue).await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    let task: Value = serde_json::from_str(tasks[0].body().unwrap_or("")).unwrap();
    assert_eq!(task["webhook_id"], ops.id.as_str());
    assert_eq!(task["event"]["type"], "webhook.disabled");

    // WHEN the retry queue hands that task to the function THEN the notice arrives
    let retry = fixture(
        "sqs/retry-batch.json",
        &[("{{TASK}}", tasks[0].body().unwrap_or(""))],
    );
    delivery.invoke(retry).await;
    let notices = ops_receiver.wait_for(1, WAIT).await;
    let notice = notices[0].json();
    assert_eq!(notice["type"], "webhook.disabled");
    assert_eq!(notice["client_id"], "operations");
    assert_eq!(notice["data"]["webhook_id"], gone.id.as_str());
    assert!(
        notice["data"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("410")),
        "{notice}"
    );
    // AND the disabled webhook's receiver got only the one request that answered 410
    assert_eq!(gone_receiver.deliveries().len(), 1);
}
