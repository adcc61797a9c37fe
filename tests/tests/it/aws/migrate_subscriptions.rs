//! The subscription backfill on moto: a webhook written before subscription items
//! existed keeps getting its deliveries before the backfill (the old read) and after
//! it (its new items); the backfill is idempotent and leaves a webhook edited
//! meanwhile to its edit.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use webhooks_aws::migrate::{apply, migrate_subscriptions, read_plan, MigrationReport};
use webhooks_aws::{DynamoWebhookStore, MARKER_ID};
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::webhook::{ClientScope, Webhook};
use webhooks_core::ports::{
    SubscriberView, WebhookFilter, WebhookReader, WebhookRegistry, WebhookWriter,
};
use webhooks_core::testing::fakes::{ManualClock, ScriptedSender};
use webhooks_core::testing::fixtures::{base_time, event};
use webhooks_core::testing::memory::{MemoryLogs, MemorySecretStore, MemoryTaskQueue};
use webhooks_core::usecases::delivery::{DeliveryPorts, DeliverySettings, Dispatcher};
use webhooks_tests::moto::Moto;

const EVENT: &str = "report.publish_status";

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

/// A webhook of acme as the code before subscription items wrote it: no `sub`, no
/// `webhook_id`, no subscription item.
async fn put_old_shape(moto: &Moto, table: &str, url: &str) -> WebhookId {
    let id = WebhookId::generate();
    let at = "2026-11-28T12:00:00.000Z";
    let item = HashMap::from([
        ("id".to_owned(), s(id.as_str())),
        ("name".to_owned(), s("old receiver")),
        ("url".to_owned(), s(url)),
        ("event".to_owned(), s(EVENT)),
        ("clients".to_owned(), AttributeValue::L(vec![s("acme")])),
        ("enabled".to_owned(), AttributeValue::Bool(true)),
        ("version".to_owned(), AttributeValue::N("1".into())),
        ("created_at".to_owned(), s(at)),
        ("updated_at".to_owned(), s(at)),
    ]);
    moto.clients
        .dynamodb
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .send()
        .await
        .expect("put an old-shape webhook");
    id
}

/// The URLs one event of `client` was delivered to, by a dispatcher reading a store
/// built now (a new delivery container).
async fn delivered_to(moto: &Moto, table: &str, client: &str) -> Vec<String> {
    let sender = Arc::new(ScriptedSender::default());
    let ports = DeliveryPorts {
        webhooks: Arc::new(DynamoWebhookStore::new(
            moto.clients.dynamodb.clone(),
            table,
        )),
        secrets: Arc::new(MemorySecretStore::default()),
        queue: Arc::new(MemoryTaskQueue::default()),
        logs: Arc::new(MemoryLogs::default()),
        sender: sender.clone(),
        clock: Arc::new(ManualClock::at(base_time())),
    };
    let dispatcher = Dispatcher::new(ports, DeliverySettings::default());
    dispatcher
        .process_event(&event(EVENT, client), None)
        .await
        .expect("fan-out");
    let mut urls: Vec<String> = sender
        .requests()
        .iter()
        .map(|r| r.url.to_string())
        .collect();
    urls.sort();
    urls
}

fn store(moto: &Moto, table: &str) -> DynamoWebhookStore {
    DynamoWebhookStore::new(moto.clients.dynamodb.clone(), table)
}

async fn marker_exists(moto: &Moto, table: &str) -> bool {
    moto.clients
        .dynamodb
        .get_item()
        .table_name(table)
        .key("id", s(MARKER_ID))
        .send()
        .await
        .expect("get the marker")
        .item
        .is_some()
}

#[tokio::test]
async fn an_old_webhook_is_delivered_to_before_and_after_the_backfill_and_a_rerun_changes_nothing()
{
    // GIVEN a table holding a webhook of acme in the old shape, and a new one of all
    let moto = Moto::connect().await;
    let table = moto.create_webhooks_table().await;
    put_old_shape(&moto, &table, "https://old.example/hook").await;
    let mut new = webhooks_core::testing::fixtures::webhook(EVENT);
    new.url = "https://new.example/hook".into();
    store(&moto, &table).insert(&new).await.expect("insert");
    let both = vec![
        "https://new.example/hook".to_owned(),
        "https://old.example/hook".to_owned(),
    ];

    // WHEN an event of acme comes before the backfill
    // THEN both webhooks get it (the old read), and globex's only the new one
    assert_eq!(delivered_to(&moto, &table, "acme").await, both);
    assert_eq!(
        delivered_to(&moto, &table, "globex").await,
        vec!["https://new.example/hook"]
    );
    assert!(!marker_exists(&moto, &table).await);

    // WHEN the backfill runs, twice
    let first = migrate_subscriptions(&moto.clients.dynamodb, &table, base_time())
        .await
        .expect("backfill");
    let second = migrate_subscriptions(&moto.clients.dynamodb, &table, base_time())
        .await
        .expect("again");

    // THEN both runs migrated both webhooks, the marker is there, and the same
    // deliveries happen through the subscription items
    let expected = MigrationReport {
        webhooks: 2,
        migrated: 2,
        skipped: 0,
        removed: 0,
    };
    assert_eq!(first, expected);
    assert_eq!(second, expected);
    assert!(marker_exists(&moto, &table).await);
    assert_eq!(delivered_to(&moto, &table, "acme").await, both);
    assert_eq!(
        delivered_to(&moto, &table, "globex").await,
        vec!["https://new.example/hook"]
    );
    // AND the listing (now from the index) has both, once each
    let page = store(&moto, &table)
        .list(&WebhookFilter::default(), 10, None)
        .await
        .expect("list");
    assert_eq!(page.items.len(), 2);
}

#[tokio::test]
async fn the_backfill_skips_a_webhook_edited_after_its_scan_without_clobbering_it() {
    // GIVEN an old-shape webhook of acme, scanned by the backfill
    let moto = Moto::connect().await;
    let table = moto.create_webhooks_table().await;
    let id = put_old_shape(&moto, &table, "https://old.example/hook").await;
    let plan = read_plan(&moto.clients.dynamodb, &table)
        .await
        .expect("scan");
    assert_eq!(plan.webhooks(), 1);

    // WHEN an admin moves it to globex before the backfill writes
    let webhooks = store(&moto, &table);
    let stored: Webhook = webhooks.get(&id).await.expect("get").expect("stored");
    let mut edited = stored.clone();
    edited.clients = ClientScope::Only(vec!["globex".into()]);
    edited.version = 2;
    webhooks.replace(&edited, 1).await.expect("edit");
    let report = apply(&moto.clients.dynamodb, &table, &plan, base_time())
        .await
        .expect("apply");

    // THEN the backfill skipped it, the edit stands, and its subscriptions are the
    // edit's: globex's events find it, acme's do not
    assert_eq!(
        report,
        MigrationReport {
            webhooks: 1,
            migrated: 0,
            skipped: 1,
            removed: 0
        }
    );
    let after = store(&moto, &table);
    assert_eq!(after.get(&id).await.expect("get"), Some(edited));
    assert_eq!(
        after
            .subscribers(EVENT, "globex")
            .await
            .expect("read")
            .len(),
        1
    );
    assert!(after
        .subscribers(EVENT, "acme")
        .await
        .expect("read")
        .is_empty());
}
