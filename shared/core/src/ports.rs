//! The ports: every trait the use cases are written against. Adapters live in
//! `shared/local` (SQLite), `shared/aws` (DynamoDB, SQS, Secrets Manager) and
//! `testing::memory`; the production `HttpSender` is `outbound::GuardedSender`, the
//! production `Clock` is `domain::time::SystemClock`. (Configuration's source, `Env`,
//! lives with the parsing in `config.rs`.)

use std::time::Duration;

use async_trait::async_trait;

use crate::domain::custom_headers::CustomHeaders;
use crate::domain::delivery_log::{DeliveryLogRecord, LoggedAttempt, Outcome};
use crate::domain::event::Event;
use crate::domain::health::{Granularity, LastSeen, StatsUpdate, Tally};
use crate::domain::ids::{DeliveryId, WebhookId};
use crate::domain::secret::SecretRef;
pub use crate::domain::secret::ROTATION_GRACE;
use crate::domain::signing::SigningSecrets;
use crate::domain::task::DeliveryTask;
use crate::domain::time::Timestamp;
use crate::domain::webhook::Webhook;
use crate::outbound::{OutboundRequest, OutboundResponse, SendError};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("version conflict")]
    Conflict,
    #[error("invalid pagination cursor")]
    InvalidCursor,
    #[error("storage backend failed: {0}")]
    Backend(#[source] BoxError),
    /// The store cannot take writes for now (a full disk); trying later may work.
    #[error("storage temporarily unavailable: {0}")]
    Unavailable(#[source] BoxError),
    /// The store can never take this write as it is (an item over a size or nesting
    /// limit, a request the backend calls invalid): trying again cannot help.
    #[error("refused by the store: {0}")]
    Refused(String),
}

impl StoreError {
    pub fn backend(error: impl Into<BoxError>) -> Self {
        StoreError::Backend(error.into())
    }

    /// The same kind of error with the same message, for each of several writes that
    /// one failed call carried (a boxed source cannot be cloned; its text is kept).
    pub fn replicate(&self) -> StoreError {
        match self {
            StoreError::NotFound => StoreError::NotFound,
            StoreError::Conflict => StoreError::Conflict,
            StoreError::InvalidCursor => StoreError::InvalidCursor,
            StoreError::Backend(source) => StoreError::Backend(source.to_string().into()),
            StoreError::Unavailable(source) => StoreError::Unavailable(source.to_string().into()),
            StoreError::Refused(reason) => StoreError::Refused(reason.clone()),
        }
    }
}

/// One page of a listing; `next_cursor` is the store's own position marker.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// The page of a listing that read up to `limit + 1` items in its order: one past
    /// `limit` only tells that another page follows, from `cursor_of` this page's last
    /// item.
    pub fn from_one_more(
        mut items: Vec<T>,
        limit: usize,
        cursor_of: impl Fn(&T) -> String,
    ) -> Self {
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(cursor_of)
        } else {
            None
        };
        Page { items, next_cursor }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookFilter {
    pub event: Option<String>,
    /// Webhooks that would receive this client's events (scope `all` or listing it).
    pub client: Option<String>,
    pub enabled: Option<bool>,
}

impl WebhookFilter {
    pub fn matches(&self, webhook: &Webhook) -> bool {
        self.event.as_ref().is_none_or(|e| *e == webhook.event)
            && self
                .client
                .as_ref()
                .is_none_or(|c| webhook.clients.includes(c))
            && self.enabled.is_none_or(|e| e == webhook.enabled)
    }
}

// Each port is as narrow as the IAM policy of the function that holds it
// (infra/template.yaml): the connection test may only read one webhook
// (`dynamodb:GetItem`), delivery also queries subscribers and updates the failure run,
// the API manages webhooks. Adapters fill all of them; `WebhookStore` names the whole.

/// Reads one webhook (`GetItem`).
#[async_trait]
pub trait WebhookReader: Send + Sync {
    async fn get(&self, id: &WebhookId) -> Result<Option<Webhook>, StoreError>;
}

/// Replaces a webhook under optimistic concurrency (a conditional `PutItem`): the
/// admin's edits and the delivery's disabling.
#[async_trait]
pub trait WebhookWriter: WebhookReader {
    /// Replaces the stored webhook if its version is still `expected_version`
    /// (`Conflict` otherwise, `NotFound` when it is gone).
    async fn replace(&self, webhook: &Webhook, expected_version: u64) -> Result<(), StoreError>;
}

/// What the fan-out reads and records.
#[async_trait]
pub trait SubscriberView: WebhookWriter {
    /// The enabled webhooks of an event type whose scope includes `client_id`: what
    /// an event of that client fans out to. A store reads only these (on DynamoDB,
    /// two queries of the subscription items); fan-out still checks
    /// [`Webhook::wants`] on each.
    async fn subscribers(
        &self,
        event_type: &str,
        client_id: &str,
    ) -> Result<Vec<Webhook>, StoreError>;
    /// Records the start of a run of failed deliveries (kept if one is already
    /// recorded: the earliest start wins) or its end (`None`), without changing the
    /// webhook's version.
    async fn set_failing_since(
        &self,
        id: &WebhookId,
        failing_since: Option<Timestamp>,
    ) -> Result<(), StoreError>;
}

/// What the admin API adds: create, delete, list.
#[async_trait]
pub trait WebhookRegistry: WebhookWriter {
    async fn insert(&self, webhook: &Webhook) -> Result<(), StoreError>;
    /// Removes a webhook, returning what was removed.
    async fn delete(&self, id: &WebhookId) -> Result<Option<Webhook>, StoreError>;
    /// Webhooks ordered by id, `limit` at most, after the store's `cursor`.
    async fn list(
        &self,
        filter: &WebhookFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Webhook>, StoreError>;
}

/// A whole webhook store: what an adapter provides and its conformance suite checks.
pub trait WebhookStore: SubscriberView + WebhookRegistry {}
impl<T: SubscriberView + WebhookRegistry> WebhookStore for T {}

/// Reads the secrets to sign with (`GetSecretValue`): delivery and the connection test.
#[async_trait]
pub trait SecretReader: Send + Sync {
    /// The secrets to sign with at `now`, if any.
    async fn get(
        &self,
        id: &WebhookId,
        now: Timestamp,
    ) -> Result<Option<SigningSecrets>, StoreError>;
    /// The values of the named custom headers, when every one of them is stored
    /// (`None` when one is not); asked for none, an empty set. A store that caches
    /// reads again before it answers `None`.
    async fn headers(
        &self,
        id: &WebhookId,
        names: &[String],
    ) -> Result<Option<CustomHeaders>, StoreError>;
    /// A hint that `get` and `headers` of these webhooks follow (a fan-out's): a store
    /// that caches may read the ones it lacks together (`BatchGetSecretValue`). It
    /// answers nothing; what it could not read is read again by the calls that follow.
    async fn prefetch(&self, _ids: &[WebhookId]) {}
}

/// Stores, rotates and removes secrets and custom header values: the admin API.
#[async_trait]
pub trait SecretWriter: Send + Sync {
    /// Stores a webhook's signing secret, or rotates it: the previous secret keeps
    /// signing for [`ROTATION_GRACE`] from `now`. Returns the secret's reference.
    async fn put(
        &self,
        id: &WebhookId,
        secret: &str,
        now: Timestamp,
    ) -> Result<SecretRef, StoreError>;
    /// Removes (or schedules the deletion of) everything stored for a webhook: its
    /// signing secret and its custom header values.
    async fn remove(&self, id: &WebhookId) -> Result<(), StoreError>;
    /// Removes a webhook's signing secret, keeping its custom header values (with
    /// none, as [`remove`](Self::remove)).
    async fn remove_signing(&self, id: &WebhookId) -> Result<(), StoreError>;
    /// Replaces a webhook's custom header values with `headers` (empty: none),
    /// keeping its signing secret.
    async fn put_headers(&self, id: &WebhookId, headers: &CustomHeaders) -> Result<(), StoreError>;
    /// The reference a webhook's secret has, or will have once [`put`](Self::put),
    /// without storing a value: what the conditional write giving a webhook its first
    /// secret records, before the value is stored (only if that write won).
    async fn prepare(&self, id: &WebhookId) -> Result<SecretRef, StoreError>;
}

/// A whole secret store.
pub trait SecretStore: SecretReader + SecretWriter {}
impl<T: SecretReader + SecretWriter> SecretStore for T {}

/// The queue of pending delivery attempts (the retry queue on AWS, jobs locally).
#[async_trait]
pub trait TaskQueue: Send + Sync {
    async fn enqueue(&self, task: &DeliveryTask, delay: Duration) -> Result<(), StoreError>;

    /// Several tasks at once (a queue with a batch call overrides this); one result
    /// per task, in order. By default, one `enqueue` after another.
    async fn enqueue_many(
        &self,
        tasks: &[(DeliveryTask, Duration)],
    ) -> Vec<Result<(), StoreError>> {
        let mut results = Vec::with_capacity(tasks.len());
        for (task, delay) in tasks {
            results.push(self.enqueue(task, *delay).await);
        }
        results
    }

    /// Parks a delivery-log record whose write failed, to be written when it comes
    /// back (the delivery it records is never attempted again for it).
    async fn park_log(&self, attempt: &LoggedAttempt) -> Result<(), StoreError>;
}

/// Where delivery attempts are reported (a queue on AWS, the log store locally).
#[async_trait]
pub trait LogSink: Send + Sync {
    async fn record(&self, attempt: &LoggedAttempt) -> Result<(), StoreError>;

    /// Several attempts at once (a sink with a batch call overrides this); the answer
    /// has one result per attempt, in order. By default, one `record` after another.
    async fn record_many(&self, attempts: &[LoggedAttempt]) -> Vec<Result<(), StoreError>> {
        let mut results = Vec::with_capacity(attempts.len());
        for attempt in attempts {
            results.push(self.record(attempt).await);
        }
        results
    }
}

/// Appends to the delivery log (`BatchWriteItem`): the log writer. Appending an
/// attempt again is harmless: an attempt is one entry, by its webhook and sort key.
#[async_trait]
pub trait LogAppender: Send + Sync {
    /// All the attempts, or the first error (some may have been written).
    async fn append(&self, attempts: &[LoggedAttempt]) -> Result<(), StoreError>;

    /// One result per attempt, in order (a store that writes in parts overrides this
    /// to say which parts failed). `Refused` for several attempts may be the refusal of
    /// one of them, when they were sent together. By default, `append`'s result for
    /// every attempt.
    async fn append_each(&self, attempts: &[LoggedAttempt]) -> Vec<Result<(), StoreError>> {
        match self.append(attempts).await {
            Ok(()) => attempts.iter().map(|_| Ok(())).collect(),
            Err(error) => attempts.iter().map(|_| Err(error.replicate())).collect(),
        }
    }
}

/// Reads the delivery log, newest first (`Query`): the API.
#[async_trait]
pub trait LogReader: Send + Sync {
    async fn list(
        &self,
        webhook: &WebhookId,
        outcome: Option<Outcome>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<LoggedAttempt>, StoreError>;
    /// Every attempt of one delivery, in attempt order.
    async fn attempts(
        &self,
        webhook: &WebhookId,
        delivery: &DeliveryId,
    ) -> Result<Vec<LoggedAttempt>, StoreError>;
    /// The webhook's attempts logged at or after `since`, oldest first, at most
    /// `limit`: a read of that part of the log only (recovering a period).
    async fn since(
        &self,
        webhook: &WebhookId,
        since: Timestamp,
        limit: usize,
    ) -> Result<Vec<LoggedAttempt>, StoreError>;
}

/// A whole delivery-log store.
pub trait LogStore: LogAppender + LogReader {}
impl<T: LogAppender + LogReader> LogStore for T {}

/// Adds tallied attempts to a webhook's stored stats (`UpdateItem` with `ADD`): the
/// log writer, after the log append. Adding is not idempotent: callers add each
/// attempt once where the store can tell (see docs/storage.md).
#[async_trait]
pub trait StatsRecorder: Send + Sync {
    /// Adds every bucket's tally and moves each webhook's latest success and failure
    /// forward (never back).
    async fn record(&self, update: &StatsUpdate) -> Result<(), StoreError>;
}

/// Reads a webhook's stored stats (`Query`, `GetItem`): the API.
#[async_trait]
pub trait StatsReader: Send + Sync {
    /// The stored buckets of one granularity starting from `from` to `to` (both
    /// included), as (start, tally), in any order; buckets with no attempt may be
    /// missing.
    async fn buckets(
        &self,
        webhook: &WebhookId,
        granularity: Granularity,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(Timestamp, Tally)>, StoreError>;
    /// The webhook's latest success and failure still kept.
    async fn last_seen(&self, webhook: &WebhookId) -> Result<LastSeen, StoreError>;
}

/// A whole stats store.
pub trait StatsStore: StatsRecorder + StatsReader {}
impl<T: StatsRecorder + StatsReader> StatsStore for T {}

/// Accepts producers' events (local mode's `POST /events`).
#[async_trait]
pub trait EventSink: Send + Sync {
    async fn ingest(&self, event: &Event) -> Result<(), StoreError>;
}

/// Where refused queue bodies go (the events DLQ), with the reason attached.
#[async_trait]
pub trait DeadLetters: Send + Sync {
    async fn reject(&self, body: &str, reason: &str) -> Result<(), StoreError>;
}

/// One message a queue handed to a function.
#[derive(Clone, Debug)]
pub struct QueueMessage {
    pub message_id: String,
    pub body: String,
    /// When the queue first received it (stands in for a missing `occurred_at`).
    pub received_at: Timestamp,
}

/// The only source of "now" in the domain, so tests can pin time.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The outbound HTTP port: one POST to a receiver.
#[async_trait]
pub trait HttpSender: Send + Sync {
    async fn post(&self, request: OutboundRequest) -> Result<OutboundResponse, SendError>;
}

/// Told about every attempt the dispatcher makes (the delivery metrics).
pub trait DeliveryObserver: Send + Sync {
    fn attempted(&self, record: &DeliveryLogRecord);
    /// The service disabled this webhook (410 Gone, or days of failures).
    fn webhook_disabled(&self, _webhook: &WebhookId) {}
}
