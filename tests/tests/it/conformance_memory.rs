//! The port conformance suites against core's in-memory adapters (the ones the use
//! cases' own tests run on), so a rule the suites check holds there too.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use webhooks_core::domain::delivery_log::LoggedAttempt;
use webhooks_core::domain::task::DeliveryTask;
use webhooks_core::ports::{StoreError, TaskQueue};
use webhooks_core::testing::memory::{
    MemoryDeadLetters, MemoryEventSink, MemoryLogs, MemorySecretStore, MemoryTaskQueue,
    MemoryWebhookStore,
};
use webhooks_core::testing::memory_stats::MemoryStats;
use webhooks_tests::conformance::task_queue::QueueProbe;

/// The memory queue, read by taking its due tasks.
#[derive(Default)]
struct MemoryProbe(MemoryTaskQueue);

#[async_trait]
impl TaskQueue for MemoryProbe {
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

#[async_trait]
impl QueueProbe for MemoryProbe {
    async fn take_due(&self) -> Result<Vec<DeliveryTask>, StoreError> {
        Ok(self.0.take_due())
    }

    async fn take_parked(&self) -> Result<Vec<LoggedAttempt>, StoreError> {
        Ok(self.0.parked())
    }
}

mod webhook_store {
    use super::*;
    webhooks_tests::webhook_store_conformance!(Arc::new(MemoryWebhookStore::default()));
}

mod subscribers {
    use super::*;
    webhooks_tests::subscribers_conformance!(Arc::new(MemoryWebhookStore::default()));
}

mod secret_store {
    use super::*;
    webhooks_tests::secret_store_conformance!(Arc::new(MemorySecretStore::default()));
}

mod log_store {
    use super::*;
    webhooks_tests::log_store_conformance!(Arc::new(MemoryLogs::default()));
}

mod task_queue {
    use super::*;
    webhooks_tests::task_queue_conformance!(Arc::new(MemoryProbe::default()));
}

mod log_sink {
    use super::*;
    webhooks_tests::log_sink_conformance!(Arc::new(MemoryLogs::default()));
}

mod event_sink {
    use super::*;
    webhooks_tests::event_sink_conformance!(Arc::new(MemoryEventSink::default()));
}

mod dead_letters {
    use super::*;
    webhooks_tests::dead_letters_conformance!(Arc::new(MemoryDeadLetters::default()));
}

mod stats_store {
    use super::*;
    webhooks_tests::stats_store_conformance!(Arc::new(MemoryStats::default()));
}
