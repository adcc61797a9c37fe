//! The queue-facing use cases (delivery batches and log-writer batches) on the local
//! adapters: good records are processed, bad ones dead-lettered with a reason, and
//! only records that failed for a passing reason are handed back for retry.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use webhooks_core::domain::time::{Clock, SystemClock};
use webhooks_core::domain::webhook::ClientScope;
use webhooks_core::ports::{DeadLetters, LogReader, QueueMessage, StoreError};
use webhooks_core::usecases::delivery::batch::process_batch;
use webhooks_core::usecases::delivery::DeliverySettings;
use webhooks_core::usecases::log_writer::write_batch;
use webhooks_local::LocalStores;
use webhooks_tests::receiver::Receiver;

#[derive(Default)]
struct RecordedDeadLetters {
    rejected: Mutex<Vec<(String, String)>>,
    broken: bool,
}

#[async_trait]
impl DeadLetters for RecordedDeadLetters {
    async fn reject(&self, body: &str, reason: &str) -> Result<(), StoreError> {
        if self.broken {
            return Err(StoreError::backend("the DLQ is unreachable"));
        }
        self.rejected
            .lock()
            .unwrap()
            .push((body.to_owned(), reason.to_owned()));
        Ok(())
    }
}

fn record(id: &str, body: String) -> QueueMessage {
    QueueMessage {
        message_id: id.to_owned(),
        body,
        received_at: SystemClock.now(),
    }
}

async fn stores_with_webhook(dir: &tempfile::TempDir, url: &str) -> LocalStores {
    let stores = LocalStores::open(dir.path().join("w.db"), Arc::new(SystemClock)).unwrap();
    let now = SystemClock.now();
    let webhook = webhooks_core::domain::webhook::Webhook {
        id: webhooks_core::domain::ids::WebhookId::generate(),
        name: "batch".into(),
        url: url.to_owned(),
        event: "report.publish_status".into(),
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
    use webhooks_core::ports::WebhookRegistry;
    stores.webhooks.insert(&webhook).await.unwrap();
    stores
}

fn dispatcher(stores: &LocalStores) -> webhooks_core::usecases::delivery::Dispatcher {
    let sender = webhooks_core::outbound::GuardedSender::new(
        webhooks_core::outbound::OutboundPolicy::local_default(),
    )
    .unwrap();
    stores.dispatcher(
        Arc::new(sender),
        DeliverySettings {
            timeout: Duration::from_secs(2),
            ..DeliverySettings::default()
        },
    )
}

#[tokio::test]
async fn a_mixed_batch_delivers_the_good_and_dead_letters_the_bad_with_reasons() {
    // GIVEN one webhook and a batch of a good event, invalid JSON, an unknown type and an oversized event
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(vec![200]).await;
    let stores = stores_with_webhook(&dir, &receiver.url("/")).await;
    let dead = RecordedDeadLetters::default();
    let oversized = json!({"type": "report.publish_status", "client_id": "acme", "data": {"blob": "x".repeat(257 * 1024)}});
    let batch = vec![
        record(
            "good",
            json!({"type": "report.publish_status", "client_id": "acme"}).to_string(),
        ),
        record("garbage", "{not json".to_owned()),
        record(
            "unknown",
            json!({"type": "report.deleted", "client_id": "acme"}).to_string(),
        ),
        record("huge", oversized.to_string()),
    ];

    // WHEN the batch is processed
    let failed = process_batch(&dispatcher(&stores), &dead, batch, None, &HashSet::new())
        .await
        .retry;

    // THEN nothing is handed back for retry, the good event was delivered (its id from
    // the message id), and the three bad ones are dead-lettered with their reasons
    assert!(failed.is_empty(), "{failed:?}");
    let deliveries = receiver.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].json()["id"], "evt_good");
    let rejected = dead.rejected.lock().unwrap().clone();
    let reasons: Vec<_> = rejected.iter().map(|(_, reason)| reason.clone()).collect();
    assert_eq!(rejected.len(), 3, "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("not valid JSON")));
    assert!(reasons.iter().any(|r| r.contains("unknown event type")));
    assert!(reasons.iter().any(|r| r.contains("limit")));
    assert!(
        rejected.iter().any(|(body, _)| body == "{not json"),
        "the body is kept as it came"
    );
}

#[tokio::test]
async fn a_refused_record_is_retried_when_the_dead_letter_queue_fails() {
    let dir = tempfile::tempdir().unwrap();
    let stores = stores_with_webhook(&dir, "http://127.0.0.1:9/").await;
    let dead = RecordedDeadLetters {
        broken: true,
        ..RecordedDeadLetters::default()
    };
    let failed = process_batch(
        &dispatcher(&stores),
        &dead,
        vec![record("bad", "nope".into())],
        None,
        &HashSet::new(),
    )
    .await
    .retry;
    assert_eq!(failed, ["bad"]);
}

#[tokio::test]
async fn a_deadline_too_near_defers_deliveries_to_the_queue_instead_of_starting_them() {
    // GIVEN a batch whose invocation deadline has already passed
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(vec![200]).await;
    let stores = stores_with_webhook(&dir, &receiver.url("/")).await;
    let dead = RecordedDeadLetters::default();
    let batch = vec![record(
        "late",
        json!({"type": "report.publish_status", "client_id": "acme"}).to_string(),
    )];
    // WHEN it is processed
    let failed = process_batch(
        &dispatcher(&stores),
        &dead,
        batch,
        Some(std::time::Instant::now()),
        &HashSet::new(),
    )
    .await
    .retry;
    // THEN the record is done (not retried), nothing was sent, and the delivery waits in the queue
    assert!(failed.is_empty());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(receiver.deliveries().is_empty());
    assert_eq!(stores.queue.pending().await.unwrap(), 1);
}

#[tokio::test]
async fn the_log_writer_stores_good_records_and_dead_letters_unreadable_ones() {
    // GIVEN a delivered attempt's log record and a garbage record
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(vec![200]).await;
    let stores = stores_with_webhook(&dir, &receiver.url("/")).await;
    let source = tempfile::tempdir().unwrap();
    let source_stores = stores_with_webhook(&source, &receiver.url("/")).await;
    let dead = RecordedDeadLetters::default();
    process_batch(
        &dispatcher(&source_stores),
        &dead,
        vec![record(
            "e",
            json!({"type": "report.publish_status", "client_id": "acme"}).to_string(),
        )],
        None,
        &HashSet::new(),
    )
    .await;
    let webhook_id = receiver.wait_for(1, Duration::from_secs(5)).await[0]
        .header("x-webhook-id")
        .unwrap();
    let id = webhooks_core::domain::ids::WebhookId::from_trusted(webhook_id);
    let page = source_stores.logs.list(&id, None, 10, None).await.unwrap();
    let logged = serde_json::to_string(&page.items[0]).unwrap();

    // WHEN the log writer gets both
    let refused = RecordedDeadLetters::default();
    let failed = write_batch(
        stores.logs.as_ref(),
        stores.stats.as_ref(),
        &refused,
        vec![record("ok", logged), record("junk", "[]".into())],
    )
    .await;

    // THEN nothing comes back, the garbage is a dead letter with its reason, and the
    // good record is readable in the store
    assert!(failed.is_empty(), "{failed:?}");
    let rejected = refused.rejected.lock().unwrap().clone();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].0, "[]");
    assert!(rejected[0].1.starts_with("not a delivery-log record"));
    let written = stores.logs.list(&id, None, 10, None).await.unwrap();
    assert_eq!(written.items, page.items);
}
