//! Attempts grouped into what the stats store adds: per webhook, granularity and
//! bucket, the counts and latencies of the attempts; per webhook, its latest success
//! and failure. A batch becomes one addition per bucket touched.

use std::collections::BTreeMap;

use super::histogram::LatencyHistogram;
use super::Granularity;
use crate::domain::delivery_log::{LoggedAttempt, Outcome};
use crate::domain::ids::WebhookId;
use crate::domain::time::Timestamp;

/// One stored bucket's counts. `failed` is every attempt that did not succeed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub succeeded: u64,
    pub failed: u64,
    /// The latencies of the attempts that measured one (`elapsed_ms`).
    pub latency: LatencyHistogram,
}

impl Tally {
    pub fn add(&mut self, attempt: &LoggedAttempt) {
        if attempt.record.outcome == Outcome::Succeeded {
            self.succeeded += 1;
        } else {
            self.failed += 1;
        }
        if let Some(ms) = attempt.record.elapsed_ms {
            self.latency.add(ms);
        }
    }

    pub fn merge(&mut self, other: &Tally) {
        self.succeeded += other.succeeded;
        self.failed += other.failed;
        self.latency.merge(&other.latency);
    }
}

/// Where a tally is added.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BucketKey {
    pub webhook_id: WebhookId,
    pub granularity: Granularity,
    /// The bucket's start ([`Granularity::floor`]).
    pub start: Timestamp,
}

impl BucketKey {
    /// When the stored bucket may be dropped.
    pub fn expires_at(&self) -> Timestamp {
        self.start.plus(self.granularity.retention())
    }
}

/// A webhook's latest success and failure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LastSeen {
    pub success: Option<Timestamp>,
    pub failure: Option<Timestamp>,
}

impl LastSeen {
    /// The later of each.
    pub fn merge(&mut self, other: &LastSeen) {
        self.success = self.success.max(other.success);
        self.failure = self.failure.max(other.failure);
    }
}

/// What a batch of attempts adds to the stats.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatsUpdate {
    pub buckets: BTreeMap<BucketKey, Tally>,
    pub last: BTreeMap<WebhookId, LastSeen>,
}

impl StatsUpdate {
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty() && self.last.is_empty()
    }
}

/// The attempts grouped by webhook and bucket, in every granularity.
pub fn tally<'a>(attempts: impl IntoIterator<Item = &'a LoggedAttempt>) -> StatsUpdate {
    let mut update = StatsUpdate::default();
    for attempt in attempts {
        let record = &attempt.record;
        for granularity in Granularity::ALL {
            let key = BucketKey {
                webhook_id: record.webhook_id.clone(),
                granularity,
                start: granularity.floor(record.at),
            };
            update.buckets.entry(key).or_default().add(attempt);
        }
        let seen = if record.outcome == Outcome::Succeeded {
            LastSeen {
                success: Some(record.at),
                failure: None,
            }
        } else {
            LastSeen {
                success: None,
                failure: Some(record.at),
            }
        };
        update
            .last
            .entry(record.webhook_id.clone())
            .or_default()
            .merge(&seen);
    }
    update
}
