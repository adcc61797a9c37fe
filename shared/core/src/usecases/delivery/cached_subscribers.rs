//! A per-process cache of fan-out's reads: [`CachedSubscribers`] wraps a
//! [`SubscriberView`] and keeps each (event type, client)'s subscribers for about
//! [`SUBSCRIBERS_TTL`] (±25 %, so the entries of a fleet do not expire together).
//! Concurrent misses of one key make one read (single flight): the others wait for it.
//!
//! The bound it brings (docs/delivery.md): a webhook created, edited or deleted a
//! moment ago may miss, or still get, the deliveries of one TTL in a process that read
//! it before. A replace through the cache (delivery disabling a webhook) forgets
//! every entry of this process at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use rand::Rng;

use crate::domain::ids::WebhookId;
use crate::domain::time::{Clock, Timestamp};
use crate::domain::webhook::Webhook;
use crate::ports::{StoreError, SubscriberView, WebhookReader, WebhookWriter};

/// How long subscribers are kept, before jitter.
pub const SUBSCRIBERS_TTL: Duration = Duration::from_secs(1);
/// The jitter, as a fraction of the TTL either way.
pub const TTL_JITTER: f64 = 0.25;
/// Past this many keys, expired entries are dropped when a new key comes.
const MAX_KEYS: usize = 4096;

type Key = (String, String);

/// One key's entry: the async lock is what makes one read of concurrent misses.
#[derive(Default)]
struct Slot {
    entry: tokio::sync::Mutex<Option<Entry>>,
}

#[derive(Clone)]
struct Entry {
    until: Timestamp,
    webhooks: Arc<[Webhook]>,
}

pub struct CachedSubscribers {
    inner: Arc<dyn SubscriberView>,
    clock: Arc<dyn Clock>,
    ttl: Duration,
    slots: Mutex<HashMap<Key, Arc<Slot>>>,
}

impl CachedSubscribers {
    pub fn new(inner: Arc<dyn SubscriberView>, clock: Arc<dyn Clock>) -> Self {
        Self::with_ttl(inner, clock, SUBSCRIBERS_TTL)
    }

    pub fn with_ttl(inner: Arc<dyn SubscriberView>, clock: Arc<dyn Clock>, ttl: Duration) -> Self {
        Self {
            inner,
            clock,
            ttl,
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn slot(&self, key: Key) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if !slots.contains_key(&key) && slots.len() >= MAX_KEYS {
            let now = self.clock.now();
            slots.retain(|_, slot| match slot.entry.try_lock() {
                Ok(entry) => entry.as_ref().is_some_and(|e| e.until > now),
                Err(_) => true,
            });
        }
        slots.entry(key).or_default().clone()
    }

    fn jittered_ttl(&self) -> Duration {
        let factor = rand::thread_rng().gen_range(1.0 - TTL_JITTER..=1.0 + TTL_JITTER);
        self.ttl.mul_f64(factor)
    }

    fn forget_all(&self) {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

#[async_trait]
impl WebhookReader for CachedSubscribers {
    async fn get(&self, id: &WebhookId) -> Result<Option<Webhook>, StoreError> {
        self.inner.get(id).await
    }
}

#[async_trait]
impl WebhookWriter for CachedSubscribers {
    async fn replace(&self, webhook: &Webhook, expected_version: u64) -> Result<(), StoreError> {
        let result = self.inner.replace(webhook, expected_version).await;
        self.forget_all();
        result
    }
}

#[async_trait]
impl SubscriberView for CachedSubscribers {
    async fn subscribers(
        &self,
        event_type: &str,
        client_id: &str,
    ) -> Result<Vec<Webhook>, StoreError> {
        let slot = self.slot((event_type.to_owned(), client_id.to_owned()));
        let mut entry = slot.entry.lock().await;
        if let Some(fresh) = entry.as_ref().filter(|e| e.until > self.clock.now()) {
            return Ok(fresh.webhooks.to_vec());
        }
        let webhooks: Arc<[Webhook]> = self.inner.subscribers(event_type, client_id).await?.into();
        *entry = Some(Entry {
            until: self.clock.now().plus(self.jittered_ttl()),
            webhooks: webhooks.clone(),
        });
        Ok(webhooks.to_vec())
    }

    async fn set_failing_since(
        &self,
        id: &WebhookId,
        failing_since: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        self.inner.set_failing_since(id, failing_since).await
    }
}

#[cfg(test)]
#[path = "cached_subscribers_tests.rs"]
mod tests;
