use std::sync::atomic::{AtomicUsize, Ordering};

use futures::future::join_all;

use super::*;
use crate::domain::webhook::ClientScope;
use crate::ports::WebhookRegistry;
use crate::testing::fakes::ManualClock;
use crate::testing::fixtures::{base_time, webhook};
use crate::testing::memory::MemoryWebhookStore;

const EVENT: &str = "report.publish_status";

/// A store that counts its subscriber reads, each of which takes a few turns of
/// the scheduler (so that concurrent callers overlap).
#[derive(Default)]
struct Counting {
    store: MemoryWebhookStore,
    reads: AtomicUsize,
}

#[async_trait]
impl WebhookReader for Counting {
    async fn get(&self, id: &WebhookId) -> Result<Option<Webhook>, StoreError> {
        self.store.get(id).await
    }
}

#[async_trait]
impl WebhookWriter for Counting {
    async fn replace(&self, webhook: &Webhook, expected: u64) -> Result<(), StoreError> {
        self.store.replace(webhook, expected).await
    }
}

#[async_trait]
impl SubscriberView for Counting {
    async fn subscribers(&self, event: &str, client: &str) -> Result<Vec<Webhook>, StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        self.store.subscribers(event, client).await
    }

    async fn set_failing_since(
        &self,
        id: &WebhookId,
        at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        self.store.set_failing_since(id, at).await
    }
}

fn cached() -> (Arc<Counting>, Arc<ManualClock>, CachedSubscribers) {
    let store = Arc::new(Counting::default());
    let clock = Arc::new(ManualClock::at(base_time()));
    let cache = CachedSubscribers::new(store.clone(), clock.clone());
    (store, clock, cache)
}

fn reads(store: &Counting) -> usize {
    store.reads.load(Ordering::SeqCst)
}

#[tokio::test]
async fn a_second_read_within_the_ttl_is_answered_from_the_cache() {
    // GIVEN a cached read of acme's subscribers
    let (store, clock, cache) = cached();
    let hook = webhook(EVENT);
    store.store.insert(&hook).await.unwrap();
    assert_eq!(
        cache.subscribers(EVENT, "acme").await.unwrap(),
        vec![hook.clone()]
    );
    // WHEN a webhook is added and the same key is read before the shortest TTL
    store.store.insert(&webhook(EVENT)).await.unwrap();
    clock.advance(SUBSCRIBERS_TTL.mul_f64(1.0 - TTL_JITTER) - Duration::from_millis(10));
    let again = cache.subscribers(EVENT, "acme").await.unwrap();
    // THEN the store was read once and the answer is the cached one
    assert_eq!(again, vec![hook]);
    assert_eq!(reads(&store), 1);
}

#[tokio::test]
async fn a_read_after_the_longest_ttl_reads_the_store_again() {
    // GIVEN a cached read, then a new webhook
    let (store, clock, cache) = cached();
    cache.subscribers(EVENT, "acme").await.unwrap();
    let hook = webhook(EVENT);
    store.store.insert(&hook).await.unwrap();
    // WHEN the longest TTL has passed
    clock.advance(SUBSCRIBERS_TTL.mul_f64(1.0 + TTL_JITTER) + Duration::from_millis(10));
    let found = cache.subscribers(EVENT, "acme").await.unwrap();
    // THEN the new webhook is found, by a second read
    assert_eq!(found, vec![hook]);
    assert_eq!(reads(&store), 2);
}

#[tokio::test]
async fn concurrent_misses_of_one_key_make_one_read() {
    // GIVEN an empty cache
    let (store, _clock, cache) = cached();
    store.store.insert(&webhook(EVENT)).await.unwrap();
    // WHEN ten callers ask for the same key at once
    let answers = join_all((0..10).map(|_| cache.subscribers(EVENT, "acme"))).await;
    // THEN one read served them all
    assert!(answers.iter().all(|a| a.as_ref().unwrap().len() == 1));
    assert_eq!(reads(&store), 1);
}

#[tokio::test]
async fn keys_are_cached_apart_by_event_type_and_client() {
    // GIVEN a webhook of acme only
    let (store, _clock, cache) = cached();
    let mut hook = webhook(EVENT);
    hook.clients = ClientScope::Only(vec!["acme".into()]);
    store.store.insert(&hook).await.unwrap();
    // WHEN acme's and globex's subscribers are read
    let acme = cache.subscribers(EVENT, "acme").await.unwrap();
    let globex = cache.subscribers(EVENT, "globex").await.unwrap();
    // THEN each key has its own read and answer
    assert_eq!(acme, vec![hook]);
    assert!(globex.is_empty());
    assert_eq!(reads(&store), 2);
}

#[tokio::test]
async fn a_failed_read_is_not_cached() {
    // GIVEN a store whose read fails (a webhook of another event type answers fine)
    struct Down;
    #[async_trait]
    impl WebhookReader for Down {
        async fn get(&self, _: &WebhookId) -> Result<Option<Webhook>, StoreError> {
            Ok(None)
        }
    }
    #[async_trait]
    impl WebhookWriter for Down {
        async fn replace(&self, _: &Webhook, _: u64) -> Result<(), StoreError> {
            Ok(())
        }
    }
    #[async_trait]
    impl SubscriberView for Down {
        async fn subscribers(&self, _: &str, _: &str) -> Result<Vec<Webhook>, StoreError> {
            Err(StoreError::Unavailable("down".into()))
        }
        async fn set_failing_since(
            &self,
            _: &WebhookId,
            _: Option<Timestamp>,
        ) -> Result<(), StoreError> {
            Ok(())
        }
    }
    let cache = CachedSubscribers::new(Arc::new(Down), Arc::new(ManualClock::at(base_time())));
    // WHEN it is read twice
    // THEN both reads fail: no empty answer was kept
    assert!(cache.subscribers(EVENT, "acme").await.is_err());
    assert!(cache.subscribers(EVENT, "acme").await.is_err());
}

#[tokio::test]
async fn a_replace_through_the_cache_forgets_what_it_kept() {
    // GIVEN a cached subscriber
    let (store, _clock, cache) = cached();
    let hook = webhook(EVENT);
    store.store.insert(&hook).await.unwrap();
    cache.subscribers(EVENT, "acme").await.unwrap();
    // WHEN it is disabled through the cache
    let mut disabled = hook.clone();
    disabled.enabled = false;
    disabled.version = 2;
    cache.replace(&disabled, 1).await.unwrap();
    // THEN the next fan-out reads again and no longer finds it
    assert!(cache.subscribers(EVENT, "acme").await.unwrap().is_empty());
    assert_eq!(reads(&store), 2);
}
