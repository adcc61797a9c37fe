//! The delivery-log pruner: a task beside the worker that deletes records older than
//! the retention, and the webhook-stats buckets past their expiry, once at start and
//! then every `every`, until shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};
use webhooks_core::config::DEFAULT_LOG_RETENTION;
use webhooks_core::domain::time::{Clock, Timestamp};
use webhooks_core::ports::StoreError;

use crate::db::duration_millis;
use crate::logs::SqliteLogStore;
use crate::stats::SqliteStatsStore;

#[derive(Clone, Debug)]
pub struct PrunerSettings {
    /// Delivery-log records older than this are deleted (`LOG_RETENTION_DAYS`).
    pub retention: Duration,
    /// How often the log is pruned (also once at start).
    pub every: Duration,
}

impl Default for PrunerSettings {
    fn default() -> Self {
        Self {
            retention: DEFAULT_LOG_RETENTION,
            every: Duration::from_secs(3600),
        }
    }
}

/// Prunes one database's delivery log.
pub struct Pruner {
    logs: SqliteLogStore,
    stats: SqliteStatsStore,
    clock: Arc<dyn Clock>,
    settings: PrunerSettings,
}

impl Pruner {
    pub fn new(
        logs: SqliteLogStore,
        stats: SqliteStatsStore,
        clock: Arc<dyn Clock>,
        settings: PrunerSettings,
    ) -> Self {
        Self {
            logs,
            stats,
            clock,
            settings,
        }
    }

