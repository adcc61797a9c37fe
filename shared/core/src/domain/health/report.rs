//! The stats of a window, computed from its stored buckets alone: the bucket layout
//! (empty buckets shown as zeros), the success rate and the latency percentiles.

use serde::Serialize;

use super::tally::{LastSeen, Tally};
use super::Window;
use crate::domain::time::Timestamp;

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LatencySummary {
    /// Estimated from the latency histogram (see docs/api.md).
    pub p50: u64,
    pub p95: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StatsBucket {
    pub start: Timestamp,
    pub succeeded: u64,
    pub failed: u64,
    pub p95_ms: Option<u64>,
}

/// `GET /webhooks/{id}/stats`.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WebhookStats {
    /// `1h`, `24h` or `7d`.
    pub window: String,
    pub attempts: u64,
    pub succeeded: u64,
    /// Every attempt that did not succeed.
    pub failed: u64,
    /// `succeeded / attempts`, 0–1; `null` without attempts.
    pub success_rate: Option<f64>,
    /// `null` when no attempt of the window measured a latency.
    pub latency_ms: Option<LatencySummary>,
    pub last_success_at: Option<Timestamp>,
    pub last_failure_at: Option<Timestamp>,
    /// Oldest first; the last holds now.
    pub buckets: Vec<StatsBucket>,
}

/// The window's stats at `now` from the stored buckets (`start`, tally) of its
/// granularity; buckets outside the layout are ignored, missing ones are zeros.
pub fn report(
    window: Window,
    now: Timestamp,
    stored: &[(Timestamp, Tally)],
    last: LastSeen,
) -> WebhookStats {
    let mut whole = Tally::default();
    let buckets: Vec<StatsBucket> = window
        .layout(now)
        .into_iter()
        .map(|start| {
            let mut bucket = Tally::default();
            for (_, tally) in stored.iter().filter(|(at, _)| *at == start) {
                bucket.merge(tally);
            }
            whole.merge(&bucket);
            StatsBucket {
                start,
                succeeded: bucket.succeeded,
                failed: bucket.failed,
                p95_ms: bucket.latency.quantile(0.95),
            }
        })
        .collect();
    let attempts = whole.succeeded + whole.failed;
    let latency_ms = match (whole.latency.quantile(0.5), whole.latency.quantile(0.95)) {
        (Some(p50), Some(p95)) => Some(LatencySummary { p50, p95 }),
        _ => None,
    };
    WebhookStats {
        window: window.as_str().to_owned(),
        attempts,
        succeeded: whole.succeeded,
        failed: whole.failed,
        success_rate: (attempts > 0).then(|| whole.succeeded as f64 / attempts as f64),
        latency_ms,
        last_success_at: last.success,
        last_failure_at: last.failure,
        buckets,
    }
}
