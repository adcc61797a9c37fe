//! In-memory adapters of every port, for the use cases' own tests and as the third
//! adapter the conformance suites run on. They keep the ports' rules (versions,
//! pagination, rotation grace, one record per attempt) with plain maps.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::lock;
use crate::domain::custom_headers::CustomHeaders;
use crate::domain::delivery_log::{LoggedAttempt, Outcome};
use crate::domain::event::Event;
use crate::domain::ids::{DeliveryId, WebhookId};
use crate::domain::secret::SecretRef;
use crate::domain::secret_entry::SecretEntry;
use crate::domain::signing::SigningSecrets;
use crate::domain::task::DeliveryTask;
use crate::domain::time::Timestamp;
use crate::domain::webhook::Webhook;
use crate::ports::{
    DeadLetters, EventSink, LogAppender, LogReader, LogSink, Page, SecretReader, SecretWriter,
    StoreError, SubscriberView, TaskQueue, WebhookFilter, WebhookReader, WebhookRegistry,
    WebhookWriter,
};

/// Webhooks by id.
#[derive(Debug, Default)]
pub struct MemoryWebhookStore {
    webhooks: Mutex<BTreeMap<WebhookId, Webhook>>,
}

impl MemoryWebhookStore {
    /// The stored state of one webhook, for a test's THEN.
    pub fn stored(&self, id: &WebhookId) -> Option<Webhook> {
        lock(&self.webhooks).get(id).cloned()
    }
}

#[async_trait]
impl WebhookReader for MemoryWebhookStore {
    async fn get(&self, id: &WebhookId) -> Result<Option<Webhook>, StoreError> {
        Ok(self.stored(id))
    }
}

#[async_trait]
impl WebhookWriter for MemoryWebhookStore {
    async fn replace(&self, webhook: &Webhook, expected_version: u64) -> Result<(), StoreError> {
        let mut webhooks = lock(&self.webhooks);
        let stored = webhooks.get_mut(&webhook.id).ok_or(StoreError::NotFound)?;
        if stored.version != expected_version {
            return Err(StoreError::Conflict);
        }
        *stored = webhook.clone();
        Ok(())
    }
}

#[async_trait]
impl SubscriberView for MemoryWebhookStore {
    async fn subscribers(
        &self,
        event_type: &str,
        client_id: &str,
    ) -> Result<Vec<Webhook>, StoreError> {
        Ok(lock(&self.webhooks)
            .values()
            .filter(|webhook| webhook.wants(event_type, client_id))
            .cloned()
            .collect())
    }

    async fn set_failing_since(
        &self,
        id: &WebhookId,
        failing_since: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let mut webhooks = lock(&self.webhooks);
        let stored = webhooks.get_mut(id).ok_or(StoreError::NotFound)?;
        stored.failing_since = failing_since.and(stored.failing_since.or(failing_since));
        Ok(())
    }
}

#[async_trait]
impl WebhookRegistry for MemoryWebhookStore {
    async fn insert(&self, webhook: &Webhook) -> Result<(), StoreError> {
        let mut webhooks = lock(&self.webhooks);
        if webhooks.contains_key(&webhook.id) {
            return Err(StoreError::Conflict);
        }
        webhooks.insert(webhook.id.clone(), webhook.clone());
        Ok(())
    }

    async fn delete(&self, id: &WebhookId) -> Result<Option<Webhook>, StoreError> {
        Ok(lock(&self.webhooks).remove(id))
    }

