//! Signing secrets in SQLite: one row per webhook with the current secret and, after a
//! rotation, the previous one and when it was rotated out. The database file is
//! private to its owner (see [`crate::db`]).

use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::secret::{SecretRef, StoredSecret};
use webhooks_core::domain::signing::SigningSecrets;
use webhooks_core::domain::time::Timestamp;
use webhooks_core::ports::{SecretReader, SecretWriter, StoreError};

use crate::cache::Cache;
use crate::db::{millis, Db, OrBackend};

#[derive(Clone, Debug)]
pub struct SqliteSecretStore {
    db: Db,
    /// Each webhook's stored secrets; every write through this store forgets them.
    /// Clones share it: build one store per database (as `Stores::open` does).
    cache: Arc<Cache<String, Option<StoredSecret>>>,
}

impl SqliteSecretStore {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            cache: Arc::new(Cache::new()),
        }
    }

    /// The reference stored on the webhook (`secret_ref`): never the secret.
    pub fn reference(id: &WebhookId) -> SecretRef {
        SecretRef::new(format!("local:secret:{id}"))
    }
}

#[async_trait]
impl SecretWriter for SqliteSecretStore {
    async fn put(
        &self,
        id: &WebhookId,
        secret: &str,
        now: Timestamp,
    ) -> Result<SecretRef, StoreError> {
        let key = id.as_str().to_owned();
        let secret = secret.to_owned();
        let now = millis(now);
        let committed = self.db.call_invalidating(&self.cache, move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .or_backend()?;
            let rotated = tx
                .execute(
                    "UPDATE secrets SET previous = current, current = ?2, rotated_at_ms = ?3
                         WHERE webhook_id = ?1",
                    params![key, secret, now],
                )
                .or_backend()?;
            if rotated == 0 {
                tx.execute(
                    "INSERT INTO secrets (webhook_id, current) VALUES (?1, ?2)",
                    params![key, secret],
                )
                .or_backend()?;
            }
            tx.commit().or_backend()
        });
        committed.await?;
        Ok(Self::reference(id))
    }

    async fn remove(&self, id: &WebhookId) -> Result<(), StoreError> {
        let key = id.as_str().to_owned();
        self.db
            .call_invalidating(&self.cache, move |conn| {
                conn.execute("DELETE FROM secrets WHERE webhook_id = ?1", [&key])
                    .or_backend()
                    .map(drop)
            })
            .await
    }

    async fn prepare(&self, id: &WebhookId) -> Result<SecretRef, StoreError> {
        Ok(Self::reference(id))
    }
}

#[async_trait]
impl SecretReader for SqliteSecretStore {
    async fn get(
        &self,
        id: &WebhookId,
        now: Timestamp,
    ) -> Result<Option<SigningSecrets>, StoreError> {
        let stored = match self.cache.get(id.as_str()) {
            Ok(stored) => stored,
            Err(ticket) => {
                let stored = self.read(id).await?;
                self.cache
                    .fill(ticket, id.as_str().to_owned(), stored.clone());
                stored
            }
        };
        Ok(stored.map(|stored| stored.signing(now)))
    }
}

impl SqliteSecretStore {
    /// The stored row, from the database.
    async fn read(&self, id: &WebhookId) -> Result<Option<StoredSecret>, StoreError> {
        let key = id.as_str().to_owned();
        self.db
            .call(move |conn| {
                conn.prepare_cached(
                    "SELECT current, previous, rotated_at_ms FROM secrets WHERE webhook_id = ?1",
                )
                .and_then(|mut select| {
                    select
                        .query_row([&key], |row| {
                            Ok(StoredSecret {
                                current: row.get(0)?,
                                previous: row.get(1)?,
                                rotated_at: row
                                    .get::<_, Option<i64>>(2)?
                                    .map(Timestamp::from_unix_millis),
                            })
                        })
                        .optional()
                })
                .or_backend()
            })
            .await
    }
}
