//! The event catalogue: one table; adding an event type is one line.

use serde::Serialize;
use serde_json::{json, Value};

pub struct EventType {
    pub id: &'static str,
    pub description: &'static str,
    /// A representative `data` object, sent by connection tests.
    pub sample: fn() -> Value,
}

pub const CATALOGUE: &[EventType] = &[
    EventType {
        id: "report.publish_status",
        description: "A report's publish status changed",
        sample: || json!({"report_id": "r-42", "status": "published"}),
    },
    EventType {
        id: "assessment.submitted",
        description: "A new assessment submission",
        sample: || json!({"assessment_id": "a-7", "submitted_by": "analyst@example.com"}),
    },
    EventType {
        id: "engagement.requested",
        description: "A new engagement request from the Schedule module",
        sample: || json!({"engagement_id": "e-3", "requested_by": "client@example.com"}),
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

/// `GET /event-types` item.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventTypeView {
    pub id: &'static str,
    pub description: &'static str,
}

pub fn views() -> Vec<EventTypeView> {
    CATALOGUE
        .iter()
        .map(|event_type| EventTypeView {
            id: event_type.id,
            description: event_type.description,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_holds_the_three_event_types_of_the_design() {
        let ids: Vec<_> = ids().collect();
        assert_eq!(
            ids,
            [
                "report.publish_status",
                "assessment.submitted",
                "engagement.requested"
            ]
        );
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
