//! A [`SecretReader`] decorator that keeps stored secret values in memory for a TTL,
//! and the [`SecretLoader`] it reads through.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::secret::{SecretRef, StoredSecret};
use webhooks_core::domain::signing::SigningSecrets;
use webhooks_core::domain::time::Timestamp;
use webhooks_core::ports::{SecretReader, SecretWriter, StoreError};

use crate::secrets::SecretsManagerStore;

/// How long [`CachedSecrets`] trusts what it read.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(5 * 60);

/// Reads a webhook's stored secret; what [`CachedSecrets`] caches.
#[async_trait]
pub trait SecretLoader: Send + Sync {
    /// The stored value, `None` when the webhook has no secret (or it was removed).
    async fn load(&self, id: &WebhookId) -> Result<Option<StoredSecret>, StoreError>;
}

/// A [`SecretReader`] that keeps what it read in memory for a while (the delivery
/// function: one Secrets Manager call per webhook every few minutes instead of one
/// per delivery). The stored value is cached, not the answer for one moment, so the
/// rotation's grace period still ends on time. "No secret" is not cached: a secret
/// added by the API is used at once. A rotation or removal made elsewhere is seen
/// within the TTL; one made through this cache at once.
pub struct CachedSecrets<S = SecretsManagerStore> {
    inner: S,
    ttl: Duration,
    entries: Mutex<HashMap<WebhookId, (tokio::time::Instant, StoredSecret)>>,
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
        }
    }

    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn cached(&self, id: &WebhookId) -> Option<StoredSecret> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(id)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, value)| value.clone())
    }

    fn remember(&self, id: &WebhookId, value: StoredSecret) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_CACHED {
            let ttl = self.ttl;
            entries.retain(|_, (at, _)| at.elapsed() < ttl);
        }
        entries.insert(id.clone(), (tokio::time::Instant::now(), value));
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
        if let Some(value) = self.cached(id) {
            return Ok(Some(value.signing(now)));
        }
        let loaded = self.inner.load(id).await?;
        if let Some(value) = &loaded {
            self.remember(id, value.clone());
        }
        Ok(loaded.map(|value| value.signing(now)))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    fn at(seconds: u64) -> Timestamp {
        Timestamp::parse("2026-11-28T12:00:00Z")
            .unwrap()
            .plus(Duration::from_secs(seconds))
    }

    /// An in-memory loader that counts its loads.
    #[derive(Clone, Default)]
    struct Counting {
        values: Arc<Mutex<HashMap<WebhookId, StoredSecret>>>,
        loads: Arc<AtomicUsize>,
    }

    #[async_trait]
    impl SecretWriter for Counting {
        async fn put(
            &self,
            id: &WebhookId,
            secret: &str,
            now: Timestamp,
        ) -> Result<SecretRef, StoreError> {
            let mut values = self.values.lock().unwrap();
            let next = match values.get(id) {
                Some(old) => old.rotated(secret, now),
                None => StoredSecret::new(secret),
            };
            values.insert(id.clone(), next);
            Ok(SecretRef::new(format!("ref:{id}")))
        }

        async fn remove(&self, id: &WebhookId) -> Result<(), StoreError> {
            self.values.lock().unwrap().remove(id);
            Ok(())
        }

        async fn prepare(&self, id: &WebhookId) -> Result<SecretRef, StoreError> {
            Ok(SecretRef::new(format!("ref:{id}")))
        }
    }

    #[async_trait]
    impl SecretLoader for Counting {
        async fn load(&self, id: &WebhookId) -> Result<Option<StoredSecret>, StoreError> {
            self.loads.fetch_add(1, Ordering::SeqCst);
            Ok(self.values.lock().unwrap().get(id).cloned())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_cache_reads_once_per_ttl_and_not_absence() {
        let inner = Counting::default();
        let cache = CachedSecrets::new(inner.clone(), Duration::from_secs(300));
        let id = WebhookId::from_trusted("wh_1");
        // No secret: asked every time.
        assert_eq!(cache.get(&id, at(0)).await.unwrap(), None);
        assert_eq!(cache.get(&id, at(0)).await.unwrap(), None);
        assert_eq!(inner.loads.load(Ordering::SeqCst), 2);
        // A secret set elsewhere is found, then served from memory.
        inner.put(&id, "first-secret", at(0)).await.unwrap();
        assert!(cache.get(&id, at(1)).await.unwrap().is_some());
        assert!(cache.get(&id, at(2)).await.unwrap().is_some());
        assert_eq!(inner.loads.load(Ordering::SeqCst), 3);
        // After the TTL it is read again.
        tokio::time::advance(Duration::from_secs(301)).await;
        assert!(cache.get(&id, at(3)).await.unwrap().is_some());
        assert_eq!(inner.loads.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn changes_through_the_cache_are_seen_at_once() {
        let inner = Counting::default();
        let cache = CachedSecrets::new(inner.clone(), Duration::from_secs(300));
        let id = WebhookId::from_trusted("wh_1");
        cache.put(&id, "first-secret", at(0)).await.unwrap();
        assert_eq!(
            cache.get(&id, at(1)).await.unwrap().unwrap().current,
            "first-secret"
        );
        cache.put(&id, "second-secret", at(2)).await.unwrap();
        let both = cache.get(&id, at(3)).await.unwrap().unwrap();
        assert_eq!(
            (both.current.as_str(), both.previous.as_deref()),
            ("second-secret", Some("first-secret"))
        );
        cache.remove(&id).await.unwrap();
        assert_eq!(cache.get(&id, at(4)).await.unwrap(), None);
    }
}
