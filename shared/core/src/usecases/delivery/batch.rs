//! One SQS batch for the delivery function. Records from the events queue are events;
//! records from the retry queue are versioned delivery tasks (`"type":
//! "delivery_v…"`); the body tells them apart. A body that can never be processed
//! goes to the dead letters with the reason, once; a record that failed for a
//! passing reason is reported back so SQS retries only it.

use std::time::Instant;

use futures::stream::{self, StreamExt};
use serde_json::Value;
use tracing::{error, info, warn, Instrument};

use super::Dispatcher;
use crate::domain::event::Event;
use crate::domain::ids::EventId;
use crate::domain::task::TaskMessage;
use crate::ports::{DeadLetters, QueueRecord};

/// Records of one batch processed at once (each fans out with its own concurrency).
pub const RECORD_CONCURRENCY: usize = 4;

/// What a record turned out to be.
#[derive(Debug)]
enum Work {
    Event(Event),
    Task(TaskMessage),
    Refused(String),
}

fn classify(record: &QueueRecord) -> Work {
    let task_type = serde_json::from_str::<Value>(&record.body)
        .ok()
        .and_then(|value| {
            value
                .get("type")
                .and_then(Value::as_str)
                .filter(|t| t.starts_with("delivery_v"))
                .map(str::to_owned)
        });
    if let Some(task_type) = task_type {
        return match serde_json::from_str::<TaskMessage>(&record.body) {
            Ok(message) => Work::Task(message),
            Err(error) => Work::Refused(format!("unreadable {task_type} task: {error}")),
        };
    }
    let fallback_id = || {
        EventId::from_producer(&format!("evt_{}", record.message_id))
            .unwrap_or_else(|_| EventId::generate())
    };
    match Event::parse(record.body.as_bytes(), fallback_id, record.received_at) {
        Ok(event) => Work::Event(event),
        Err(rejection) => Work::Refused(rejection.to_string()),
    }
}

/// Processes a batch; returns the message ids SQS should deliver again.
pub async fn process_batch(
    dispatcher: &Dispatcher,
    dead_letters: &dyn DeadLetters,
    records: Vec<QueueRecord>,
    deadline: Option<Instant>,
) -> Vec<String> {
    let results: Vec<Option<String>> = stream::iter(records)
        .map(|record| {
            let span = tracing::info_span!("record", message_id = %record.message_id);
            async move {
                let ok = process_record(dispatcher, dead_letters, &record, deadline).await;
                (!ok).then_some(record.message_id)
            }
            .instrument(span)
        })
        .buffer_unordered(RECORD_CONCURRENCY)
        .collect()
        .await;
    results.into_iter().flatten().collect()
}

/// True when the record is done with (delivered, queued, or dead-lettered).
async fn process_record(
    dispatcher: &Dispatcher,
    dead_letters: &dyn DeadLetters,
    record: &QueueRecord,
    deadline: Option<Instant>,
) -> bool {
    match classify(record) {
        Work::Refused(reason) => match dead_letters.reject(&record.body, &reason).await {
            Ok(()) => {
                warn!(reason = %reason, bytes = record.body.len(), "record refused; sent to the dead-letter queue");
                true
            }
            Err(error) => {
                error!(reason = %reason, error = %error, "record refused, and the dead-letter queue failed; will retry");
                false
            }
        },
        Work::Event(event) => match dispatcher.process_event(&event, deadline).await {
            Ok(fan_out) => {
                info!(event_id = %event.id, event = %event.event_type, matched = fan_out.matched,
                    attempted = fan_out.attempted, deferred = fan_out.deferred, "event fanned out");
                true
            }
            Err(error) => {
                error!(event_id = %event.id, error = %error, "fan-out failed; will retry");
                false
            }
        },
        Work::Task(message) => {
            let task = message.into_task();
            match dispatcher.run_task(&task).await {
                Ok(_) => true,
                Err(error) => {
                    error!(delivery_id = %task.delivery_id, attempt = task.attempt, error = %error, "delivery task failed; will retry");
                    false
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::task::DeliveryTask;
    use crate::domain::time::Timestamp;

    fn record(body: &str) -> QueueRecord {
        QueueRecord {
            message_id: "m-1".into(),
            body: body.into(),
            received_at: Timestamp::from_unix_millis(0),
        }
    }

    #[test]
    fn an_event_body_is_an_event_with_the_message_id_standing_in() {
        let work = classify(&record(
            r#"{"type": "report.publish_status", "client_id": "acme"}"#,
        ));
        let Work::Event(event) = work else {
            panic!("{work:?}")
        };
        assert_eq!(event.id.as_str(), "evt_m-1");
    }

    #[test]
    fn a_task_body_is_a_task() {
        let event = Event::parse(
            br#"{"type": "report.publish_status", "client_id": "acme"}"#,
            EventId::generate,
            Timestamp::from_unix_millis(0),
        )
        .unwrap();
        let task = DeliveryTask::first(event, crate::domain::ids::WebhookId::from_trusted("wh_1"));
        let work = classify(&record(&TaskMessage::from(task).to_json()));
        assert!(matches!(work, Work::Task(_)), "{work:?}");
    }

    #[test]
    fn bad_bodies_are_refused_with_a_reason() {
        for (body, reason) in [
            ("not json", "not valid JSON"),
            (
                r#"{"type": "report.deleted", "client_id": "a"}"#,
                "unknown event type",
            ),
            (r#"{"type": "report.publish_status"}"#, "client_id"),
            (
                r#"{"type": "delivery_v1", "nope": 1}"#,
                "unreadable delivery_v1 task",
            ),
            (r#"{"type": "delivery_v9"}"#, "unreadable delivery_v9 task"),
        ] {
            let Work::Refused(why) = classify(&record(body)) else {
                panic!("{body} was accepted")
            };
            assert!(why.contains(reason), "{body}: {why}");
        }
        let big = format!(
            r#"{{"type": "report.publish_status", "client_id": "a", "data": {{"x": "{}"}}}}"#,
            "y".repeat(300 * 1024)
        );
        let Work::Refused(why) = classify(&record(&big)) else {
            panic!("an oversized event was accepted")
        };
        assert!(why.contains("limit"), "{why}");
    }
}
