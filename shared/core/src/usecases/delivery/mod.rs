//! Fan-out and delivery: the use case behind the delivery function and the local
//! worker.

mod attempt;
pub mod batch;
#[cfg(test)]
mod batch_tests;
mod cached_subscribers;
mod consequences;
mod grouped_log;
mod grouping;
pub mod hold;
pub mod isolation;
#[cfg(test)]
mod isolation_tests;
mod notice;
#[cfg(test)]
mod notice_tests;
mod outcome;
#[cfg(test)]
mod prefetch_tests;
mod rate;
#[cfg(test)]
mod rate_tests;
mod request;
#[cfg(test)]
mod tests;
mod work;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use tokio::sync::Semaphore;
use tracing::{debug, info, warn};

pub use cached_subscribers::{CachedSubscribers, SUBSCRIBERS_TTL, TTL_JITTER};
pub use grouped_log::{GroupedLogSink, GroupedTaskQueue};
pub use isolation::{Isolation, IsolationSettings};
pub use outcome::{verdict, Verdict};
pub use request::delivery_request;
pub use work::{Ran, Work};

use isolation::Admission;

use crate::config::{OutboundConfig, DEFAULT_DELIVERY_TIMEOUT};
use crate::domain::delivery_log::Outcome;
use crate::domain::event::Event;
use crate::domain::ids::WebhookId;
use crate::domain::retry::RetrySchedule;
use crate::domain::task::DeliveryTask;
use crate::domain::time::Clock;
use crate::domain::webhook::Webhook;
use crate::metrics::DeliveryObserver;
use crate::outbound::HttpSender;
use crate::ports::{LogSink, SecretReader, StoreError, SubscriberView, TaskQueue};

/// Time kept back before an invocation's deadline for what follows a request (its log
/// record, the next attempt's task) even when the SDK retries them: a delivery starts
/// only if its timeout and this margin fit before the deadline.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(2);

/// After this long with only failed deliveries a webhook is disabled.
pub const DISABLE_AFTER: Duration = Duration::from_secs(5 * 24 * 3600);

/// The ports delivery needs.
#[derive(Clone)]
pub struct DeliveryPorts {
    pub webhooks: Arc<dyn SubscriberView>,
    pub secrets: Arc<dyn SecretReader>,
    pub queue: Arc<dyn TaskQueue>,
    pub logs: Arc<dyn LogSink>,
    pub sender: Arc<dyn HttpSender>,
    pub clock: Arc<dyn Clock>,
}

#[derive(Clone, Debug)]
pub struct DeliverySettings {
    /// Per-request timeout (`DELIVERY_TIMEOUT_MS`).
    pub timeout: Duration,
    pub schedule: RetrySchedule,
    /// Deliveries of one event made at once.
    pub concurrency: usize,
    pub disable_after: Duration,
    /// Per-webhook lanes: the in-flight cap and the breaker.
    pub isolation: IsolationSettings,
}

impl DeliverySettings {
    /// The defaults, with what the environment set (`DELIVERY_TIMEOUT_MS` in
    /// `outbound`, `MAX_IN_FLIGHT_PER_WEBHOOK`).
    pub fn configured(outbound: &OutboundConfig, max_in_flight_per_webhook: usize) -> Self {
        let defaults = Self::default();
        Self {
            timeout: outbound.timeout,
            isolation: IsolationSettings {
                max_in_flight: max_in_flight_per_webhook,
                ..defaults.isolation.clone()
            },
            ..defaults
        }
    }
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_DELIVERY_TIMEOUT,
            schedule: RetrySchedule::default(),
            concurrency: 32,
            disable_after: DISABLE_AFTER,
            isolation: IsolationSettings::default(),
        }
    }
}

/// What happened to one event.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FanOut {
    /// Matching webhooks.
    pub matched: usize,
    /// Attempts made now.
    pub attempted: usize,
    /// Handed to the queue (deadline near, or a store failed mid-attempt).
    pub deferred: usize,
}

