//! A [`SecretReader`] decorator that keeps stored secret entries (signing secrets and
//! custom header values) in memory for a TTL, and the [`SecretLoader`] it reads
//! through.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use async_trait::async_trait;
use webhooks_core::domain::custom_headers::CustomHeaders;
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::secret::SecretRef;
use webhooks_core::domain::secret_entry::SecretEntry;
use webhooks_core::domain::signing::SigningSecrets;
use webhooks_core::domain::time::Timestamp;
use webhooks_core::ports::{SecretReader, SecretWriter, StoreError};

use crate::secrets::SecretsManagerStore;

/// How long [`CachedSecrets`] trusts what it read.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(5 * 60);

/// Reads a webhook's stored secret; what [`CachedSecrets`] caches.
#[async_trait]
pub trait SecretLoader: Send + Sync {
    /// The stored entry, `None` when the webhook has none (or it was removed).
    async fn load(&self, id: &WebhookId) -> Result<Option<SecretEntry>, StoreError>;

    /// [`load`](Self::load) of several webhooks, one answer per id in order. A store
    /// that can read several in one call overrides it; this one reads them in turn.
    async fn load_many(&self, ids: &[WebhookId]) -> Vec<Result<Option<SecretEntry>, StoreError>> {
        let mut loaded = Vec::with_capacity(ids.len());
        for id in ids {
            loaded.push(self.load(id).await);
        }
        loaded
    }
}

/// [`SecretReader::get`] of a store without a cache: the entry's secrets at `now`.
pub(crate) async fn signing_of<L: SecretLoader + ?Sized>(
    loader: &L,
    id: &WebhookId,
    now: Timestamp,
) -> Result<Option<SigningSecrets>, StoreError> {
    Ok(loader.load(id).await?.and_then(|value| value.signing(now)))
}

/// [`SecretReader::headers`] of a store without a cache: asked for none, an empty set
/// (nothing is read); else the named values when the entry has every one.
pub(crate) async fn headers_of<L: SecretLoader + ?Sized>(
    loader: &L,
    id: &WebhookId,
    names: &[String],
) -> Result<Option<CustomHeaders>, StoreError> {
    if names.is_empty() {
        return Ok(Some(CustomHeaders::default()));
    }
    let stored = loader.load(id).await?.unwrap_or_default();
    Ok(stored.headers.covering(names))
}

/// A [`SecretReader`] that keeps what it read in memory for a while (the delivery
/// function: one Secrets Manager call per webhook every few minutes instead of one
/// per delivery). The stored value is cached, not the answer for one moment, so the
/// rotation's grace period still ends on time. Loads are single-flight: concurrent
/// misses for one webhook (a cold container's first batch) make one read. Each entry
/// lives between 80% and 100% of the TTL, spread by webhook id, so entries read together
/// do not all expire together. "No secret" is not cached: a secret
/// added by the API is used at once; nor is a missing header: asked for a header
/// the cached entry lacks (the API just added it), the cache reads again. A rotation,
/// a new header value or a removal made elsewhere is seen within the TTL; one made
/// through this cache at once.
pub struct CachedSecrets<S = SecretsManagerStore> {
    inner: S,
    ttl: Duration,
    /// Each entry with the moment it expires and the read that stored it.
    entries: Mutex<HashMap<WebhookId, (Instant, u64, SecretEntry)>>,
    /// Counts the reads stored, so a waiting read knows one finished meanwhile.
    reads: AtomicU64,
    /// One lock per webhook being read, so concurrent misses wait for one read.
    loading: Mutex<HashMap<WebhookId, Arc<tokio::sync::Mutex<()>>>>,
}

impl<S> fmt::Debug for CachedSecrets<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedSecrets")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// Past this many entries, expired ones are dropped on the next insert.
const MAX_CACHED: usize = 10_000;

impl<S: SecretLoader> CachedSecrets<S> {
    pub fn new(inner: S, ttl: Duration) -> Self {
        Self {
            inner,
            ttl,
            entries: Mutex::new(HashMap::new()),
            reads: AtomicU64::new(0),
            loading: Mutex::new(HashMap::new()),
        }
    }

    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn cached(&self, id: &WebhookId) -> Option<SecretEntry> {
        self.cached_since(id, None)
    }

    /// The entry, if it has not expired (and, with `after`, was stored by a read
    /// counted after it).
    fn cached_since(&self, id: &WebhookId, after: Option<u64>) -> Option<SecretEntry> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        entries
            .get(id)
            .filter(|(expires, _, _)| now < *expires)
            .filter(|(_, read, _)| after.is_none_or(|after| *read > after))
            .map(|(_, _, value)| value.clone())
    }

    /// How long `id`'s entries live: 80–100% of the TTL, the same for one webhook, spread
    /// across webhooks by a hash of the id.
    pub fn lifetime(&self, id: &WebhookId) -> Duration {
        let hash = id
            .as_str()
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
                (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
            });
        let fifth = self.ttl / 5;
        let shortened = u32::try_from(hash % 1_000).unwrap_or(0);
        self.ttl - fifth * shortened / 1_000
    }

    fn remember(&self, id: &WebhookId, value: SecretEntry) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if entries.len() >= MAX_CACHED {
            entries.retain(|_, (expires, _, _)| now < *expires);
        }
        let read = self.reads.fetch_add(1, Ordering::SeqCst) + 1;
        entries.insert(id.clone(), (now + self.lifetime(id), read, value));
    }

    fn forget(&self, id: &WebhookId) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(id);
    }
}

