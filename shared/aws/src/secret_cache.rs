//! A [`SecretReader`] decorator that keeps stored secret entries (signing secrets and
//! custom header values) in memory for a TTL, and the [`SecretLoader`] it reads
//! through.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

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
}

/// A [`SecretReader`] that keeps what it read in memory for a while (the delivery
/// function: one Secrets Manager call per webhook every few minutes instead of one
/// per delivery). The stored value is cached, not the answer for one moment, so the
/// rotation's grace period still ends on time. "No secret" is not cached: a secret
/// added by the API is used at once; nor is a missing header: asked for a header
/// the cached entry lacks (the API just added it), the cache reads again. A rotation,
/// a new header value or a removal made elsewhere is seen within the TTL; one made
/// through this cache at once.
pub struct CachedSecrets<S = SecretsManagerStore> {
    inner: S,
    ttl: Duration,
    entries: Mutex<HashMap<WebhookId, (tokio::time::Instant, SecretEntry)>>,
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

    fn cached(&self, id: &WebhookId) -> Option<SecretEntry> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(id)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, value)| value.clone())
    }

    fn remember(&self, id: &WebhookId, value: SecretEntry) {
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
}

impl<S: SecretLoader> CachedSecrets<S> {
    /// Reads the entry from the store, remembering it when there is one.
    async fn reload(&self, id: &WebhookId) -> Result<Option<SecretEntry>, StoreError> {
        let loaded = self.inner.load(id).await?;
        if let Some(value) = &loaded {
            self.remember(id, value.clone());
        }
        Ok(loaded)
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
        values: Arc<Mutex<HashMap<WebhookId, SecretEntry>>>,
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
            let next = values
                .get(id)
                .cloned()
                .unwrap_or_default()
                .with_secret(secret, now);
            values.insert(id.clone(), next);
            Ok(SecretRef::new(format!("ref:{id}")))
        }

        async fn remove(&self, id: &WebhookId) -> Result<(), StoreError> {
            self.values.lock().unwrap().remove(id);
            Ok(())
        }

        async fn remove_signing(&self, id: &WebhookId) -> Result<(), StoreError> {
            let mut values = self.values.lock().unwrap();
            let next = values.get(id).cloned().unwrap_or_default().without_secret();
            values.insert(id.clone(), next);
            Ok(())
        }

        async fn put_headers(
            &self,
            id: &WebhookId,
            headers: &CustomHeaders,
        ) -> Result<(), StoreError> {
            let mut values = self.values.lock().unwrap();
            let next = values
                .get(id)
                .cloned()
                .unwrap_or_default()
                .with_headers(headers);
            values.insert(id.clone(), next);
            Ok(())
        }

        async fn prepare(&self, id: &WebhookId) -> Result<SecretRef, StoreError> {
            Ok(SecretRef::new(format!("ref:{id}")))
        }
    }

    #[async_trait]
    impl SecretLoader for Counting {
        async fn load(&self, id: &WebhookId) -> Result<Option<SecretEntry>, StoreError> {
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

    #[tokio::test(start_paused = true)]
    async fn a_header_the_cached_entry_lacks_is_read_again_and_a_new_secret_too() {
        // GIVEN a cached entry with header A only, no secret
        let inner = Counting::default();
        let cache = CachedSecrets::new(inner.clone(), Duration::from_secs(300));
        let id = WebhookId::from_trusted("wh_1");
        let only_a = CustomHeaders::from_stored([("A".to_owned(), "1".to_owned())]);
        inner.put_headers(&id, &only_a).await.unwrap();
        assert_eq!(
            cache.headers(&id, &["A".into()]).await.unwrap(),
            Some(only_a.clone())
        );
        assert_eq!(inner.loads.load(Ordering::SeqCst), 1);
        // WHEN the API (elsewhere) adds header B and a secret, within the TTL
        let both = CustomHeaders::from_stored([
            ("A".to_owned(), "1".to_owned()),
            ("B".to_owned(), "2".to_owned()),
        ]);
        inner.put_headers(&id, &both).await.unwrap();
        inner.put(&id, "new-secret", at(1)).await.unwrap();
        // THEN asking for A is served from memory, but asking for B or the secret
        // reads the store again and finds them
        assert_eq!(
            cache.headers(&id, &["A".into()]).await.unwrap(),
            Some(only_a)
        );
        assert_eq!(inner.loads.load(Ordering::SeqCst), 1);
        let names = ["A".to_owned(), "B".to_owned()];
        assert_eq!(cache.headers(&id, &names).await.unwrap(), Some(both));
        assert_eq!(inner.loads.load(Ordering::SeqCst), 2);
        assert!(cache.get(&id, at(2)).await.unwrap().is_some());
        assert_eq!(cache.headers(&id, &["C".into()]).await.unwrap(), None);
    }
}