    async fn list(
        &self,
        filter: &WebhookFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Webhook>, StoreError> {
        let items = lock(&self.webhooks)
            .values()
            .filter(|webhook| cursor.is_none_or(|after| webhook.id.as_str() > after))
            .filter(|webhook| filter.matches(webhook))
            .take(limit + 1)
            .cloned()
            .collect();
        Ok(Page::from_one_more(items, limit, |webhook| {
            webhook.id.as_str().to_owned()
        }))
    }
}

/// Signing secrets by webhook, with the previous one kept through a rotation.
#[derive(Debug, Default)]
pub struct MemorySecretStore {
    entries: Mutex<HashMap<WebhookId, SecretEntry>>,
}

impl MemorySecretStore {
    /// Applies `change` to the webhook's entry, dropping an entry left empty.
    fn change(&self, id: &WebhookId, change: impl FnOnce(&SecretEntry) -> SecretEntry) {
        let mut entries = lock(&self.entries);
        let next = change(entries.get(id).unwrap_or(&SecretEntry::default()));
        if next.is_empty() {
            entries.remove(id);
        } else {
            entries.insert(id.clone(), next);
        }
    }
}

#[async_trait]
impl SecretWriter for MemorySecretStore {
    async fn put(
        &self,
        id: &WebhookId,
        secret: &str,
        now: Timestamp,
    ) -> Result<SecretRef, StoreError> {
        self.change(id, |entry| entry.with_secret(secret, now));
        Ok(SecretRef::new(format!("memory:{id}")))
    }

    async fn remove(&self, id: &WebhookId) -> Result<(), StoreError> {
        lock(&self.entries).remove(id);
        Ok(())
    }

    async fn remove_signing(&self, id: &WebhookId) -> Result<(), StoreError> {
        self.change(id, SecretEntry::without_secret);
        Ok(())
    }

    async fn put_headers(&self, id: &WebhookId, headers: &CustomHeaders) -> Result<(), StoreError> {
        self.change(id, |entry| entry.with_headers(headers));
        Ok(())
    }

    async fn prepare(&self, id: &WebhookId) -> Result<SecretRef, StoreError> {
        Ok(SecretRef::new(format!("memory:{id}")))
    }
}

#[async_trait]
impl SecretReader for MemorySecretStore {
    async fn get(
        &self,
        id: &WebhookId,
        now: Timestamp,
    ) -> Result<Option<SigningSecrets>, StoreError> {
        Ok(lock(&self.entries)
            .get(id)
            .and_then(|entry| entry.signing(now)))
    }

    async fn headers(
        &self,
        id: &WebhookId,
        names: &[String],
    ) -> Result<Option<CustomHeaders>, StoreError> {
        let entries = lock(&self.entries);
        let stored = entries.get(id).map(|entry| &entry.headers);
        Ok(stored.unwrap_or(&CustomHeaders::default()).covering(names))
    }
}

/// Delivery tasks with the moment each becomes due, and parked log records.
#[derive(Debug, Default)]
pub struct MemoryTaskQueue {
    tasks: Mutex<Vec<(DeliveryTask, Duration, Instant)>>,
    parked: Mutex<Vec<LoggedAttempt>>,
}

impl MemoryTaskQueue {
    /// Every task enqueued so far, with the delay it was given, oldest first.
    pub fn enqueued(&self) -> Vec<(DeliveryTask, Duration)> {
        lock(&self.tasks)
            .iter()
            .map(|(task, delay, _)| (task.clone(), *delay))
            .collect()
    }

    /// Removes and returns every task, due or not (a test that runs retries at once).
    pub fn take_due_or_waiting(&self) -> Vec<DeliveryTask> {
        lock(&self.tasks)
            .drain(..)
            .map(|(task, _, _)| task)
            .collect()
    }

    /// The log records parked so far, oldest first.
    pub fn parked(&self) -> Vec<LoggedAttempt> {
        lock(&self.parked).clone()
    }

    /// Removes and returns the tasks that are due now.
    pub fn take_due(&self) -> Vec<DeliveryTask> {
        let now = Instant::now();
        let mut tasks = lock(&self.tasks);
        let (due, waiting) = tasks.drain(..).partition(|(_, _, due)| *due <= now);
        *tasks = waiting;
        due.into_iter().map(|(task, _, _)| task).collect()
    }
}

#[async_trait]
impl TaskQueue for MemoryTaskQueue {
    async fn enqueue(&self, task: &DeliveryTask, delay: Duration) -> Result<(), StoreError> {
        lock(&self.tasks).push((task.clone(), delay, Instant::now() + delay));
        Ok(())
    }

