//! Delivery tasks: what the retry queue carries. Versioned by a `type` tag so messages
//! written before a deploy still parse after it. Besides delivery attempts it carries
//! parked delivery-log records: an attempt whose log write failed is recorded later
//! instead of being attempted again.

use serde::{Deserialize, Serialize};

use crate::domain::delivery_log::LoggedAttempt;
use crate::domain::event::Event;
use crate::domain::ids::{DeliveryId, WebhookId};
use crate::domain::time::Timestamp;

/// One pending attempt of one delivery.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeliveryTask {
    pub delivery_id: DeliveryId,
    pub webhook_id: WebhookId,
    pub event: Event,
    /// The attempt number this task will make (1, 2, ...), counted across redeliveries.
    pub attempt: u32,
    /// The attempt number that began the current series (1, or a redelivery's first).
    pub series_start: u32,
    /// Not to be attempted before this time; queues with a maximum delay (SQS: 15 min)
    /// re-enqueue a task that arrives early.
    pub not_before: Option<Timestamp>,
}

impl DeliveryTask {
    /// The first attempt of a new delivery of `event` to `webhook_id`.
    pub fn first(event: Event, webhook_id: WebhookId) -> Self {
        Self {
            delivery_id: DeliveryId::derive(&event.id, &webhook_id),
            webhook_id,
            event,
            attempt: 1,
            series_start: 1,
            not_before: None,
        }
    }

    /// 1-based position of this attempt in its series, for the retry schedule.
    pub fn attempt_in_series(&self) -> u32 {
        self.attempt.saturating_sub(self.series_start) + 1
    }

    /// The task for the next attempt of the same series.
    pub fn next(&self, not_before: Timestamp) -> Self {
        Self {
            attempt: self.attempt + 1,
            not_before: Some(not_before),
            ..self.clone()
        }
    }
}

/// The retry queue's message format.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum TaskMessage {
    #[serde(rename = "delivery_v1")]
    DeliveryV1(DeliveryTask),
    /// A delivery-log record whose write failed, to be written again.
    #[serde(rename = "delivery_log_v1")]
    DeliveryLogV1(LoggedAttempt),
}

impl From<DeliveryTask> for TaskMessage {
    fn from(task: DeliveryTask) -> Self {
        TaskMessage::DeliveryV1(task)
    }
}

impl TaskMessage {
    /// The delivery attempt, if that is what the message carries.
    pub fn into_task(self) -> Option<DeliveryTask> {
        match self {
            TaskMessage::DeliveryV1(task) => Some(task),
            TaskMessage::DeliveryLogV1(_) => None,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::EventId;

    fn event() -> Event {
        Event {
            id: EventId::from_trusted("evt_1"),
            event_type: "report.publish_status".into(),
            client_id: "acme".into(),
            occurred_at: Timestamp::from_unix_millis(0),
            data: serde_json::json!({}),
        }
    }

    #[test]
    fn messages_carry_the_version_tag() {
        let message = TaskMessage::from(DeliveryTask::first(
            event(),
            WebhookId::from_trusted("wh_1"),
        ));
        let json: serde_json::Value = serde_json::from_str(&message.to_json()).unwrap();
        assert_eq!(json["type"], "delivery_v1");
        let parsed: TaskMessage = serde_json::from_value(json).unwrap();
        assert_eq!(parsed, message);
    }

    #[test]
    fn next_keeps_the_delivery_and_counts_the_attempt() {
        let first = DeliveryTask::first(event(), WebhookId::from_trusted("wh_1"));
        let second = first.next(Timestamp::from_unix_millis(5));
        assert_eq!(second.delivery_id, first.delivery_id);
        assert_eq!(second.attempt, 2);
        assert_eq!(second.attempt_in_series(), 2);
    }

    #[test]
    fn a_redelivery_series_restarts_the_schedule_but_not_the_count() {
        let mut task = DeliveryTask::first(event(), WebhookId::from_trusted("wh_1"));
        task.attempt = 9;
        task.series_start = 9;
        assert_eq!(task.attempt_in_series(), 1);
    }
}
