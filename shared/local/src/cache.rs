//! Read-through caches of what delivery reads on every event or attempt (an event
//! type's subscribers, a webhook's secret row), owned by the store that reads them
//! (`SqliteWebhookStore`, `SqliteSecretStore`; one of each per database, built by
//! `Stores::open`, their clones sharing the cache). One process owns a database file,
//! and every write of those tables goes through the stores, which invalidate on the
//! database thread right after the write (`Db::call_invalidating`), even when the
//! caller no longer waits for it.
//!
//! A reader fills the cache only if no invalidation happened since it began reading:
//! otherwise it might have read the row before a write committed and would keep the
//! old value for good.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};

pub(crate) struct Cache<K, V> {
    inner: Mutex<Inner<K, V>>,
}

impl<K, V> std::fmt::Debug for Cache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cache")
    }
}

struct Inner<K, V> {
    generation: u64,
    entries: HashMap<K, V>,
}

/// Where a read began, to fill the cache with what it read.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ticket(u64);

impl<K: Eq + Hash, V: Clone> Cache<K, V> {
    pub(crate) fn new() -> Self {
        Self {
            inner: Mutex::new(Inner {
                generation: 0,
                entries: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<K, V>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached value, or a ticket to read the store with and then [`fill`](Self::fill).
    pub(crate) fn get<Q>(&self, key: &Q) -> Result<V, Ticket>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let inner = self.lock();
        inner
            .entries
            .get(key)
            .cloned()
            .ok_or(Ticket(inner.generation))
    }

    /// Keeps what a read that began at `ticket` found, unless the cache was
    /// invalidated meanwhile.
    pub(crate) fn fill(&self, ticket: Ticket, key: K, value: V) {
        let mut inner = self.lock();
        if inner.generation == ticket.0 {
            inner.entries.insert(key, value);
        }
    }

    /// Forgets everything; call after a write to the cached table committed (or may
    /// have).
    pub(crate) fn invalidate(&self) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_that_overlapped_a_write_is_not_kept() {
        let cache: Cache<String, u32> = Cache::new();
        // GIVEN a read that began before a write
        let ticket = cache.get("k").unwrap_err();
        cache.invalidate();
        // WHEN it fills the cache with what it read
        cache.fill(ticket, "k".to_owned(), 1);
        // THEN the possibly stale value is not kept
        assert!(cache.get("k").is_err());
        // AND a read after the write is
        let ticket = cache.get("k").unwrap_err();
        cache.fill(ticket, "k".to_owned(), 2);
        assert_eq!(cache.get("k").ok(), Some(2));
    }
}
