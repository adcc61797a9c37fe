//! The port conformance suites against the embedded SQLite adapters, each case on a
//! fresh database file in its own temporary directory. `DeadLetters` has no SQLite
//! adapter: the local worker keeps a job it cannot read in its table instead.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tempfile::TempDir;
use webhooks_core::domain::delivery_log::LoggedAttempt;
use webhooks_core::domain::event::Event;
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::task::DeliveryTask;
use webhooks_core::domain::time::SystemClock;
use webhooks_core::ports::{
    EventSink, LogReader, LogSink, LogStore, SecretStore, StatsStore, StoreError, TaskQueue,
    WebhookStore,
};
use webhooks_local::{LocalStores, SqliteQueue, Work};
use webhooks_tests::conformance::sinks::{EventSinkProbe, LogSinkProbe};
use webhooks_tests::conformance::support::walk_pages;
use webhooks_tests::conformance::task_queue::QueueProbe;

/// A port on a fresh database; the directory lives as long as the port.
struct Fresh<T: ?Sized> {
    _dir: TempDir,
    port: Arc<T>,
}

impl<T: ?Sized> Deref for Fresh<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.port
    }
}

fn fresh<T: ?Sized>(pick: impl FnOnce(&LocalStores) -> Arc<T>) -> Fresh<T> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let stores = LocalStores::open(dir.path().join("conformance.db"), Arc::new(SystemClock))
        .expect("a fresh database");
    Fresh {
        port: pick(&stores),
        _dir: dir,
    }
}

fn webhook_store() -> Fresh<dyn WebhookStore> {
    fresh(|stores| stores.webhooks.clone() as Arc<dyn WebhookStore>)
}

fn secret_store() -> Fresh<dyn SecretStore> {
    fresh(|stores| stores.secrets.clone() as Arc<dyn SecretStore>)
}

fn stats_store() -> Fresh<dyn StatsStore> {
    fresh(|stores| stores.stats.clone() as Arc<dyn StatsStore>)
}

fn log_store() -> Fresh<dyn LogStore> {
    fresh(|stores| stores.logs.clone() as Arc<dyn LogStore>)
}

/// The local queue, read by claiming and completing its due delivery jobs.
struct SqliteProbe(Arc<SqliteQueue>);

#[async_trait]
impl TaskQueue for SqliteProbe {
    async fn enqueue(&self, task: &DeliveryTask, delay: Duration) -> Result<(), StoreError> {
        self.0.enqueue(task, delay).await
    }

    async fn park_log(&self, attempt: &LoggedAttempt) -> Result<(), StoreError> {
        self.0.park_log(attempt).await
    }

    async fn enqueue_many(
        &self,
        tasks: &[(DeliveryTask, Duration)],
    ) -> Vec<Result<(), StoreError>> {
        self.0.enqueue_many(tasks).await
    }
}

impl SqliteProbe {
    /// Claims and completes every due job; what each carried.
    async fn take_work(&self) -> Result<Vec<Work>, StoreError> {
        let mut taken = Vec::new();
        for job in self.0.claim_due(1000, Duration::from_secs(60)).await? {
            if let Ok(work) = job.work() {
                taken.push(work);
            }
            self.0.complete(job.id).await?;
        }
        Ok(taken)
    }
}

#[async_trait]
impl QueueProbe for SqliteProbe {
    async fn take_due(&self) -> Result<Vec<DeliveryTask>, StoreError> {
        let work = self.take_work().await?;
        Ok(work
            .into_iter()
            .filter_map(|w| match w {
                Work::Delivery(task) => Some(task),
                _ => None,
            })
            .collect())
    }

    async fn take_parked(&self) -> Result<Vec<LoggedAttempt>, StoreError> {
        let work = self.take_work().await?;
        Ok(work
            .into_iter()
            .filter_map(|w| match w {
                Work::Log(attempt) => Some(attempt),
                _ => None,
            })
            .collect())
    }
}

fn task_queue() -> Fresh<dyn QueueProbe> {
    fresh(|stores| Arc::new(SqliteProbe(stores.queue.clone())) as Arc<dyn QueueProbe>)
}

/// The SQLite log store as the log sink it is locally, read back by listing.
struct SqliteLogProbe(Arc<webhooks_local::SqliteLogStore>);

#[async_trait]
impl LogSink for SqliteLogProbe {
    async fn record(&self, attempt: &LoggedAttempt) -> Result<(), StoreError> {
        self.0.record(attempt).await
    }

    async fn record_many(&self, attempts: &[LoggedAttempt]) -> Vec<Result<(), StoreError>> {
        self.0.record_many(attempts).await
    }
}

#[async_trait]
impl LogSinkProbe for SqliteLogProbe {
    async fn arrived(&self, webhook: &WebhookId) -> Result<Vec<LoggedAttempt>, StoreError> {
        let pages = walk_pages(100, |cursor| async move {
            self.0.list(webhook, None, 100, cursor.as_deref()).await
        })
        .await;
        Ok(pages.concat())
    }
}

fn log_sink() -> Fresh<dyn LogSinkProbe> {
    fresh(|stores| Arc::new(SqliteLogProbe(stores.logs.clone())) as Arc<dyn LogSinkProbe>)
}

/// The local queue as `POST /events`' sink, read back by claiming its event jobs.
struct SqliteEventProbe(Arc<SqliteQueue>);

#[async_trait]
impl EventSink for SqliteEventProbe {
    async fn ingest(&self, event: &Event) -> Result<(), StoreError> {
        self.0.ingest(event).await
    }
}

#[async_trait]
impl EventSinkProbe for SqliteEventProbe {
    async fn arrived(&self) -> Result<Vec<Event>, StoreError> {
        let mut events = Vec::new();
        for job in self.0.claim_due(1000, Duration::from_secs(60)).await? {
            if let Ok(Work::Event(event)) = job.work() {
                events.push(event);
            }
            self.0.complete(job.id).await?;
        }
        Ok(events)
    }
}

fn event_sink() -> Fresh<dyn EventSinkProbe> {
    fresh(|stores| Arc::new(SqliteEventProbe(stores.queue.clone())) as Arc<dyn EventSinkProbe>)
}

mod webhook_store {
    use super::*;
    webhooks_tests::webhook_store_conformance!(webhook_store());
}

mod subscribers {
    use super::*;
    webhooks_tests::subscribers_conformance!(webhook_store());
}

mod secret_store {
    use super::*;
    webhooks_tests::secret_store_conformance!(secret_store());
}

mod log_store {
    use super::*;
    webhooks_tests::log_store_conformance!(log_store());
}

mod stats_store {
    use super::*;
    webhooks_tests::stats_store_conformance!(stats_store());
}

mod task_queue {
    use super::*;
    webhooks_tests::task_queue_conformance!(task_queue());
}

mod log_sink {
    use super::*;
    webhooks_tests::log_sink_conformance!(log_sink());
}

mod event_sink {
    use super::*;
    webhooks_tests::event_sink_conformance!(event_sink());
}
