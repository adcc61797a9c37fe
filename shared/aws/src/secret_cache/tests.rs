//! The cache on a counting in-memory loader.

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
    /// The `load_many` calls (each counted once, however many ids it carries).
    batches: Arc<AtomicUsize>,
    /// The ids those calls carried, in all.
    batched_ids: Arc<AtomicUsize>,
    /// How long a load takes (a Secrets Manager call).
    delay: Duration,
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

    async fn put_headers(&self, id: &WebhookId, headers: &CustomHeaders) -> Result<(), StoreError> {
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
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        Ok(self.values.lock().unwrap().get(id).cloned())
    }

    async fn load_many(&self, ids: &[WebhookId]) -> Vec<Result<Option<SecretEntry>, StoreError>> {
        self.batches.fetch_add(1, Ordering::SeqCst);
        self.batched_ids.fetch_add(ids.len(), Ordering::SeqCst);
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let values = self.values.lock().unwrap();
        ids.iter().map(|id| Ok(values.get(id).cloned())).collect()
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

#[tokio::test(start_paused = true)]
async fn concurrent_misses_for_one_webhook_make_one_read() {
    // GIVEN a stored secret and a cold cache whose reads take 50 ms
    let inner = Counting {
        delay: Duration::from_millis(50),
        ..Counting::default()
    };
    let id = WebhookId::from_trusted("wh_1");
    inner.put(&id, "first-secret", at(0)).await.unwrap();
    let cache = CachedSecrets::new(inner.clone(), Duration::from_secs(300));
    // WHEN twenty deliveries ask for it at once
    let answers = futures::future::join_all((0..20).map(|_| cache.get(&id, at(1)))).await;
    // THEN all get it from one read
    assert!(answers.iter().all(|a| a.as_ref().unwrap().is_some()));
    assert_eq!(inner.loads.load(Ordering::SeqCst), 1);
}

#[test]
fn entries_read_together_expire_spread_over_the_last_fifth_of_the_ttl() {
    // GIVEN a 300 s cache WHEN the lifetimes of 200 webhooks' entries are asked
    let cache = CachedSecrets::new(Counting::default(), Duration::from_secs(300));
    let lifetimes: Vec<Duration> = (0..200)
        .map(|n| cache.lifetime(&WebhookId::from_trusted(format!("wh_{n:04}"))))
        .collect();
    // THEN each lies within 240–300 s, stays the same for one webhook, and they spread
    assert!(lifetimes
        .iter()
        .all(|l| (Duration::from_secs(240)..=Duration::from_secs(300)).contains(l)));
    assert_eq!(
        cache.lifetime(&WebhookId::from_trusted("wh_0001")),
        lifetimes[1]
    );
    let distinct: std::collections::BTreeSet<_> = lifetimes.iter().collect();
    assert!(
        distinct.len() > 100,
        "{} distinct lifetimes",
        distinct.len()
    );
}

/// Webhooks `0..n` with a secret each, in `loader`.
async fn signed_webhooks(loader: &Counting, n: usize) -> Vec<WebhookId> {
    let mut ids = Vec::new();
    for i in 0..n {
        let id = WebhookId::from_trusted(format!("wh_{i}"));
        loader.put(&id, &format!("whsec_{i}"), at(0)).await.unwrap();
        ids.push(id);
    }
    ids
}

#[tokio::test(start_paused = true)]
async fn a_prefetch_reads_the_missing_entries_in_one_batch_and_the_reads_after_it_none() {
    // GIVEN a cold cache over five signed webhooks, one of them already cached
    let loader = Counting::default();
    let ids = signed_webhooks(&loader, 5).await;
    let cache = CachedSecrets::new(loader.clone(), DEFAULT_CACHE_TTL);
    cache.get(&ids[0], at(1)).await.unwrap();
    // WHEN the five are prefetched, then each one's secret is read
    cache.prefetch(&ids).await;
    for id in &ids {
        assert!(cache.get(id, at(1)).await.unwrap().is_some());
    }
    // THEN the four missing ones came in one batch, and no read followed it
    assert_eq!(loader.batches.load(Ordering::SeqCst), 1);
    assert_eq!(loader.batched_ids.load(Ordering::SeqCst), 4);
    assert_eq!(loader.loads.load(Ordering::SeqCst), 1, "only the first get");
}

#[tokio::test(start_paused = true)]
async fn reads_that_arrive_during_a_prefetch_wait_for_it_instead_of_reading_again() {
    // GIVEN a cold cache whose loads take 50 ms, over three signed webhooks
    let loader = Counting {
        delay: Duration::from_millis(50),
        ..Counting::default()
    };
    let ids = signed_webhooks(&loader, 3).await;
    let cache = Arc::new(CachedSecrets::new(loader.clone(), DEFAULT_CACHE_TTL));
    // WHEN a prefetch of the three and a read of each run at the same time
    let prefetch = {
        let (cache, ids) = (Arc::clone(&cache), ids.clone());
        tokio::spawn(async move { cache.prefetch(&ids).await })
    };
    tokio::task::yield_now().await;
    let reads = ids.iter().map(|id| {
        let (cache, id) = (Arc::clone(&cache), id.clone());
        tokio::spawn(async move { cache.get(&id, at(1)).await.unwrap() })
    });
    let read: Vec<_> = futures::future::join_all(reads).await;
    prefetch.await.unwrap();
    // THEN every read got its secret from the one batch
    assert!(read.into_iter().all(|r| r.unwrap().is_some()));
    assert_eq!(loader.batches.load(Ordering::SeqCst), 1);
    assert_eq!(loader.loads.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn a_prefetch_skips_webhooks_another_read_is_loading() {
    // GIVEN a read of one webhook's secret under way (loads take 50 ms)
    let loader = Counting {
        delay: Duration::from_millis(50),
        ..Counting::default()
    };
    let ids = signed_webhooks(&loader, 2).await;
    let cache = Arc::new(CachedSecrets::new(loader.clone(), DEFAULT_CACHE_TTL));
    let first = {
        let (cache, id) = (Arc::clone(&cache), ids[0].clone());
        tokio::spawn(async move { cache.get(&id, at(1)).await.unwrap() })
    };
    tokio::task::yield_now().await;
    // WHEN both are prefetched meanwhile
    cache.prefetch(&ids).await;
    first.await.unwrap();
    // THEN the batch carried only the other one, and each was loaded once
    assert_eq!(loader.batches.load(Ordering::SeqCst), 1);
    assert_eq!(loader.batched_ids.load(Ordering::SeqCst), 1);
    assert_eq!(loader.loads.load(Ordering::SeqCst), 1);
    cache.get(&ids[1], at(1)).await.unwrap();
    assert_eq!(
        loader.loads.load(Ordering::SeqCst),
        1,
        "the second came from the batch"
    );
}