    async fn park_log(&self, attempt: &LoggedAttempt) -> Result<(), StoreError> {
        lock(&self.parked).push(attempt.clone());
        Ok(())
    }
}

/// The delivery log keyed like the real ones, (webhook id, sort key); also the log
/// sink, as the SQLite log store is locally.
#[derive(Debug, Default)]
pub struct MemoryLogs {
    attempts: Mutex<BTreeMap<(WebhookId, String), LoggedAttempt>>,
}

impl MemoryLogs {
    /// Every logged attempt in sort-key order (oldest first within a webhook).
    pub fn all(&self) -> Vec<LoggedAttempt> {
        lock(&self.attempts).values().cloned().collect()
    }
}

#[async_trait]
impl LogAppender for MemoryLogs {
    async fn append(&self, attempts: &[LoggedAttempt]) -> Result<(), StoreError> {
        let mut stored = lock(&self.attempts);
        for attempt in attempts {
            let key = (attempt.record.webhook_id.clone(), attempt.record.sort_key());
            stored.insert(key, attempt.clone());
        }
        Ok(())
    }
}

#[async_trait]
impl LogReader for MemoryLogs {
    async fn list(
        &self,
        webhook: &WebhookId,
        outcome: Option<Outcome>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<LoggedAttempt>, StoreError> {
        let items = lock(&self.attempts)
            .iter()
            .rev()
            .filter(|((id, key), _)| {
                id == webhook && cursor.is_none_or(|before| key.as_str() < before)
            })
            .filter(|(_, attempt)| outcome.is_none_or(|o| o == attempt.record.outcome))
            .take(limit + 1)
            .map(|(_, attempt)| attempt.clone())
            .collect();
        Ok(Page::from_one_more(items, limit, |attempt| {
            attempt.record.sort_key()
        }))
    }

    async fn attempts(
        &self,
        webhook: &WebhookId,
        delivery: &DeliveryId,
    ) -> Result<Vec<LoggedAttempt>, StoreError> {
        let mut found: Vec<LoggedAttempt> = lock(&self.attempts)
            .iter()
            .filter(|((id, _), attempt)| id == webhook && attempt.record.delivery_id == *delivery)
            .map(|(_, attempt)| attempt.clone())
            .collect();
        found.sort_by_key(|attempt| attempt.record.attempt);
        Ok(found)
    }

    async fn since(
        &self,
        webhook: &WebhookId,
        since: Timestamp,
        limit: usize,
    ) -> Result<Vec<LoggedAttempt>, StoreError> {
        let from = since.to_string();
        Ok(lock(&self.attempts)
            .iter()
            .filter(|((id, key), _)| id == webhook && key.as_str() >= from.as_str())
            .take(limit)
            .map(|(_, attempt)| attempt.clone())
            .collect())
    }
}

#[async_trait]
impl LogSink for MemoryLogs {
    async fn record(&self, attempt: &LoggedAttempt) -> Result<(), StoreError> {
        self.append(std::slice::from_ref(attempt)).await
    }
}

/// Ingested events, in order.
#[derive(Debug, Default)]
pub struct MemoryEventSink {
    events: Mutex<Vec<Event>>,
}

impl MemoryEventSink {
    pub fn events(&self) -> Vec<Event> {
        lock(&self.events).clone()
    }
}

#[async_trait]
impl EventSink for MemoryEventSink {
    async fn ingest(&self, event: &Event) -> Result<(), StoreError> {
        lock(&self.events).push(event.clone());
        Ok(())
    }
}

/// Refused bodies with their reasons, in order.
#[derive(Debug, Default)]
pub struct MemoryDeadLetters {
    rejected: Mutex<Vec<(String, String)>>,
}

impl MemoryDeadLetters {
    /// Each refused body with its reason.
    pub fn rejected(&self) -> Vec<(String, String)> {
        lock(&self.rejected).clone()
    }
}

#[async_trait]
impl DeadLetters for MemoryDeadLetters {
    async fn reject(&self, body: &str, reason: &str) -> Result<(), StoreError> {
        lock(&self.rejected).push((body.to_owned(), reason.to_owned()));
        Ok(())
    }
}
