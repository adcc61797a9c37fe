//! The port conformance suites against the embedded SQLite adapters, each case on a
//! fresh database file in its own temporary directory.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tempfile::TempDir;
use webhooks_core::ports::{LogStore, SecretStore, StoreError, TaskQueue, WebhookStore};
use webhooks_core::task::DeliveryTask;
use webhooks_core::time::SystemClock;
use webhooks_local::{LocalStores, SqliteQueue, Work};
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
}

#[async_trait]
impl QueueProbe for SqliteProbe {
    async fn take_due(&self) -> Result<Vec<DeliveryTask>, StoreError> {
        let mut tasks = Vec::new();
        for job in self.0.claim_due(1000, Duration::from_secs(60)).await? {
            if let Ok(Work::Delivery(task)) = job.work() {
                tasks.push(task);
            }
            self.0.complete(job.id).await?;
        }
        Ok(tasks)
    }
}

fn task_queue() -> Fresh<dyn QueueProbe> {
    fresh(|stores| Arc::new(SqliteProbe(stores.queue.clone())) as Arc<dyn QueueProbe>)
}

mod webhook_store {
    use super::*;
    webhooks_tests::webhook_store_conformance!(webhook_store());
}

mod secret_store {
    use super::*;
    webhooks_tests::secret_store_conformance!(secret_store());
}

mod log_store {
    use super::*;
    webhooks_tests::log_store_conformance!(log_store());
}

mod task_queue {
    use super::*;
    webhooks_tests::task_queue_conformance!(task_queue());
}
