//! The sink conformance suites against the SQS adapters on the moto emulator: the
//! logs queue (`LogSink`), the events queue (`EventSink`) and the events DLQ
//! (`DeadLetters`), each case on its own queue, read back by receiving it.

use async_trait::async_trait;
use webhooks_aws::{SqsDeadLetters, SqsEventSink, SqsLogSink, REASON_ATTRIBUTE};
use webhooks_core::domain::delivery_log::LoggedAttempt;
use webhooks_core::domain::event::Event;
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::ports::{DeadLetters, EventSink, LogSink, StoreError};
use webhooks_tests::conformance::sinks::{DeadLettersProbe, EventSinkProbe, LogSinkProbe};
use webhooks_tests::moto::Moto;

/// An SQS adapter and the moto connection that reads its queue back.
struct OnQueue<T> {
    moto: Moto,
    adapter: T,
    queue_url: String,
}

async fn on_queue<T>(tag: &str, build: impl FnOnce(&Moto, String) -> T) -> Box<OnQueue<T>> {
    let moto = Moto::connect().await;
    let queue_url = moto.create_queue(tag).await;
    let adapter = build(&moto, queue_url.clone());
    Box::new(OnQueue {
        moto,
        adapter,
        queue_url,
    })
}

impl<T> OnQueue<T> {
    async fn bodies(&self) -> Vec<aws_sdk_sqs::types::Message> {
        self.moto.receive_all(&self.queue_url).await
    }
}

#[async_trait]
impl LogSink for OnQueue<SqsLogSink> {
    async fn record(&self, attempt: &LoggedAttempt) -> Result<(), StoreError> {
        self.adapter.record(attempt).await
    }

    async fn record_many(&self, attempts: &[LoggedAttempt]) -> Vec<Result<(), StoreError>> {
        self.adapter.record_many(attempts).await
    }
}

#[async_trait]
impl LogSinkProbe for OnQueue<SqsLogSink> {
    async fn arrived(&self, webhook: &WebhookId) -> Result<Vec<LoggedAttempt>, StoreError> {
        Ok(self
            .bodies()
            .await
            .iter()
            .map(|m| {
                serde_json::from_str::<LoggedAttempt>(m.body().expect("a body"))
                    .expect("a logged attempt")
            })
            .filter(|a| a.record.webhook_id == *webhook)
            .collect())
    }
}

#[async_trait]
impl EventSink for OnQueue<SqsEventSink> {
    async fn ingest(&self, event: &Event) -> Result<(), StoreError> {
        self.adapter.ingest(event).await
    }
}

#[async_trait]
impl EventSinkProbe for OnQueue<SqsEventSink> {
    async fn arrived(&self) -> Result<Vec<Event>, StoreError> {
        Ok(self
            .bodies()
            .await
            .iter()
            .map(|m| serde_json::from_str::<Event>(m.body().expect("a body")).expect("an event"))
            .collect())
    }
}

#[async_trait]
impl DeadLetters for OnQueue<SqsDeadLetters> {
    async fn reject(&self, body: &str, reason: &str) -> Result<(), StoreError> {
        self.adapter.reject(body, reason).await
    }
}

#[async_trait]
impl DeadLettersProbe for OnQueue<SqsDeadLetters> {
    async fn arrived(&self) -> Result<Vec<(String, String)>, StoreError> {
        Ok(self
            .bodies()
            .await
            .iter()
            .map(|m| {
                let reason = m
                    .message_attributes()
                    .and_then(|attributes| attributes.get(REASON_ATTRIBUTE))
                    .and_then(|value| value.string_value())
                    .expect("a reason attribute");
                (m.body().expect("a body").to_owned(), reason.to_owned())
            })
            .collect())
    }
}

mod log_sink {
    use super::*;
    webhooks_tests::log_sink_conformance!(
        on_queue("logs", |moto, url| SqsLogSink::new(
            moto.clients.sqs.clone(),
            url
        ))
        .await
    );
}

mod event_sink {
    use super::*;
    webhooks_tests::event_sink_conformance!(
        on_queue("events", |moto, url| SqsEventSink::new(
            moto.clients.sqs.clone(),
            url
        ))
        .await
    );
}

mod dead_letters {
    use super::*;
    webhooks_tests::dead_letters_conformance!(
        on_queue("events-dlq", |moto, url| SqsDeadLetters::new(
            moto.clients.sqs.clone(),
            url
        ))
        .await
    );
}