/// How fan-out started one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    /// Attempted now.
    Attempted,
    /// Handed to the queue as a task.
    Deferred,
}

/// What running one queued task came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskRun {
    /// An attempt was made, with this outcome.
    Attempted(Outcome),
    /// Handed back to the queue, not attempted: not due yet, too close to the
    /// deadline, or its webhook's lane is full or out of its rate. The attempt number
    /// is unchanged.
    Requeued,
    /// The webhook was deleted; the delivery is dropped.
    Dropped,
}

/// Requests in flight at once across every clone of a dispatcher (each event fans out
/// `concurrency` at a time, and a worker runs many events): it bounds the sockets
/// open to receivers.
pub const MAX_REQUESTS_IN_FLIGHT: usize = 512;

#[derive(Clone)]
pub struct Dispatcher {
    ports: DeliveryPorts,
    settings: DeliverySettings,
    observer: Option<Arc<dyn DeliveryObserver>>,
    requests: Arc<Semaphore>,
    isolation: Isolation,
}

impl Dispatcher {
    pub fn new(ports: DeliveryPorts, settings: DeliverySettings) -> Self {
        Self {
            ports,
            observer: None,
            requests: Arc::new(Semaphore::new(MAX_REQUESTS_IN_FLIGHT)),
            isolation: Isolation::new(settings.isolation.clone()),
            settings,
        }
    }

