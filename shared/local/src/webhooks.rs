//! Webhooks in SQLite: the webhook as JSON, plus the columns queries need (id, event,
//! enabled, version).

use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, TransactionBehavior};
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::time::Timestamp;
use webhooks_core::domain::webhook::Webhook;
use webhooks_core::ports::{
    Page, StoreError, SubscriberView, WebhookFilter, WebhookReader, WebhookRegistry, WebhookWriter,
};

use crate::cache::Cache;
use crate::db::{Db, OrBackend};

#[derive(Clone, Debug)]
pub struct SqliteWebhookStore {
    db: Db,
    /// Each event type's subscribers; every write through this store forgets them.
    /// Clones share it: build one store per database (as `Stores::open` does).
    subscribers: Arc<Cache<String, Arc<[Webhook]>>>,
}

impl SqliteWebhookStore {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            subscribers: Arc::new(Cache::new()),
        }
    }
}

/// The stored columns of one webhook.
struct Row {
    id: String,
    event: String,
    enabled: bool,
    version: i64,
    body: String,
}

impl Row {
    fn of(webhook: &Webhook) -> Result<Row, StoreError> {
        Ok(Row {
            id: webhook.id.as_str().to_owned(),
            event: webhook.event.clone(),
            enabled: webhook.enabled,
            version: version_column(webhook.version)?,
            body: serde_json::to_string(webhook).or_backend()?,
        })
    }
}

fn version_column(version: u64) -> Result<i64, StoreError> {
    i64::try_from(version).or_backend()
}

fn decode(body: &str) -> Result<Webhook, StoreError> {
    serde_json::from_str(body).or_backend()
}

fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(e, _)
        if e.code == ErrorCode::ConstraintViolation
            && e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

fn load(conn: &Connection, id: &str) -> Result<Option<Webhook>, StoreError> {
    let body: Option<String> = conn
        .prepare_cached("SELECT body FROM webhooks WHERE id = ?1")
        .and_then(|mut select| select.query_row([id], |row| row.get(0)).optional())
        .or_backend()?;
    body.as_deref().map(decode).transpose()
}

#[async_trait]
impl WebhookReader for SqliteWebhookStore {
    async fn get(&self, id: &WebhookId) -> Result<Option<Webhook>, StoreError> {
        let id = id.as_str().to_owned();
        self.db.call(move |conn| load(conn, &id)).await
    }
}

#[async_trait]
impl WebhookWriter for SqliteWebhookStore {
    async fn replace(&self, webhook: &Webhook, expected_version: u64) -> Result<(), StoreError> {
        let row = Row::of(webhook)?;
        let expected = version_column(expected_version)?;
        self.db
            .call_invalidating(&self.subscribers, move |conn| {
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .or_backend()?;
                let changed = tx
                    .execute(
                        "UPDATE webhooks SET event = ?2, enabled = ?3, version = ?4, body = ?5
                         WHERE id = ?1 AND version = ?6",
                        params![
                            row.id,
                            row.event,
                            row.enabled,
                            row.version,
                            row.body,
                            expected
                        ],
                    )
                    .or_backend()?;
                if changed == 1 {
                    return tx.commit().or_backend();
                }
                let exists = tx
                    .query_row(
                        "SELECT 1 FROM webhooks WHERE id = ?1",
                        [&row.id],
                        |_| Ok(()),
                    )
                    .optional()
                    .or_backend()?
                    .is_some();
                Err(if exists {
                    StoreError::Conflict
                } else {
                    StoreError::NotFound
                })
            })
            .await
    }
}

