//! What every [`LogSink`], [`EventSink`] and [`DeadLetters`] must do: what goes in
//! comes out intact at the other end (the log store, the queue, the dead-letter
//! queue), read back through each adapter's probe.

use async_trait::async_trait;
use serde_json::json;
use webhooks_core::domain::delivery_log::{LoggedAttempt, Outcome};
use webhooks_core::domain::event::Event;
use webhooks_core::domain::ids::{DeliveryId, EventId, WebhookId};
use webhooks_core::ports::{DeadLetters, EventSink, LogSink, StoreError};
use webhooks_core::testing::memory::{MemoryDeadLetters, MemoryEventSink, MemoryLogs};

use super::support::{at, attempt, base_time};

/// A log sink the suite can read back from.
#[async_trait]
pub trait LogSinkProbe: LogSink {
    /// Every attempt of `webhook` that arrived at the sink's other end so far.
    async fn arrived(&self, webhook: &WebhookId) -> Result<Vec<LoggedAttempt>, StoreError>;
}

/// An event sink the suite can read back from.
#[async_trait]
pub trait EventSinkProbe: EventSink {
    /// Every event that arrived at the sink's other end so far.
    async fn arrived(&self) -> Result<Vec<Event>, StoreError>;
}

/// A dead-letter port the suite can read back from.
#[async_trait]
pub trait DeadLettersProbe: DeadLetters {
    /// Every refused body that arrived, with its reason.
    async fn arrived(&self) -> Result<Vec<(String, String)>, StoreError>;
}

/// Expands to one `#[tokio::test]` per case below; see [`crate::conformance`].
#[macro_export]
macro_rules! log_sink_conformance {
    ($probe:expr) => {
        $crate::conformance_tests!(
            sinks,
            $probe,
            [
                a_recorded_attempt_arrives_intact,
                record_many_answers_once_per_attempt_and_delivers_them_all,
            ]
        );
    };
}

/// Expands to one `#[tokio::test]` per case below; see [`crate::conformance`].
#[macro_export]
macro_rules! event_sink_conformance {
    ($probe:expr) => {
        $crate::conformance_tests!(sinks, $probe, [an_ingested_event_arrives_intact]);
    };
}

/// Expands to one `#[tokio::test]` per case below; see [`crate::conformance`].
#[macro_export]
macro_rules! dead_letters_conformance {
    ($probe:expr) => {
        $crate::conformance_tests!(sinks, $probe, [a_refused_body_arrives_with_its_reason]);
    };
}

fn sorted(mut attempts: Vec<LoggedAttempt>) -> Vec<LoggedAttempt> {
    attempts.sort_by_key(|a| a.record.sort_key());
    attempts
}

pub async fn a_recorded_attempt_arrives_intact(sink: &dyn LogSinkProbe) {
    // GIVEN a failed attempt with every field set
    let webhook = WebhookId::generate();
    let delivery = DeliveryId::derive(&EventId::from_trusted("evt_sink_one"), &webhook);
    let logged = attempt(&webhook, &delivery, 2, Outcome::Retrying, at(5));
    // WHEN it is recorded
    sink.record(&logged).await.expect("record");
    // THEN exactly that attempt arrives
    assert_eq!(
        sink.arrived(&webhook).await.expect("read back"),
        vec![logged]
    );
}

pub async fn record_many_answers_once_per_attempt_and_delivers_them_all(sink: &dyn LogSinkProbe) {
    // GIVEN 23 attempts (more than two SQS batches of 10)
    let webhook = WebhookId::generate();
    let attempts: Vec<LoggedAttempt> = (0..23)
        .map(|i| {
            let delivery =
                DeliveryId::derive(&EventId::from_trusted(format!("evt_sink_{i}")), &webhook);
            attempt(&webhook, &delivery, 1, Outcome::Succeeded, at(i))
        })
        .collect();
    // WHEN they are recorded at once
    let results = sink.record_many(&attempts).await;
    // THEN each has its own Ok, in order, and all of them arrive
    assert_eq!(results.len(), attempts.len());
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(
        sorted(sink.arrived(&webhook).await.expect("read back")),
        sorted(attempts)
    );
}

pub async fn an_ingested_event_arrives_intact(sink: &dyn EventSinkProbe) {
    // GIVEN an event with a nested payload
    let event = Event {
        id: EventId::from_trusted("evt_sink_conformance"),
        event_type: "assessment.submitted".to_owned(),
        client_id: "acme".to_owned(),
        occurred_at: base_time(),
        data: json!({"assessment_id": "a-7", "answers": [1, {"x": "ünï"}]}),
    };
    // WHEN it is ingested
    sink.ingest(&event).await.expect("ingest");
    // THEN the same event arrives, id and time included
    assert_eq!(sink.arrived().await.expect("read back"), vec![event]);
}

pub async fn a_refused_body_arrives_with_its_reason(letters: &dyn DeadLettersProbe) {
    // GIVEN a body that is not JSON, and why it was refused
    let body = "{not json at all";
    let reason = "the body is not valid JSON: key must be a string at line 1 column 2";
    // WHEN it is rejected
    letters.reject(body, reason).await.expect("reject");
    // THEN the body arrives unchanged with its reason beside it
    assert_eq!(
        letters.arrived().await.expect("read back"),
        vec![(body.to_owned(), reason.to_owned())]
    );
}

#[async_trait]
impl LogSinkProbe for MemoryLogs {
    async fn arrived(&self, webhook: &WebhookId) -> Result<Vec<LoggedAttempt>, StoreError> {
        Ok(self
            .all()
            .into_iter()
            .filter(|a| a.record.webhook_id == *webhook)
            .collect())
    }
}

#[async_trait]
impl EventSinkProbe for MemoryEventSink {
    async fn arrived(&self) -> Result<Vec<Event>, StoreError> {
        Ok(self.events())
    }
}

#[async_trait]
impl DeadLettersProbe for MemoryDeadLetters {
    async fn arrived(&self) -> Result<Vec<(String, String)>, StoreError> {
        Ok(self.rejected())
    }
}
