//! A webhook's health in SQLite: one `webhook_stats` row per webhook, granularity and
//! bucket start (counts, a latency histogram as a JSON array, an expiry), one
//! `webhook_last_seen` row per webhook. The log store adds each newly logged attempt
//! in the transaction of its append ([`add`]); a window reads its rows by key.

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};
use webhooks_core::domain::health::{Granularity, LastSeen, LatencyHistogram, StatsUpdate, Tally};
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::time::Timestamp;
use webhooks_core::ports::{StatsReader, StatsRecorder, StoreError};

use crate::db::{millis, Db, OrBackend};

#[derive(Clone, Debug)]
pub struct SqliteStatsStore {
    db: Db,
}

impl SqliteStatsStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Deletes the buckets expired at `now`; returns how many.
    pub async fn prune_expired(&self, now: Timestamp) -> Result<usize, StoreError> {
        let now = millis(now);
        self.db
            .call(move |conn| {
                conn.execute("DELETE FROM webhook_stats WHERE expires_at_ms < ?1", [now])
                    .or_backend()
            })
            .await
    }
}

/// Adds `update` to the stored stats, inside the caller's transaction.
pub(crate) fn add(conn: &Connection, update: &StatsUpdate) -> Result<(), StoreError> {
    let mut read = conn
        .prepare_cached(
            "SELECT succeeded, failed, latency FROM webhook_stats
             WHERE webhook_id = ?1 AND granularity = ?2 AND start_ms = ?3",
        )
        .or_backend()?;
    let mut write = conn
        .prepare_cached(
            "INSERT OR REPLACE INTO webhook_stats
             (webhook_id, granularity, start_ms, succeeded, failed, latency, expires_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .or_backend()?;
    for (key, added) in &update.buckets {
        let id = key.webhook_id.as_str();
        let granularity = key.granularity.as_str();
        let start = millis(key.start);
        let stored: Option<(i64, i64, String)> = read
            .query_row(params![id, granularity, start], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .optional()
            .or_backend()?;
        let mut tally = match stored {
            Some(row) => decode(row)?,
            None => Tally::default(),
        };
        tally.merge(added);
        write
            .execute(params![
                id,
                granularity,
                start,
                count(tally.succeeded),
                count(tally.failed),
                serde_json::to_string(&tally.latency.counts.to_vec()).or_backend()?,
                millis(key.expires_at()),
            ])
            .or_backend()?;
    }
    // The latest times only move forward.
    let mut last = conn
        .prepare_cached(
            "INSERT INTO webhook_last_seen (webhook_id, last_success_ms, last_failure_ms)
             VALUES (?1, ?2, ?3)
             ON CONFLICT (webhook_id) DO UPDATE SET
               last_success_ms = MAX(COALESCE(last_success_ms, excluded.last_success_ms),
                                     COALESCE(excluded.last_success_ms, last_success_ms)),
               last_failure_ms = MAX(COALESCE(last_failure_ms, excluded.last_failure_ms),
                                     COALESCE(excluded.last_failure_ms, last_failure_ms))",
        )
        .or_backend()?;
    for (webhook, seen) in &update.last {
        last.execute(params![
            webhook.as_str(),
            seen.success.map(millis),
            seen.failure.map(millis)
        ])
        .or_backend()?;
    }
    Ok(())
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn decode((succeeded, failed, latency): (i64, i64, String)) -> Result<Tally, StoreError> {
    let stored: Vec<u64> = serde_json::from_str(&latency).or_backend()?;
    let mut histogram = LatencyHistogram::default();
    for (slot, value) in histogram.counts.iter_mut().zip(stored) {
        *slot = value;
    }
    Ok(Tally {
        succeeded: u64::try_from(succeeded).unwrap_or(0),
        failed: u64::try_from(failed).unwrap_or(0),
        latency: histogram,
    })
}

#[async_trait]
impl StatsRecorder for SqliteStatsStore {
    async fn record(&self, update: &StatsUpdate) -> Result<(), StoreError> {
        if update.is_empty() {
            return Ok(());
        }
        let update = update.clone();
        self.db.write(move |conn| add(conn, &update)).await
    }
}

#[async_trait]
impl StatsReader for SqliteStatsStore {
    async fn buckets(
        &self,
        webhook: &WebhookId,
        granularity: Granularity,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(Timestamp, Tally)>, StoreError> {
        let id = webhook.as_str().to_owned();
        let (from, to) = (millis(from), millis(to));
        let rows: Vec<(i64, (i64, i64, String))> = self
            .db
            .call(move |conn| {
                let mut statement = conn
                    .prepare_cached(
                        "SELECT start_ms, succeeded, failed, latency FROM webhook_stats
                         WHERE webhook_id = ?1 AND granularity = ?2
                           AND start_ms BETWEEN ?3 AND ?4",
                    )
                    .or_backend()?;
                let rows = statement
                    .query_map(params![id, granularity.as_str(), from, to], |row| {
                        Ok((row.get(0)?, (row.get(1)?, row.get(2)?, row.get(3)?)))
                    })
                    .or_backend()?;
                rows.collect::<Result<Vec<_>, _>>().or_backend()
            })
            .await?;
        rows.into_iter()
            .map(|(start, row)| Ok((Timestamp::from_unix_millis(start), decode(row)?)))
            .collect()
    }

    async fn last_seen(&self, webhook: &WebhookId) -> Result<LastSeen, StoreError> {
        let id = webhook.as_str().to_owned();
        let row: Option<(Option<i64>, Option<i64>)> = self
            .db
            .call(move |conn| {
                conn.query_row(
                    "SELECT last_success_ms, last_failure_ms FROM webhook_last_seen
                     WHERE webhook_id = ?1",
                    [id],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()
                .or_backend()
            })
            .await?;
        let (success, failure) = row.unwrap_or_default();
        Ok(LastSeen {
            success: success.map(Timestamp::from_unix_millis),
            failure: failure.map(Timestamp::from_unix_millis),
        })
    }
}

#[cfg(test)]
mod tests {
    use webhooks_core::domain::delivery_log::{DeliveryLogRecord, LoggedAttempt, Outcome};
    use webhooks_core::domain::ids::DeliveryId;
    use webhooks_core::ports::LogAppender;

    use super::*;
    use crate::test_support::{event, ManualClock};
    use crate::LocalStores;

    fn base_time() -> Timestamp {
        Timestamp::parse("2026-11-28T12:00:00Z").unwrap()
    }

    fn attempt(number: u32, outcome: Outcome) -> LoggedAttempt {
        let event = event("evt_1");
        LoggedAttempt {
            record: DeliveryLogRecord {
                delivery_id: DeliveryId::from_trusted("dlv_1"),
                webhook_id: WebhookId::from_trusted("wh_1"),
                event_id: event.id.clone(),
                event: event.event_type.clone(),
                client_id: event.client_id.clone(),
                attempt: number,
                outcome,
                status_code: Some(200),
                elapsed_ms: Some(3),
                error: None,
                response_excerpt: None,
                at: base_time(),
                next_attempt_at: None,
            },
            occurred_at: event.occurred_at,
            data: event.data,
        }
    }

    #[tokio::test]
    async fn given_an_attempt_appended_twice_when_the_stats_are_read_then_it_counts_once() {
        // GIVEN a fresh database
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::at("2026-11-28T12:00:00Z");
        let stores = LocalStores::open(dir.path().join("stats.db"), clock).unwrap();
        let hook = WebhookId::from_trusted("wh_1");
        let first = attempt(1, Outcome::Retrying);
        let second = attempt(2, Outcome::Succeeded);
        // WHEN the first attempt is appended, then both (the first again, redelivered)
        stores
            .logs
            .append(std::slice::from_ref(&first))
            .await
            .unwrap();
        stores.logs.append(&[first, second]).await.unwrap();
        // THEN each granularity counts two attempts, one failed and one succeeded
        for granularity in Granularity::ALL {
            let start = granularity.floor(base_time());
            let buckets = stores
                .stats
                .buckets(&hook, granularity, start, start)
                .await
                .unwrap();
            assert_eq!(buckets.len(), 1);
            let tally = buckets[0].1;
            assert_eq!(
                (tally.succeeded, tally.failed, tally.latency.total()),
                (1, 1, 2)
            );
        }
        // AND the latest times are the attempts'
        let last = stores.stats.last_seen(&hook).await.unwrap();
        assert_eq!(
            (last.success, last.failure),
            (Some(base_time()), Some(base_time()))
        );
    }
}
