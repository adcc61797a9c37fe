//! The embedded local mode: SQLite adapters of the core's ports (webhooks, secrets, a
//! durable queue with not-before times, the delivery log), the worker loop that
//! delivers from that queue, and the pruner that keeps the log to its retention. One
//! process owns a database file.

mod app;
mod browser_guard;
mod cache;
mod db;
mod logs;
mod pruner;
mod queue;
mod schema;
mod secrets;
mod stats;
mod webhooks;
mod worker;

#[cfg(test)]
mod test_support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use webhooks_core::domain::time::Clock;
use webhooks_core::outbound::HttpSender;
use webhooks_core::ports::StoreError;
/// What [`Job::work`] reads a job into: the core's, shared with the delivery function.
pub use webhooks_core::usecases::delivery::Work;
use webhooks_core::usecases::delivery::{
    DeliveryPorts, DeliverySettings, Dispatcher, GroupedLogSink,
};

/// The most attempts one delivery-log write takes, and how long the first of a group
/// waits for more.
const LOG_GROUP_MAX: usize = 128;
const LOG_GROUP_LINGER: Duration = Duration::from_millis(1);

pub use app::http_app;
pub use browser_guard::{browser_guarded, BrowserPolicy};
pub use db::Db;
pub use logs::SqliteLogStore;
pub use pruner::{Pruner, PrunerSettings};
pub use queue::{DeadJob, Job, JobKind, SqliteQueue};
pub use secrets::SqliteSecretStore;
pub use stats::SqliteStatsStore;
pub use webhooks::SqliteWebhookStore;
pub use worker::{Worker, WorkerSettings};

/// Every local adapter, on one database file. The `Arc`s coerce to the core's port
/// trait objects (`Arc<dyn WebhookStore>`, ...).
#[derive(Clone)]
pub struct LocalStores {
    pub db: Db,
    pub webhooks: Arc<SqliteWebhookStore>,
    pub secrets: Arc<SqliteSecretStore>,
    /// The task queue and the event sink (`POST /events`).
    pub queue: Arc<SqliteQueue>,
    /// The delivery log and, locally, the log sink.
    pub logs: Arc<SqliteLogStore>,
    /// The webhooks' health, added to by the log store's appends.
    pub stats: Arc<SqliteStatsStore>,
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for LocalStores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalStores").field("db", &self.db).finish()
    }
}

impl LocalStores {
    /// Opens (or creates, mode 0600) the database at `path`. Blocking: call at start.
    pub fn open(path: impl AsRef<Path>, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        let db = Db::open(path)?;
        Ok(Self {
            webhooks: Arc::new(SqliteWebhookStore::new(db.clone())),
            secrets: Arc::new(SqliteSecretStore::new(db.clone())),
            queue: Arc::new(SqliteQueue::new(db.clone(), clock.clone())),
            logs: Arc::new(SqliteLogStore::new(db.clone())),
            stats: Arc::new(SqliteStatsStore::new(db.clone())),
            db,
            clock,
        })
    }

    /// The ports delivery needs, with attempts logged straight into the log store.
    pub fn delivery_ports(&self, sender: Arc<dyn HttpSender>) -> DeliveryPorts {
        DeliveryPorts {
            webhooks: self.webhooks.clone(),
            secrets: self.secrets.clone(),
            queue: self.queue.clone(),
            // Attempts finishing within a millisecond of each other are logged in one
            // write (a fan-out's, mostly).
            logs: Arc::new(GroupedLogSink::new(
                self.logs.clone(),
                LOG_GROUP_MAX,
                LOG_GROUP_LINGER,
            )),
            sender,
            clock: self.clock.clone(),
        }
    }

    pub fn dispatcher(
        &self,
        sender: Arc<dyn HttpSender>,
        settings: DeliverySettings,
    ) -> Dispatcher {
        Dispatcher::new(self.delivery_ports(sender), settings)
    }

    /// The worker over this database's queue. Run one per process.
    pub fn worker(&self, dispatcher: Dispatcher, settings: WorkerSettings) -> Worker {
        Worker::new(SqliteQueue::clone(&self.queue), dispatcher, settings)
    }

    /// The pruner of this database's delivery log, to run beside the worker.
    pub fn pruner(&self, settings: PrunerSettings) -> Pruner {
        Pruner::new(
            SqliteLogStore::clone(&self.logs),
            SqliteStatsStore::clone(&self.stats),
            self.clock.clone(),
            settings,
        )
    }
}
