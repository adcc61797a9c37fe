//! The stats store in memory: tallies keyed by webhook, granularity and bucket start.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::lock;
use crate::domain::health::{Granularity, LastSeen, StatsUpdate, Tally};
use crate::domain::ids::WebhookId;
use crate::domain::time::Timestamp;
use crate::ports::{StatsReader, StatsRecorder, StoreError};

type Key = (WebhookId, Granularity, Timestamp);

#[derive(Debug, Default)]
pub struct MemoryStats {
    buckets: Mutex<BTreeMap<Key, Tally>>,
    last: Mutex<BTreeMap<WebhookId, LastSeen>>,
}

#[async_trait]
impl StatsRecorder for MemoryStats {
    async fn record(&self, update: &StatsUpdate) -> Result<(), StoreError> {
        let mut buckets = lock(&self.buckets);
        for (key, tally) in &update.buckets {
            buckets
                .entry((key.webhook_id.clone(), key.granularity, key.start))
                .or_default()
                .merge(tally);
        }
        let mut last = lock(&self.last);
        for (webhook, seen) in &update.last {
            last.entry(webhook.clone()).or_default().merge(seen);
        }
        Ok(())
    }
}

#[async_trait]
impl StatsReader for MemoryStats {
    async fn buckets(
        &self,
        webhook: &WebhookId,
        granularity: Granularity,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(Timestamp, Tally)>, StoreError> {
        Ok(lock(&self.buckets)
            .range((webhook.clone(), granularity, from)..=(webhook.clone(), granularity, to))
            .map(|((_, _, start), tally)| (*start, *tally))
            .collect())
    }

    async fn last_seen(&self, webhook: &WebhookId) -> Result<LastSeen, StoreError> {
        Ok(lock(&self.last).get(webhook).copied().unwrap_or_default())
    }
}
