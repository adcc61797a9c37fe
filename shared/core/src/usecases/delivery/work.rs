//! What one queue message asks for, read from its body and run through the
//! [`Dispatcher`]: an event to fan out, or one delivery attempt. The delivery
//! function's SQS batch and the local worker both go through here; each keeps only
//! what a refusal or a failure means for its own queue (the dead letters and "retry
//! this message id" there, bury and release with a backoff here).

use std::time::Instant;

use serde_json::Value;
use tracing::{error, info};

use super::Dispatcher;
use crate::domain::delivery_log::LoggedAttempt;
use crate::domain::event::Event;
use crate::domain::ids::EventId;
use crate::domain::task::{DeliveryTask, TaskMessage};
use crate::ports::{QueueMessage, StoreError};

/// What a queue message carries.
#[derive(Clone, Debug, PartialEq)]
pub enum Work {
    /// An event to fan out to the webhooks that want it.
    Event(Event),
    /// One attempt of one delivery.
    Delivery(DeliveryTask),
    /// A delivery-log record parked after its write failed.
    Log(LoggedAttempt),
}

/// How running a [`Work`] ended. Either way it has been logged.
#[derive(Debug)]
#[must_use]
pub enum Ran {
    /// Done with: delivered, handed to the task queue, or dropped (webhook deleted).
    Done,
    /// A store failed; the message has to run again later.
    Failed(StoreError),
}

impl Work {
    /// Reads an SQS record. A body whose `type` starts with `delivery_v` is a
    /// versioned task (the retry queue); any other body is a producer's event (the
    /// events queue), whose missing `id` becomes `evt_<message id>`. The error is the
    /// reason the record can never be processed.
    pub fn from_message(record: &QueueMessage) -> Result<Work, String> {
        if let Some(task_type) = task_type(&record.body) {
            return read_task(&record.body)
                .map_err(|error| format!("unreadable {task_type} task: {error}"));
        }
        let fallback_id = || {
            EventId::from_producer(&format!("evt_{}", record.message_id))
                .unwrap_or_else(|_| EventId::generate())
        };
        Event::parse(record.body.as_bytes(), fallback_id, record.received_at)
            .map(Work::Event)
            .map_err(|rejection| rejection.to_string())
    }

    /// Reads an event as an event sink stored it (the validated [`Event`], as JSON).
    pub fn event_from_body(body: &str) -> Result<Work, String> {
        serde_json::from_str::<Event>(body)
            .map(Work::Event)
            .map_err(|error| format!("unreadable event payload: {error}"))
    }

    /// Reads a delivery task as a task queue stored it (a versioned [`TaskMessage`]).
    pub fn task_from_body(body: &str) -> Result<Work, String> {
        read_task(body).map_err(|error| format!("unreadable delivery task: {error}"))
    }

    /// Runs the work: fans an event out (starting no delivery too close to
    /// `deadline`), or makes the task's attempt. Logs what happened.
    pub async fn run(&self, dispatcher: &Dispatcher, deadline: Option<Instant>) -> Ran {
        match self {
            Work::Event(event) => match dispatcher.process_event(event, deadline).await {
                Ok(fan_out) => {
                    info!(event_id = %event.id, event = %event.event_type, matched = fan_out.matched,
                        attempted = fan_out.attempted, deferred = fan_out.deferred, "event fanned out");
                    Ran::Done
                }
                Err(failure) => {
                    error!(event_id = %event.id, error = %failure, "fan-out failed; will retry");
                    Ran::Failed(failure)
                }
            },
            Work::Delivery(task) => match dispatcher.run_task(task, deadline).await {
                Ok(_) => Ran::Done,
                Err(failure) => {
                    error!(delivery_id = %task.delivery_id, attempt = task.attempt, error = %failure,
                        "delivery task failed; will retry");
                    Ran::Failed(failure)
                }
            },
            Work::Log(attempt) => match dispatcher.record_parked(attempt).await {
                Ok(()) => Ran::Done,
                Err(failure) => {
                    error!(delivery_id = %attempt.record.delivery_id, attempt = attempt.record.attempt,
                        error = %failure, "parked log record still not written; will retry");
                    Ran::Failed(failure)
                }
            },
        }
    }
}