#[async_trait]
impl SubscriberView for SqliteWebhookStore {
    /// The event type's webhooks (one query, cached until a write) that want the
    /// client's events.
    async fn subscribers(
        &self,
        event_type: &str,
        client_id: &str,
    ) -> Result<Vec<Webhook>, StoreError> {
        let every = match self.subscribers.get(event_type) {
            Ok(cached) => cached,
            Err(ticket) => {
                let found: Arc<[Webhook]> =
                    Arc::from(self.read_subscribers(event_type).await?.as_slice());
                self.subscribers
                    .fill(ticket, event_type.to_owned(), found.clone());
                found
            }
        };
        Ok(every
            .iter()
            .filter(|webhook| webhook.wants(event_type, client_id))
            .cloned()
            .collect())
    }

    async fn set_failing_since(
        &self,
        id: &WebhookId,
        failing_since: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let id = id.as_str().to_owned();
        self.db
            .call_invalidating(&self.subscribers, move |conn| {
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .or_backend()?;
                let mut webhook = load(&tx, &id)?.ok_or(StoreError::NotFound)?;
                // A start is kept if one is already recorded: the earliest wins.
                webhook.failing_since = failing_since.and(webhook.failing_since.or(failing_since));
                let body = serde_json::to_string(&webhook).or_backend()?;
                tx.execute(
                    "UPDATE webhooks SET body = ?2 WHERE id = ?1",
                    params![id, body],
                )
                .or_backend()?;
                tx.commit().or_backend()
            })
            .await
    }
}

#[async_trait]
impl WebhookRegistry for SqliteWebhookStore {
    async fn insert(&self, webhook: &Webhook) -> Result<(), StoreError> {
        let row = Row::of(webhook)?;
        self.db
            .call_invalidating(&self.subscribers, move |conn| {
                match conn.execute(
                    "INSERT INTO webhooks (id, event, enabled, version, body)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![row.id, row.event, row.enabled, row.version, row.body],
                ) {
                    Ok(_) => Ok(()),
                    Err(error) if is_unique_violation(&error) => Err(StoreError::Conflict),
                    Err(error) => Err(StoreError::backend(error)),
                }
            })
            .await
    }

    async fn delete(&self, id: &WebhookId) -> Result<Option<Webhook>, StoreError> {
        let id = id.as_str().to_owned();
        self.db
            .call_invalidating(&self.subscribers, move |conn| {
                let body: Option<String> = conn
                    .query_row(
                        "DELETE FROM webhooks WHERE id = ?1 RETURNING body",
                        [&id],
                        |row| row.get(0),
                    )
                    .optional()
                    .or_backend()?;
                body.as_deref().map(decode).transpose()
            })
            .await
    }

