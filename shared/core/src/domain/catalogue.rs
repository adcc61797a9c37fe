//! The event catalogue: one table; adding an event type is one line.

use serde::Serialize;
use serde_json::{json, Value};

pub struct EventType {
    pub id: &'static str,
    pub description: &'static str,
    /// A representative `data` object, sent by connection tests.
    pub sample: fn() -> Value,
    /// Emitted by the service itself (client [`OPERATIONS_CLIENT`]); producers may not
    /// send it, webhooks may subscribe to it.
    pub operational: bool,
}

/// The client id of the service's own (operational) events.
pub const OPERATIONS_CLIENT: &str = "operations";

/// The operational event the service emits when it disables a webhook.
pub const WEBHOOK_DISABLED: &str = "webhook.disabled";

pub const CATALOGUE: &[EventType] = &[
    EventType {
        id: "report.publish_status",
        description: "A report's publish status changed",
        sample: || json!({"report_id": "r-42", "status": "published"}),
        operational: false,
    },
    EventType {
        id: "assessment.submitted",
        description: "A new assessment submission",
        sample: || json!({"assessment_id": "a-7", "submitted_by": "analyst@example.com"}),
        operational: false,
    },
    EventType {
        id: "engagement.requested",
        description: "A new engagement request from the Schedule module",
        sample: || json!({"engagement_id": "e-3", "requested_by": "client@example.com"}),
        operational: false,
    },
    EventType {
        id: WEBHOOK_DISABLED,
        description: "The service disabled a webhook (410 Gone, or 5 days of failures)",
        sample: || {
            json!({"webhook_id": "wh_01JDX3M5Q8Z0V6K2W9Y4T7R1AB", "name": "SIEM relay",
                "url": "https://siem.example/hook", "reason": "the endpoint answered 410 Gone",
                "disabled_at": "2026-11-28T12:00:00.000Z"})
        },
        operational: true,
    },
];

/// The event type of connection-test requests; never a webhook's subscription.
pub const TEST_EVENT_TYPE: &str = "webhook.test";

pub fn find(id: &str) -> Option<&'static EventType> {
    CATALOGUE.iter().find(|event_type| event_type.id == id)
}

pub fn ids() -> impl Iterator<Item = &'static str> {
    CATALOGUE.iter().map(|event_type| event_type.id)
}

/// The types producers may send: the catalogue less the operational ones.
pub fn producer_ids() -> impl Iterator<Item = &'static str> {
    CATALOGUE
        .iter()
        .filter(|event_type| !event_type.operational)
        .map(|event_type| event_type.id)
}

/// `GET /event-types` item.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventTypeView {
    pub id: &'static str,
    pub description: &'static str,
    /// Emitted by the service itself; producers may not send it.
    pub operational: bool,
}

pub fn views() -> Vec<EventTypeView> {
    CATALOGUE
        .iter()
        .map(|event_type| EventTypeView {
            id: event_type.id,
            description: event_type.description,
            operational: event_type.operational,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_holds_the_event_types_of_the_design() {
        let ids: Vec<_> = ids().collect();
        assert_eq!(
            ids,
            [
                "report.publish_status",
                "assessment.submitted",
                "engagement.requested",
                "webhook.disabled"
            ]
        );
        // AND producers may send all but the operational one
        assert_eq!(producer_ids().count(), 3);
        assert!(producer_ids().all(|id| id != WEBHOOK_DISABLED));
    }

    #[test]
    fn every_sample_is_a_json_object() {
        for event_type in CATALOGUE {
            assert!((event_type.sample)().is_object(), "{}", event_type.id);
        }
    }

    #[test]
    fn unknown_ids_are_not_found() {
        assert!(find("report.deleted").is_none());
        assert!(find(TEST_EVENT_TYPE).is_none());
    }
}
