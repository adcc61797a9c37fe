//! The durable local queue: one `jobs` table holding ingested events and pending
//! delivery attempts, each with a not-before time and a lease. It is the local
//! stand-in for the SQS events and retry queues; a single process owns it.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::params;
use tokio::sync::futures::Notified;
use tokio::sync::Notify;
use webhooks_core::domain::delivery_log::LoggedAttempt;
use webhooks_core::domain::event::Event;
use webhooks_core::domain::task::{DeliveryTask, TaskMessage};
use webhooks_core::domain::time::{Clock, Timestamp};
use webhooks_core::ports::{EventSink, StoreError, TaskQueue};
use webhooks_core::usecases::delivery::Work;

use crate::db::{duration_millis, millis, Db, OrBackend};

/// What a job carries, as stored in its `kind` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    /// An ingested event to fan out (payload: the event JSON).
    Event,
    /// One delivery attempt (payload: a [`TaskMessage`]).
    Delivery,
    /// A delivery-log record whose write failed (payload: a [`TaskMessage`]).
    Log,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Event => "event",
            JobKind::Delivery => "delivery",
            JobKind::Log => "log",
        }
    }
}

/// A claimed job, payload still raw: reading it may fail, and such a job is buried
/// rather than allowed to stop the worker.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub not_before: Timestamp,
    /// Failed runs so far (each `release` adds one).
    pub attempts: u32,
}

impl Job {
    /// Reads the payload as its kind says; the error is the reason the job cannot be
    /// run.
    pub fn work(&self) -> Result<Work, String> {
        if self.kind == JobKind::Event.as_str() {
            Work::event_from_body(&self.payload)
        } else if self.kind == JobKind::Delivery.as_str() || self.kind == JobKind::Log.as_str() {
            Work::task_from_body(&self.payload)
        } else {
            Err(format!("unknown job kind {:?}", self.kind))
        }
    }
}

/// A job that could not be run, kept for an operator to inspect.
#[derive(Clone, Debug, PartialEq)]
pub struct DeadJob {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub attempts: u32,
    pub reason: String,
    pub buried_at: Timestamp,
}

/// The local queue. Cloning is cheap; clones share the database and the wake-up
/// signal.
#[derive(Clone)]
pub struct SqliteQueue {
    db: Db,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
}

impl std::fmt::Debug for SqliteQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteQueue").field("db", &self.db).finish()
    }
}

impl SqliteQueue {
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self {
            db,
            clock,
            wake: Arc::new(Notify::new()),
        }
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Resolves after the next `enqueue` or `ingest` (or at once if one happened since
    /// the last wake-up was consumed).
    pub fn notified(&self) -> Notified<'_> {
        self.wake.notified()
    }