    /// Reports every attempt to `observer` too (the delivery function's metrics).
    pub fn with_observer(mut self, observer: Arc<dyn DeliveryObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    pub fn settings(&self) -> &DeliverySettings {
        &self.settings
    }

    /// Delivers an event to every enabled webhook of its type whose scope includes its
    /// client. Deliveries that could not start before `deadline` (less one timeout) go
    /// to the queue instead, so a record is never left half-done.
    pub async fn process_event(
        &self,
        event: &Event,
        deadline: Option<Instant>,
    ) -> Result<FanOut, StoreError> {
        let webhooks: Vec<Webhook> = self
            .ports
            .webhooks
            .subscribers(&event.event_type, &event.client_id)
            .await?
            .into_iter()
            .filter(|webhook| webhook.wants(&event.event_type, &event.client_id))
            .collect();
        let matched = webhooks.len();
        self.prefetch_secrets(&webhooks).await;
        let results: Vec<Result<Start, StoreError>> = stream::iter(webhooks)
            .map(|webhook| {
                let task = DeliveryTask::first(event.clone(), webhook.id.clone());
                self.attempt_or_defer(task, webhook, deadline)
            })
            .buffer_unordered(self.settings.concurrency.max(1))
            .collect()
            .await;
        let mut fan_out = FanOut {
            matched,
            ..FanOut::default()
        };
        for result in results {
            match result? {
                Start::Attempted => fan_out.attempted += 1,
                Start::Deferred => fan_out.deferred += 1,
            }
        }
        Ok(fan_out)
    }

    /// Tells the secret store which webhooks' secrets and headers the fan-out is about
    /// to read, so a cold cache reads them together rather than one call each.
    async fn prefetch_secrets(&self, webhooks: &[Webhook]) {
        let ids: Vec<WebhookId> = webhooks
            .iter()
            .filter(|webhook| webhook.secret_ref.is_some() || !webhook.header_names.is_empty())
            .map(|webhook| webhook.id.clone())
            .collect();
        if ids.len() > 1 {
            self.ports.secrets.prefetch(&ids).await;
        }
    }

    /// Attempts a delivery now, or hands it to the queue when the deadline is near or
    /// a store failed around the attempt.
    async fn attempt_or_defer(
        &self,
        task: DeliveryTask,
        webhook: Webhook,
        deadline: Option<Instant>,
    ) -> Result<Start, StoreError> {
        if self.out_of_time(deadline) {
            self.ports.queue.enqueue(&task, Duration::ZERO).await?;
            return Ok(Start::Deferred);
        }
        let material = match self.material(&webhook).await {
            Ok(material) => material,
            Err(error) => return self.defer_after(&task, &error).await,
        };
        let permit = match self
            .isolation
            .admit_patiently(&webhook.id, true, sending_rate(&webhook))
            .await
        {
            Admission::Now(permit) => permit,
            Admission::Later { wait, why } => {
                debug!(webhook_id = %webhook.id, delivery_id = %task.delivery_id, why, "delivery queued, not attempted inline");
                self.ports.queue.enqueue(&task, wait).await?;
                return Ok(Start::Deferred);
            }
        };
        match self.attempt(&task, webhook, material, permit).await {
            Ok(_) => Ok(Start::Attempted),
            Err(error) => self.defer_after(&task, &error).await,
        }
    }

    /// A store failed around an attempt: hands the task to the queue so the rest of
    /// the fan-out is not redone for it; fails only if that fails too.
    async fn defer_after(
        &self,
        task: &DeliveryTask,
        error: &StoreError,
    ) -> Result<Start, StoreError> {
        warn!(delivery_id = %task.delivery_id, error = %error, "deferring delivery after a store error");
        self.ports.queue.enqueue(task, Duration::ZERO).await?;
        Ok(Start::Deferred)
    }

    /// True when a request started now might not finish, with what follows it, before
    /// `deadline`.
    fn out_of_time(&self, deadline: Option<Instant>) -> bool {
        deadline.is_some_and(|deadline| {
            Instant::now() + self.settings.timeout + DEADLINE_MARGIN >= deadline
        })
    }

    /// How long until `task` is due, when it arrived before its time (a queue whose
    /// delays are shorter than the wait).
    pub fn not_due_for(&self, task: &DeliveryTask) -> Option<Duration> {
        let now = self.ports.clock.now();
        task.not_before
            .filter(|not_before| *not_before > now)
            .map(|not_before| now.until(not_before))
    }

    /// Runs one queued task. A task that arrives before its time (queues with a
    /// maximum delay), that could not finish before `deadline`, or whose webhook's lane
    /// is full or out of its rate goes back to the queue unattempted. The webhook is
    /// read first: its rate limit is part of the lane's answer.
    pub async fn run_task(
        &self,
        task: &DeliveryTask,
        deadline: Option<Instant>,
    ) -> Result<TaskRun, StoreError> {
        if let Some(wait) = self.not_due_for(task) {
            self.ports.queue.enqueue(task, wait).await?;
            return Ok(TaskRun::Requeued);
        }
        if self.out_of_time(deadline) {
            self.ports.queue.enqueue(task, Duration::ZERO).await?;
            return Ok(TaskRun::Requeued);
        }
        let Some(webhook) = self.ports.webhooks.get(&task.webhook_id).await? else {
            info!(webhook_id = %task.webhook_id, event_id = %task.event.id,
                delivery_id = %task.delivery_id, attempt = task.attempt,
                "webhook was deleted; delivery dropped");
            return Ok(TaskRun::Dropped);
        };
        let material = self.material(&webhook).await?;
        let permit = match self
            .isolation
            .admit_patiently(&webhook.id, false, sending_rate(&webhook))
            .await
        {
            Admission::Now(permit) => permit,
            Admission::Later { wait, why } => {
                debug!(webhook_id = %task.webhook_id, delivery_id = %task.delivery_id, why, "delivery task queued again, not attempted");
                self.ports.queue.enqueue(task, wait).await?;
                return Ok(TaskRun::Requeued);
            }
        };
        Ok(TaskRun::Attempted(
            self.attempt(task, webhook, material, permit).await?,
        ))
    }
}

/// The rate limit a delivery to `webhook` keeps: its `rate_limit_per_second` while it
/// is enabled (a disabled webhook's due retries are logged, not sent, so they need no
/// token).
fn sending_rate(webhook: &Webhook) -> Option<u32> {
    webhook.rate_limit_per_second.filter(|_| webhook.enabled)
}