/// The `type` of a body that is a versioned task (`delivery_…`), if it is one.
fn task_type(body: &str) -> Option<String> {
    serde_json::from_str::<Value>(body).ok().and_then(|value| {
        value
            .get("type")
            .and_then(Value::as_str)
            .filter(|t| t.starts_with("delivery_"))
            .map(str::to_owned)
    })
}

fn read_task(body: &str) -> Result<Work, serde_json::Error> {
    serde_json::from_str::<TaskMessage>(body).map(|message| match message {
        TaskMessage::DeliveryV1(task) => Work::Delivery(task),
        TaskMessage::DeliveryLogV1(attempt) => Work::Log(attempt),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::domain::ids::{DeliveryId, WebhookId};
    use crate::domain::time::Timestamp;
    use crate::ports::WebhookRegistry;
    use crate::testing::fakes::{ManualClock, ScriptedSender};
    use crate::testing::fixtures::{base_time, event, webhook};
    use crate::testing::memory::{
        MemoryLogs, MemorySecretStore, MemoryTaskQueue, MemoryWebhookStore,
    };
    use crate::usecases::delivery::{DeliveryPorts, DeliverySettings};

    const TYPE: &str = "report.publish_status";

    fn record(body: &str) -> QueueMessage {
        QueueMessage {
            message_id: "m-1".into(),
            body: body.into(),
            received_at: Timestamp::from_unix_millis(0),
        }
    }

    #[test]
    fn given_an_event_record_without_an_id_when_read_then_the_message_id_stands_in() {
        // GIVEN a producer's event without an id, in SQS message m-1
        let record = record(r#"{"type": "report.publish_status", "client_id": "acme"}"#);
        // WHEN the record is read
        let work = Work::from_message(&record);
        // THEN it is an event whose id comes from the message id
        let Ok(Work::Event(event)) = work else {
            panic!("{work:?}")
        };
        assert_eq!(event.id.as_str(), "evt_m-1");
    }

    #[test]
    fn given_a_task_record_when_read_then_it_is_the_delivery() {
        // GIVEN a delivery task as the retry queue carries it
        let task = DeliveryTask::first(event(TYPE, "acme"), WebhookId::from_trusted("wh_1"));
        let record = record(&TaskMessage::from(task.clone()).to_json());
        // WHEN the record is read
        let work = Work::from_message(&record);
        // THEN it is that delivery
        assert_eq!(work, Ok(Work::Delivery(task)));
    }

    #[test]
    fn given_bad_records_when_read_then_each_is_refused_with_its_reason() {
        // GIVEN bodies that can never be processed, each with the reason expected
        let big = format!(
            r#"{{"type": "report.publish_status", "client_id": "a", "data": {{"x": "{}"}}}}"#,
            "y".repeat(300 * 1024)
        );
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
            (big.as_str(), "limit"),
        ] {
            // WHEN each is read
            let work = Work::from_message(&record(body));
            // THEN it is refused with that reason
            let Err(why) = work else {
                panic!("{body:.80} was accepted")
            };
            assert!(why.contains(reason), "{body:.80}: {why}");
        }
    }

    /// An event as an event sink stored it, in the format of existing rows.
    const STORED_EVENT: &str = r#"{"id":"evt_1","type":"report.publish_status","client_id":"acme","occurred_at":"2026-11-28T12:00:00.000Z","data":{"report_id":"r-42"}}"#;

    fn stored_event() -> Event {
        Event {
            id: EventId::from_trusted("evt_1"),
            event_type: TYPE.to_owned(),
            client_id: "acme".to_owned(),
            occurred_at: base_time(),
            data: serde_json::json!({"report_id": "r-42"}),
        }
    }

    #[test]
    fn given_a_stored_event_when_read_as_an_event_then_it_is_that_event() {
        // GIVEN an event payload as stored before (and after) this change
        // WHEN it is read as an event
        let work = Work::event_from_body(STORED_EVENT);
        // THEN it is the event, unchanged
        assert_eq!(work, Ok(Work::Event(stored_event())));
    }

    #[test]
    fn given_a_stored_task_when_read_as_a_task_then_it_is_that_delivery() {
        // GIVEN a delivery_v1 task payload as stored before (and after) this change
        let body = format!(
            r#"{{"type":"delivery_v1","delivery_id":"dlv_1","webhook_id":"wh_1","event":{STORED_EVENT},"attempt":2,"series_start":1,"not_before":"2026-11-28T12:00:05.000Z"}}"#
        );
        // WHEN it is read as a task
        let work = Work::task_from_body(&body);
        // THEN it is the delivery, every field kept
        let task = DeliveryTask {
            delivery_id: DeliveryId::from_trusted("dlv_1"),
            webhook_id: WebhookId::from_trusted("wh_1"),
            event: stored_event(),
            attempt: 2,
            series_start: 1,
            not_before: Some(base_time().plus(std::time::Duration::from_secs(5))),
        };
        assert_eq!(work, Ok(Work::Delivery(task)));
    }

    #[test]
    fn given_unreadable_payloads_when_read_by_kind_then_each_is_refused_with_its_reason() {
        // GIVEN payloads that cannot be read as the kind they are stored as
        type Read = fn(&str) -> Result<Work, String>;
        let cases: [(Read, &str, &str); 4] = [
            (
                Work::event_from_body,
                "{not json",
                "unreadable event payload",
            ),
            (
                Work::event_from_body,
                r#"{"type": "report.publish_status"}"#,
                "unreadable event payload",
            ),
            (
                Work::task_from_body,
                "{not json",
                "unreadable delivery task",
            ),
            (
                Work::task_from_body,
                r#"{"type":"delivery_v9"}"#,
                "delivery_v9",
            ),
        ];
        for (read, body, reason) in cases {
            // WHEN each is read
            let work = read(body);
            // THEN it is refused with that reason
            let Err(why) = work else {
                panic!("{body} was accepted")
            };
            assert!(why.contains(reason), "{body}: {why}");
        }
    }

    struct World {
        webhooks: Arc<MemoryWebhookStore>,
        logs: Arc<MemoryLogs>,
        sender: Arc<ScriptedSender>,
        dispatcher: Dispatcher,
    }

    /// A dispatcher on memory adapters whose receiver answers 200.
    fn world() -> World {
        let webhooks = Arc::new(MemoryWebhookStore::default());
        let logs = Arc::new(MemoryLogs::default());
        let sender = Arc::new(ScriptedSender::default());
        let ports = DeliveryPorts {
            webhooks: webhooks.clone(),
            secrets: Arc::new(MemorySecretStore::default()),
            queue: Arc::new(MemoryTaskQueue::default()),
            logs: logs.clone(),
            sender: sender.clone(),
            clock: Arc::new(ManualClock::at(base_time())),
        };
        World {
            webhooks,
            logs,
            sender,
            dispatcher: Dispatcher::new(ports, DeliverySettings::default()),
        }
    }

    #[tokio::test]
    async fn given_a_subscribed_webhook_when_an_event_runs_then_it_is_delivered_and_done() {
        // GIVEN a webhook of the event's type
        let world = world();
        let hook = webhook(TYPE);
        world.webhooks.insert(&hook).await.unwrap();
        // WHEN an event runs
        let ran = Work::Event(event(TYPE, "acme"))
            .run(&world.dispatcher, None)
            .await;
        // THEN it is done, with one request sent
        assert!(matches!(ran, Ran::Done), "{ran:?}");
        assert_eq!(world.sender.requests().len(), 1);
    }

    #[tokio::test]
    async fn given_a_due_task_when_it_runs_then_the_attempt_is_made_logged_and_done() {
        // GIVEN a stored webhook and a due task for it
        let world = world();
        let hook = webhook(TYPE);
        world.webhooks.insert(&hook).await.unwrap();
        let task = DeliveryTask::first(event(TYPE, "acme"), hook.id.clone());
        // WHEN the task runs
        let ran = Work::Delivery(task.clone())
            .run(&world.dispatcher, None)
            .await;
        // THEN it is done, and the attempt is in the log
        assert!(matches!(ran, Ran::Done), "{ran:?}");
        let logged = world.logs.all();
        assert_eq!(logged.len(), 1);
        assert_eq!(logged[0].record.delivery_id, task.delivery_id);
    }
}