    async fn list(
        &self,
        filter: &WebhookFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Webhook>, StoreError> {
        let filter = filter.clone();
        let after = cursor.map(str::to_owned);
        self.db
            .call(move |conn| list_page(conn, &filter, limit, after.as_deref()))
            .await
    }
}

impl SqliteWebhookStore {
    /// Every webhook of `event_type`, from the database.
    async fn read_subscribers(&self, event_type: &str) -> Result<Vec<Webhook>, StoreError> {
        let event = event_type.to_owned();
        self.db
            .call(move |conn| {
                let mut statement = conn
                    .prepare_cached("SELECT body FROM webhooks WHERE event = ?1 ORDER BY id")
                    .or_backend()?;
                let bodies = statement
                    .query_map([&event], |row| row.get::<_, String>(0))
                    .or_backend()?;
                bodies.map(|body| decode(&body.or_backend()?)).collect()
            })
            .await
    }
}

/// One page in id order. `event` and `enabled` are filtered in SQL; the client scope
/// in Rust, reading on until the page is full (plus one match, to know whether there
/// is a next page) or the rows run out.
fn list_page(
    conn: &Connection,
    filter: &WebhookFilter,
    limit: usize,
    after: Option<&str>,
) -> Result<Page<Webhook>, StoreError> {
    if limit == 0 {
        return Ok(Page {
            items: Vec::new(),
            next_cursor: None,
        });
    }
    let mut statement = conn
        .prepare_cached(
            "SELECT body FROM webhooks
             WHERE (?1 IS NULL OR event = ?1)
               AND (?2 IS NULL OR enabled = ?2)
               AND (?3 IS NULL OR id > ?3)
             ORDER BY id",
        )
        .or_backend()?;
    let mut rows = statement
        .query(params![filter.event, filter.enabled, after])
        .or_backend()?;
    let mut items = Vec::with_capacity(limit.min(128) + 1);
    while let Some(row) = rows.next().or_backend()? {
        let webhook = decode(&row.get::<_, String>(0).or_backend()?)?;
        if filter.matches(&webhook) {
            items.push(webhook);
            if items.len() > limit {
                break;
            }
        }
    }
    Ok(Page::from_one_more(items, limit, |webhook| {
        webhook.id.as_str().to_owned()
    }))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::test_support::webhook;

    #[tokio::test]
    async fn a_change_whose_caller_went_away_still_reaches_the_subscribers_cache() {
        // GIVEN an enabled subscriber, read once so that it is cached
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteWebhookStore::new(Db::open(dir.path().join("w.db")).unwrap());
        let webhook = webhook("https://receiver.example/hook");
        store.insert(&webhook).await.unwrap();
        assert!(
            store
                .subscribers("report.publish_status", "acme")
                .await
                .unwrap()[0]
                .enabled
        );

        // WHEN it is disabled by a request whose caller stops waiting once the write
        // is handed to the (busy) database thread: a client that hung up
        let (started, running) = std::sync::mpsc::channel();
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let mut busy = Box::pin(store.db.call(move |_| {
            let _ = started.send(());
            let _ = hold.recv_timeout(Duration::from_secs(10));
            Ok(())
        }));
        assert!(futures::poll!(&mut busy).is_pending());
        running.recv_timeout(Duration::from_secs(10)).unwrap();
        let mut disabled = webhook.clone();
        disabled.enabled = false;
        disabled.version = 2;
        let mut replace = store.replace(&disabled, 1);
        assert!(futures::poll!(&mut replace).is_pending());
        drop(replace);
        release.send(()).unwrap();
        busy.await.unwrap();
        // (a later call runs after the write: the database thread takes them in order)
        let stored = store.get(&webhook.id).await.unwrap().unwrap();

        // THEN the write committed, and the subscribers read now are the new ones
        assert!(!stored.enabled);
        let subscribers = store
            .subscribers("report.publish_status", "acme")
            .await
            .unwrap();
        assert!(subscribers.is_empty(), "a stale cached subscriber");
    }

    #[tokio::test]
    async fn a_row_stored_before_the_rate_limit_reads_without_one() {
        // GIVEN a limited webhook, and a row written before the field existed
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteWebhookStore::new(Db::open(dir.path().join("w.db")).unwrap());
        let mut limited = webhook("https://receiver.example/limited");
        limited.rate_limit_per_second = Some(5);
        store.insert(&limited).await.unwrap();
        let old = webhook("https://receiver.example/old");
        let mut body = serde_json::to_value(&old).unwrap();
        body.as_object_mut()
            .unwrap()
            .remove("rate_limit_per_second");
        let row = (old.id.as_str().to_owned(), body.to_string());
        store
            .db
            .call(move |conn| {
                conn.execute(
                    "INSERT INTO webhooks (id, event, enabled, version, body)
                     VALUES (?1, 'report.publish_status', 1, 1, ?2)",
                    params![row.0, row.1],
                )
                .or_backend()
            })
            .await
            .unwrap();
        // WHEN both are read
        let read_old = store.get(&old.id).await.unwrap().unwrap();
        let read_limited = store.get(&limited.id).await.unwrap().unwrap();
        // THEN the old one has no limit and the other keeps its own
        assert_eq!(read_old.rate_limit_per_second, None);
        assert_eq!(read_old, old);
        assert_eq!(read_limited.rate_limit_per_second, Some(5));
    }
}