    async fn push(
        &self,
        kind: JobKind,
        payload: String,
        delay: Duration,
    ) -> Result<(), StoreError> {
        let not_before = millis(self.clock.now()).saturating_add(duration_millis(delay));
        self.db
            .write(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO jobs (kind, payload, not_before_ms) VALUES (?1, ?2, ?3)",
                )
                .and_then(|mut insert| insert.execute(params![kind.as_str(), payload, not_before]))
                .or_backend()
                .map(drop)
            })
            .await?;
        self.wake.notify_one();
        Ok(())
    }

    /// Leases up to `limit` due jobs (not before now, lease expired) for `lease`,
    /// oldest due first.
    pub async fn claim_due(&self, limit: usize, lease: Duration) -> Result<Vec<Job>, StoreError> {
        Ok(self.claim_ready(limit, lease).await?.0)
    }

    /// What the worker does each round, as one write (it shares a transaction with
    /// the writes waiting beside it): leases up to `limit` due jobs, oldest due first,
    /// and tells when the next job after them is due,
    /// like [`next_due_at`](Self::next_due_at) but through the indexes (the due index
    /// for jobs not leased, the lease index for leased ones) instead of a scan of the
    /// whole queue. A time in the past means "due now".
    pub async fn claim_ready(
        &self,
        limit: usize,
        lease: Duration,
    ) -> Result<(Vec<Job>, Option<Timestamp>), StoreError> {
        let now = millis(self.clock.now());
        let leased_until = now.saturating_add(duration_millis(lease));
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let (mut jobs, next) = self
            .db
            .write(move |conn| {
                let mut jobs = Vec::new();
                if limit > 0 {
                    let mut claim = conn
                        .prepare_cached(
                            "UPDATE jobs SET leased_until_ms = ?2
                             WHERE id IN (
                                 SELECT id FROM jobs INDEXED BY jobs_by_due
                                 WHERE not_before_ms <= ?1 AND leased_until_ms <= ?1
                                 ORDER BY not_before_ms, id
                                 LIMIT ?3)
                             RETURNING id, kind, payload, not_before_ms, attempts",
                        )
                        .or_backend()?;
                    let rows = claim
                        .query_map(params![now, leased_until, limit], |row| {
                            Ok(Job {
                                id: row.get(0)?,
                                kind: row.get(1)?,
                                payload: row.get(2)?,
                                not_before: Timestamp::from_unix_millis(row.get(3)?),
                                attempts: row.get(4)?,
                            })
                        })
                        .or_backend()?;
                    jobs = rows.collect::<Result<Vec<_>, _>>().or_backend()?;
                }
                // MIN(MAX(not_before, leased_until)) over the queue, in two parts. Not
                // leased (lease ended): the first by due order; if its not-before has
                // passed, something is due now, which is all the answer has to say.
                // Leased: only those rows, found by the lease index.
                let next: Option<i64> = conn
                    .prepare_cached(
                        "SELECT MIN(due) FROM (
                             SELECT due FROM (
                                 SELECT MAX(not_before_ms, leased_until_ms) AS due
                                 FROM jobs INDEXED BY jobs_by_due
                                 WHERE leased_until_ms <= ?1
                                 ORDER BY not_before_ms, id LIMIT 1)
                             UNION ALL
                             SELECT MIN(MAX(not_before_ms, leased_until_ms))
                             FROM jobs INDEXED BY jobs_by_lease
                             WHERE leased_until_ms > ?1)",
                    )
                    .and_then(|mut select| select.query_row([now], |row| row.get(0)))
                    .or_backend()?;
                Ok((jobs, next))
            })
            .await?;
        // RETURNING gives no order guarantee.
        jobs.sort_by_key(|job| (job.not_before, job.id));
        Ok((jobs, next.map(Timestamp::from_unix_millis)))
    }

    /// Removes a job that ran.
    pub async fn complete(&self, job_id: i64) -> Result<(), StoreError> {
        self.db
            .write(move |conn| {
                conn.prepare_cached("DELETE FROM jobs WHERE id = ?1")
                    .and_then(|mut delete| delete.execute([job_id]))
                    .or_backend()
                    .map(drop)
            })
            .await
    }

    /// Gives a failed job back, due again after `retry_in`, counting the failure.
    pub async fn release(&self, job_id: i64, retry_in: Duration) -> Result<(), StoreError> {
        let not_before = millis(self.clock.now()).saturating_add(duration_millis(retry_in));
        self.db
            .write(move |conn| {
                conn.prepare_cached(
                    "UPDATE jobs SET not_before_ms = ?2, leased_until_ms = 0, attempts = attempts + 1
                     WHERE id = ?1",
                )
                .and_then(|mut update| update.execute(params![job_id, not_before]))
                .or_backend()
                .map(drop)
            })
            .await
    }

    /// Moves a job that cannot be run to `dead_jobs`, with the reason.
    pub async fn bury(&self, job_id: i64, reason: &str) -> Result<(), StoreError> {
        let reason = reason.to_owned();
        let now = millis(self.clock.now());
        // Both statements commit together: the write shares one transaction.
        self.db
            .write(move |conn| {
                conn.execute(
                    "INSERT OR REPLACE INTO dead_jobs (id, kind, payload, attempts, reason, buried_at_ms)
                     SELECT id, kind, payload, attempts, ?2, ?3 FROM jobs WHERE id = ?1",
                    params![job_id, reason, now],
                )
                .or_backend()?;
                conn.prepare_cached("DELETE FROM jobs WHERE id = ?1")
                    .and_then(|mut delete| delete.execute([job_id]))
                    .or_backend()
                    .map(drop)
            })
            .await
    }

    /// Drops every lease: at start-up, jobs leased by a previous run of the (single)
    /// owning process are due again at once. Returns how many were leased.
    pub async fn clear_leases(&self) -> Result<usize, StoreError> {
        self.db
            .call(|conn| {
                conn.execute(
                    "UPDATE jobs SET leased_until_ms = 0 WHERE leased_until_ms <> 0",
                    [],
                )
                .or_backend()
            })
            .await
    }

    /// When the next job can be claimed (possibly in the past), if there is one.
    pub async fn next_due_at(&self) -> Result<Option<Timestamp>, StoreError> {
        let at: Option<i64> = self
            .db
            .call(|conn| {
                conn.query_row(
                    "SELECT MIN(MAX(not_before_ms, leased_until_ms)) FROM jobs",
                    [],
                    |row| row.get(0),
                )
                .or_backend()
            })
            .await?;
        Ok(at.map(Timestamp::from_unix_millis))
    }

    /// Jobs waiting or running.
    pub async fn pending(&self) -> Result<usize, StoreError> {
        self.db
            .call(|conn| {
                let count: i64 = conn
                    .query_row("SELECT COUNT(*) FROM jobs", [], |row| row.get(0))
                    .or_backend()?;
                usize::try_from(count).or_backend()
            })
            .await
    }

    /// The most recently buried jobs, newest first.
    pub async fn dead_jobs(&self, limit: usize) -> Result<Vec<DeadJob>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db
            .call(move |conn| {
                let mut statement = conn
                    .prepare_cached(
                        "SELECT id, kind, payload, attempts, reason, buried_at_ms FROM dead_jobs
                         ORDER BY buried_at_ms DESC, id DESC LIMIT ?1",
                    )
                    .or_backend()?;
                let rows = statement
                    .query_map([limit], |row| {
                        Ok(DeadJob {
                            id: row.get(0)?,
                            kind: row.get(1)?,
                            payload: row.get(2)?,
                            attempts: row.get(3)?,
                            reason: row.get(4)?,
                            buried_at: Timestamp::from_unix_millis(row.get(5)?),
                        })
                    })
                    .or_backend()?;
                rows.collect::<Result<Vec<_>, _>>().or_backend()
            })
            .await
    }

    #[cfg(test)]
    pub(crate) async fn push_raw(&self, kind: &str, payload: &str) -> Result<(), StoreError> {
        let (kind, payload) = (kind.to_owned(), payload.to_owned());
        let now = millis(self.clock.now());
        self.db
            .call(move |conn| {
                conn.execute(
                    "INSERT INTO jobs (kind, payload, not_before_ms) VALUES (?1, ?2, ?3)",
                    params![kind, payload, now],
                )
                .or_backend()
                .map(drop)
            })
            .await
    }
}

#[async_trait]
impl TaskQueue for SqliteQueue {
    async fn enqueue(&self, task: &DeliveryTask, delay: Duration) -> Result<(), StoreError> {
        let payload = serde_json::to_string(&TaskMessage::from(task.clone())).or_backend()?;
        self.push(JobKind::Delivery, payload, delay).await
    }

    async fn park_log(&self, attempt: &LoggedAttempt) -> Result<(), StoreError> {
        let message = TaskMessage::DeliveryLogV1(attempt.clone());
        let payload = serde_json::to_string(&message).or_backend()?;
        self.push(JobKind::Log, payload, Duration::ZERO).await
    }
}

#[async_trait]
impl EventSink for SqliteQueue {
    async fn ingest(&self, event: &Event) -> Result<(), StoreError> {
        let payload = serde_json::to_string(event).or_backend()?;
        self.push(JobKind::Event, payload, Duration::ZERO).await
    }
}

#[cfg(test)]
mod tests;