    /// Prunes now and then every `every` until `shutdown` resolves. Failures are
    /// logged and tried again at the next round.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            self.prune_logged().await;
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = tokio::time::sleep(self.settings.every) => {}
            }
        }
    }

    /// Deletes delivery-log records older than the retention and expired stats
    /// buckets; returns how many records.
    pub async fn prune(&self) -> Result<usize, StoreError> {
        let now = self.clock.now();
        self.stats.prune_expired(now).await?;
        let cutoff = Timestamp::from_unix_millis(
            now.unix_millis()
                .saturating_sub(duration_millis(self.settings.retention)),
        );
        self.logs.prune_older_than(cutoff).await
    }

    async fn prune_logged(&self) {
        match self.prune().await {
            Ok(0) => {}
            Ok(pruned) => info!(records = pruned, "pruned the delivery log"),
            Err(error) => warn!(error = %error, "could not prune the delivery log"),
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::oneshot;
    use webhooks_core::domain::delivery_log::{DeliveryLogRecord, LoggedAttempt, Outcome};
    use webhooks_core::domain::health::Granularity;
    use webhooks_core::domain::ids::{DeliveryId, WebhookId};
    use webhooks_core::ports::{LogAppender, LogReader, StatsReader};

    use super::*;
    use crate::test_support::{event, ManualClock};
    use crate::LocalStores;

    fn logged(webhook: &WebhookId, delivery: &str, at: &str) -> LoggedAttempt {
        let event = event("evt_1");
        LoggedAttempt {
            record: DeliveryLogRecord {
                delivery_id: DeliveryId::from_trusted(delivery),
                webhook_id: webhook.clone(),
                event_id: event.id.clone(),
                event: event.event_type.clone(),
                client_id: event.client_id.clone(),
                attempt: 1,
                outcome: Outcome::Succeeded,
                status_code: Some(200),
                elapsed_ms: Some(3),
                error: None,
                response_excerpt: None,
                at: Timestamp::parse(at).unwrap(),
                next_attempt_at: None,
            },
            occurred_at: event.occurred_at,
            data: event.data,
        }
    }

    async fn delivery_ids(stores: &LocalStores, hook: &WebhookId) -> Vec<String> {
        let page = stores.logs.list(hook, None, 10, None).await.unwrap();
        page.items
            .iter()
            .map(|a| a.record.delivery_id.to_string())
            .collect()
    }

    #[tokio::test]
    async fn given_records_around_the_retention_when_pruned_then_only_the_older_go() {
        // GIVEN records from 31 days ago, 29 days ago and today, and a 30-day retention
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::at("2026-11-28T12:00:00Z");
        let stores = LocalStores::open(dir.path().join("pruner.db"), clock).unwrap();
        let hook = WebhookId::from_trusted("wh_1");
        stores
            .logs
            .append(&[
                logged(&hook, "dlv_old", "2026-10-28T11:59:59Z"),
                logged(&hook, "dlv_kept", "2026-10-30T12:00:00Z"),
                logged(&hook, "dlv_new", "2026-11-28T12:00:00Z"),
            ])
            .await
            .unwrap();
        let pruner = stores.pruner(PrunerSettings::default());
        // WHEN the pruner prunes
        let pruned = pruner.prune().await.unwrap();
        // THEN only the record past the retention is gone
        assert_eq!(pruned, 1);
        assert_eq!(delivery_ids(&stores, &hook).await, ["dlv_new", "dlv_kept"]);
    }

    #[tokio::test]
    async fn given_stats_buckets_around_their_expiry_when_pruned_then_only_the_expired_go() {
        // GIVEN slot buckets (kept 2 hours) from 3 hours and 1 hour ago
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::at("2026-11-28T12:00:00Z");
        let stores = LocalStores::open(dir.path().join("pruner.db"), clock).unwrap();
        let hook = WebhookId::from_trusted("wh_1");
        stores
            .logs
            .append(&[
                logged(&hook, "dlv_old", "2026-11-28T09:00:00Z"),
                logged(&hook, "dlv_new", "2026-11-28T11:00:00Z"),
            ])
            .await
            .unwrap();
        // WHEN the pruner prunes
        stores
            .pruner(PrunerSettings::default())
            .prune()
            .await
            .unwrap();
        // THEN only the recent slot is left; the hour buckets (kept 2 days) stay
        let from = Timestamp::parse("2026-11-28T00:00:00Z").unwrap();
        let to = Timestamp::parse("2026-11-28T12:00:00Z").unwrap();
        let slots = stores
            .stats
            .buckets(&hook, Granularity::Slot, from, to)
            .await
            .unwrap();
        let starts: Vec<String> = slots.iter().map(|(start, _)| start.to_string()).collect();
        assert_eq!(starts, ["2026-11-28T11:00:00.000Z"]);
        let hours = stores
            .stats
            .buckets(&hook, Granularity::Hour, from, to)
            .await
            .unwrap();
        assert_eq!(hours.len(), 2);
    }

    #[tokio::test]
    async fn given_a_running_pruner_when_rounds_pass_then_each_prunes_until_shutdown() {
        // GIVEN an expired record, and a pruner running every 20 ms
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::at("2026-11-28T12:00:00Z");
        let stores = LocalStores::open(dir.path().join("pruner.db"), clock).unwrap();
        let hook = WebhookId::from_trusted("wh_1");
        let expired = |id: &str| logged(&hook, id, "2026-10-01T00:00:00Z");
        stores.logs.append(&[expired("dlv_1")]).await.unwrap();
        let pruner = stores.pruner(PrunerSettings {
            every: Duration::from_millis(20),
            ..PrunerSettings::default()
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let running = tokio::spawn(pruner.run(async {
            let _ = stopped.await;
        }));
        // WHEN it starts, THEN the record is pruned
        let patience = Duration::from_secs(10);
        let gone = tokio::time::timeout(patience, async {
            while !delivery_ids(&stores, &hook).await.is_empty() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        assert!(gone.await.is_ok(), "pruned at start");
        // AND one that expired meanwhile goes at a later round
        stores.logs.append(&[expired("dlv_2")]).await.unwrap();
        let gone = tokio::time::timeout(patience, async {
            while !delivery_ids(&stores, &hook).await.is_empty() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        assert!(gone.await.is_ok(), "pruned again");
        // AND it stops promptly when asked
        stop.send(()).unwrap();
        let stopped = tokio::time::timeout(patience, running).await;
        assert!(matches!(stopped, Ok(Ok(()))), "stops on shutdown");
    }
}