/// Writes go through to the store and drop the cached value, so a change made
/// through the cache is seen at once.
#[async_trait]
impl<S: SecretLoader + SecretWriter> SecretWriter for CachedSecrets<S> {
    async fn put(
        &self,
        id: &WebhookId,
        secret: &str,
        now: Timestamp,
    ) -> Result<SecretRef, StoreError> {
        self.forget(id);
        let reference = self.inner.put(id, secret, now).await;
        self.forget(id);
        reference
    }

    async fn remove(&self, id: &WebhookId) -> Result<(), StoreError> {
        self.forget(id);
        self.inner.remove(id).await
    }

    async fn remove_signing(&self, id: &WebhookId) -> Result<(), StoreError> {
        self.forget(id);
        self.inner.remove_signing(id).await
    }

    async fn put_headers(&self, id: &WebhookId, headers: &CustomHeaders) -> Result<(), StoreError> {
        self.forget(id);
        let written = self.inner.put_headers(id, headers).await;
        self.forget(id);
        written
    }

    async fn prepare(&self, id: &WebhookId) -> Result<SecretRef, StoreError> {
        self.inner.prepare(id).await
    }
}

#[async_trait]
impl<S: SecretLoader> SecretReader for CachedSecrets<S> {
    async fn get(
        &self,
        id: &WebhookId,
        now: Timestamp,
    ) -> Result<Option<SigningSecrets>, StoreError> {
        if let Some(signing) = self.cached(id).and_then(|value| value.signing(now)) {
            return Ok(Some(signing));
        }
        Ok(self.reload(id).await?.and_then(|value| value.signing(now)))
    }

    async fn headers(
        &self,
        id: &WebhookId,
        names: &[String],
    ) -> Result<Option<CustomHeaders>, StoreError> {
        if names.is_empty() {
            return Ok(Some(CustomHeaders::default()));
        }
        if let Some(found) = self
            .cached(id)
            .and_then(|value| value.headers.covering(names))
        {
            return Ok(Some(found));
        }
        let loaded = self.reload(id).await?.unwrap_or_default();
        Ok(loaded.headers.covering(names))
    }

    /// Loads the entries of `ids` that are neither cached nor being read, together.
    /// A webhook another read holds is left to it; what fails or is missing is read
    /// again (one by one) by the `get` or `headers` that follows.
    async fn prefetch(&self, ids: &[WebhookId]) {
        let mut held = Vec::new();
        for id in ids {
            if self.cached(id).is_some() || held.iter().any(|(held_id, _, _)| held_id == id) {
                continue;
            }
            let lock = {
                let mut loading = self.loading.lock().unwrap_or_else(|e| e.into_inner());
                Arc::clone(loading.entry(id.clone()).or_default())
            };
            if let Ok(turn) = Arc::clone(&lock).try_lock_owned() {
                held.push((id.clone(), lock, turn));
            }
        }
        if held.is_empty() {
            return;
        }
        let wanted: Vec<WebhookId> = held.iter().map(|(id, _, _)| id.clone()).collect();
        let loaded = self.inner.load_many(&wanted).await;
        for (id, result) in wanted.iter().zip(loaded) {
            if let Ok(Some(entry)) = result {
                self.remember(id, entry);
            }
        }
        for (id, lock, turn) in held {
            drop(turn);
            self.release_lock(&id, &lock);
        }
    }
}

impl<S: SecretLoader> CachedSecrets<S> {
    /// Reads the entry from the store, remembering it when there is one. Concurrent
    /// reads of one webhook wait for the first; one that finds an entry stored while it
    /// waited takes it without reading again.
    async fn reload(&self, id: &WebhookId) -> Result<Option<SecretEntry>, StoreError> {
        let asked = self.reads.load(Ordering::SeqCst);
        let lock = {
            let mut loading = self.loading.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(loading.entry(id.clone()).or_default())
        };
        let loaded = {
            let _turn = lock.lock().await;
            match self.cached_since(id, Some(asked)) {
                Some(fresh) => Ok(Some(fresh)),
                None => self.inner.load(id).await,
            }
        };
        self.release_lock(id, &lock);
        let loaded = loaded?;
        if let Some(value) = &loaded {
            self.remember(id, value.clone());
        }
        Ok(loaded)
    }
}

impl<S> CachedSecrets<S> {
    /// The last one out forgets a webhook's read lock (the map and `lock` hold it).
    fn release_lock(&self, id: &WebhookId, lock: &Arc<tokio::sync::Mutex<()>>) {
        let mut loading = self.loading.lock().unwrap_or_else(|e| e.into_inner());
        if Arc::strong_count(lock) <= 2 {
            loading.remove(id);
        }
    }
}

#[cfg(test)]
mod tests;
