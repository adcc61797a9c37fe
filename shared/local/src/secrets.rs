//! Signing secrets and custom header values in SQLite: a `secrets` row per webhook
//! with the current secret and, after a rotation, the previous one and when it was
//! rotated out; a `custom_headers` row per header. The database file is private to
//! its owner (see [`crate::db`]).

use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use webhooks_core::domain::custom_headers::CustomHeaders;
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::secret::{SecretRef, StoredSecret};
use webhooks_core::domain::secret_entry::SecretEntry;
use webhooks_core::domain::signing::SigningSecrets;
use webhooks_core::domain::time::Timestamp;
use webhooks_core::ports::{SecretReader, SecretWriter, StoreError};

use crate::cache::Cache;
use crate::db::{millis, Db, OrBackend};

#[derive(Clone, Debug)]
pub struct SqliteSecretStore {
    db: Db,
    /// Each webhook's stored entry; every write through this store forgets them.
    /// Clones share it: build one store per database (as `Stores::open` does).
    cache: Arc<Cache<String, SecretEntry>>,
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

    /// Runs the write `work` on the webhook's rows, forgetting the cached entries.
    async fn write<F>(&self, work: F) -> Result<(), StoreError>
    where
        F: FnOnce(&Connection) -> rusqlite::Result<()> + Send + 'static,
    {
        self.db
            .call_invalidating(&self.cache, move |conn| {
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .or_backend()?;
                work(&tx).or_backend()?;
                tx.commit().or_backend()
            })
            .await
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
        self.write(move |tx| {
            let rotated = tx.execute(
                "UPDATE secrets SET previous = current, current = ?2, rotated_at_ms = ?3
                     WHERE webhook_id = ?1",
                params![key, secret, now],
            )?;
            if rotated == 0 {
                tx.execute(
                    "INSERT INTO secrets (webhook_id, current) VALUES (?1, ?2)",
                    params![key, secret],
                )?;
            }
            Ok(())
        })
        .await?;
        Ok(Self::reference(id))
    }

    async fn remove(&self, id: &WebhookId) -> Result<(), StoreError> {
        let key = id.as_str().to_owned();
        self.write(move |tx| {
            tx.execute("DELETE FROM secrets WHERE webhook_id = ?1", [&key])?;
            tx.execute("DELETE FROM custom_headers WHERE webhook_id = ?1", [&key])?;
            Ok(())
        })
        .await
    }

    async fn remove_signing(&self, id: &WebhookId) -> Result<(), StoreError> {
        let key = id.as_str().to_owned();
        self.write(move |tx| {
            tx.execute("DELETE FROM secrets WHERE webhook_id = ?1", [&key])
                .map(drop)
        })
        .await
    }

    async fn put_headers(&self, id: &WebhookId, headers: &CustomHeaders) -> Result<(), StoreError> {
        let key = id.as_str().to_owned();
        let rows: Vec<(String, String)> = headers
            .iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        self.write(move |tx| {
            tx.execute("DELETE FROM custom_headers WHERE webhook_id = ?1", [&key])?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO custom_headers (webhook_id, name, value) VALUES (?1, ?2, ?3)",
            )?;
            for (name, value) in &rows {
                insert.execute(params![key, name, value])?;
            }
            Ok(())
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
        Ok(self.entry(id).await?.signing(now))
    }

    async fn headers(
        &self,
        id: &WebhookId,
        names: &[String],
    ) -> Result<Option<CustomHeaders>, StoreError> {
        if names.is_empty() {
            return Ok(Some(CustomHeaders::default()));
        }
        Ok(self.entry(id).await?.headers.covering(names))
    }
}

impl SqliteSecretStore {
    /// The webhook's entry, from the cache or the database (empty: nothing stored).
    async fn entry(&self, id: &WebhookId) -> Result<SecretEntry, StoreError> {
        match self.cache.get(id.as_str()) {
            Ok(entry) => Ok(entry),
            Err(ticket) => {
                let entry = self.read(id).await?;
                self.cache
                    .fill(ticket, id.as_str().to_owned(), entry.clone());
                Ok(entry)
            }
        }
    }

    /// The stored rows, from the database.
    async fn read(&self, id: &WebhookId) -> Result<SecretEntry, StoreError> {
        let key = id.as_str().to_owned();
        self.db
            .call(move |conn| read_entry(conn, &key).or_backend())
            .await
    }
}

fn read_entry(conn: &Connection, key: &str) -> rusqlite::Result<SecretEntry> {
    let secret = conn
        .prepare_cached(
            "SELECT current, previous, rotated_at_ms FROM secrets WHERE webhook_id = ?1",
        )?
        .query_row([key], |row| {
            Ok(StoredSecret {
                current: row.get(0)?,
                previous: row.get(1)?,
                rotated_at: row
                    .get::<_, Option<i64>>(2)?
                    .map(Timestamp::from_unix_millis),
            })
        })
        .optional()?;
    let headers = conn
        .prepare_cached("SELECT name, value FROM custom_headers WHERE webhook_id = ?1")?
        .query_map([key], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<Vec<(String, String)>>>()?;
    Ok(SecretEntry {
        secret,
        headers: CustomHeaders::from_stored(headers),
    })
}
