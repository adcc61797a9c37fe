//! The event envelope producers send, its parsing and validation, and the body a
//! receiver gets.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::catalogue;
use crate::domain::ids::{EventId, WebhookId};
use crate::domain::time::Timestamp;

/// The largest event body accepted, in bytes (the SQS message limit).
pub const MAX_EVENT_BYTES: usize = 256 * 1024;

const EVENT_FIELDS: &[&str] = &["id", "type", "client_id", "occurred_at", "data"];

/// A validated event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    #[schema(value_type = String)]
    pub id: EventId,
    #[serde(rename = "type")]
    pub event_type: String,
    pub client_id: String,
    pub occurred_at: Timestamp,
    #[schema(value_type = Object)]
    pub data: Value,
}

/// Why an event was refused. The text is what goes to the DLQ's `reason` attribute
/// and into the API's problem detail.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EventRejection {
    #[error("event is {size} bytes; the limit is {MAX_EVENT_BYTES}")]
    TooLarge { size: usize },
    #[error("event is not valid JSON: {0}")]
    NotJson(String),
    #[error("event must be a JSON object")]
    NotAnObject,
    #[error("{field}: {message}")]
    InvalidField {
        field: &'static str,
        message: String,
    },
    #[error("{0}: unknown field")]
    UnknownField(String),
}

impl EventRejection {
    /// The request field the rejection is about, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            EventRejection::InvalidField { field, .. } => Some(field),
            EventRejection::UnknownField(field) => Some(field),
            _ => None,
        }
    }

    fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        EventRejection::InvalidField {
            field,
            message: message.into(),
        }
    }
}

impl Event {
    /// Parses and validates a producer's event. `fallback_id` and `received_at` stand
    /// in for an absent `id` and `occurred_at`.
    pub fn parse(
        body: &[u8],
        fallback_id: impl FnOnce() -> EventId,
        received_at: Timestamp,
    ) -> Result<Event, EventRejection> {
        if body.len() > MAX_EVENT_BYTES {
            return Err(EventRejection::TooLarge { size: body.len() });
        }
        let value: Value =
            serde_json::from_slice(body).map_err(|e| EventRejection::NotJson(e.to_string()))?;
        let Value::Object(mut object) = value else {
            return Err(EventRejection::NotAnObject);
        };
        if let Some(unknown) = object
            .keys()
            .find(|key| !EVENT_FIELDS.contains(&key.as_str()))
        {
            return Err(EventRejection::UnknownField(unknown.clone()));
        }

        let event_type = required_string(&mut object, "type")?;
        if catalogue::find(&event_type).is_some_and(|found| found.operational) {
            return Err(EventRejection::invalid(
                "type",
                format!("{event_type:?} is emitted by the service itself, not sent by producers"),
            ));
        }
        if catalogue::find(&event_type).is_none() {
            let known: Vec<_> = catalogue::producer_ids().collect();
            return Err(EventRejection::invalid(
                "type",
                format!(
                    "unknown event type {event_type:?}; known types: {}",
                    known.join(", ")
                ),
            ));
        }
        let client_id = required_string(&mut object, "client_id")?;
        if client_id.is_empty() || client_id.chars().count() > 128 {
            return Err(EventRejection::invalid(
                "client_id",
                "must be 1–128 characters",
            ));
        }
        let id = match object.remove("id") {
            None | Some(Value::Null) => fallback_id(),
            Some(Value::String(id)) => {
                EventId::from_producer(&id).map_err(|m| EventRejection::invalid("id", m))?
            }
            Some(_) => return Err(EventRejection::invalid("id", "must be a string")),
        };
        let occurred_at = match object.remove("occurred_at") {
            None | Some(Value::Null) => received_at,
            Some(Value::String(text)) => Timestamp::parse(&text).ok_or_else(|| {
                EventRejection::invalid("occurred_at", "must be an RFC 3339 timestamp")
            })?,
            Some(_) => {
                return Err(EventRejection::invalid(
                    "occurred_at",
                    "must be an RFC 3339 timestamp",
                ))
            }
        };
        let data = match object.remove("data") {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(data @ Value::Object(_)) => data,
            Some(_) => return Err(EventRejection::invalid("data", "must be a JSON object")),
        };
        Ok(Event {
            id,
            event_type,
            client_id,
            occurred_at,
            data,
        })
    }

    /// The exact bytes POSTed to one webhook.
    pub fn delivery_body(&self, webhook_id: &WebhookId) -> Vec<u8> {
        let body = DeliveryBody {
            id: &self.id,
            event_type: &self.event_type,
            client_id: &self.client_id,
            occurred_at: self.occurred_at,
            webhook_id,
            data: &self.data,
        };
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

fn required_string(
    object: &mut Map<String, Value>,
    field: &'static str,
) -> Result<String, EventRejection> {
    match object.remove(field) {
        Some(Value::String(text)) => Ok(text),
        None | Some(Value::Null) => Err(EventRejection::invalid(field, "is required")),
        Some(_) => Err(EventRejection::invalid(field, "must be a string")),
    }
}

/// What a receiver gets, field order as in the design.
#[derive(Serialize)]
struct DeliveryBody<'a> {
    id: &'a EventId,
    #[serde(rename = "type")]
    event_type: &'a str,
    client_id: &'a str,
    occurred_at: Timestamp,
    webhook_id: &'a WebhookId,
    data: &'a Value,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn received() -> Timestamp {
        Timestamp::parse("2026-11-28T12:00:00Z").unwrap()
    }

    fn parse(value: Value) -> Result<Event, EventRejection> {
        Event::parse(
            value.to_string().as_bytes(),
            || EventId::from_trusted("evt_fallback"),
            received(),
        )
    }

    #[test]
    fn a_minimal_event_gets_the_fallback_id_and_receive_time() {
        let event = parse(json!({"type": "report.publish_status", "client_id": "acme"})).unwrap();
        assert_eq!(event.id.as_str(), "evt_fallback");
        assert_eq!(event.occurred_at, received());
        assert_eq!(event.data, json!({}));
    }

    #[test]
    fn a_full_event_keeps_the_producers_values() {
        let event = parse(
            json!({"id": "evt_p1", "type": "assessment.submitted", "client_id": "acme",
            "occurred_at": "2026-11-27T10:00:00Z", "data": {"k": 1}}),
        )
        .unwrap();
        assert_eq!(event.id.as_str(), "evt_p1");
        assert_eq!(event.occurred_at.to_string(), "2026-11-27T10:00:00.000Z");
        assert_eq!(event.data, json!({"k": 1}));
    }

    #[test]
    fn invalid_json_is_rejected() {
        let err = Event::parse(b"{nope", EventId::generate, received()).unwrap_err();
        assert!(matches!(err, EventRejection::NotJson(_)));
    }

    #[test]
    fn an_array_is_rejected() {
        assert_eq!(parse(json!([1])).unwrap_err(), EventRejection::NotAnObject);
    }

    #[test]
    fn an_unknown_type_is_rejected_naming_the_known_ones() {
        let err = parse(json!({"type": "report.deleted", "client_id": "acme"})).unwrap_err();
        assert_eq!(err.field(), Some("type"));
        assert!(err.to_string().contains("report.publish_status"));
    }

    #[test]
    fn a_producer_may_not_send_an_operational_event() {
        // GIVEN a producer's event of the type the service emits itself
        let err =
            parse(json!({"type": "webhook.disabled", "client_id": "operations"})).unwrap_err();
        // THEN it is refused naming the type, and the known types offered are the producers'
        assert_eq!(err.field(), Some("type"));
        assert!(err.to_string().contains("emitted by the service"), "{err}");
        let unknown = parse(json!({"type": "report.deleted", "client_id": "acme"})).unwrap_err();
        assert!(
            !unknown.to_string().contains("webhook.disabled"),
            "{unknown}"
        );
    }

    #[test]
    fn a_missing_client_id_is_rejected() {
        let err = parse(json!({"type": "report.publish_status"})).unwrap_err();
        assert_eq!(err.field(), Some("client_id"));
    }

    #[test]
    fn an_unknown_field_is_rejected() {
        let err = parse(json!({"type": "report.publish_status", "client_id": "a", "extra": 1}))
            .unwrap_err();
        assert_eq!(err, EventRejection::UnknownField("extra".into()));
    }

    #[test]
    fn a_bad_timestamp_or_data_is_rejected() {
        let base = json!({"type": "report.publish_status", "client_id": "a"});
        let mut bad_time = base.clone();
        bad_time["occurred_at"] = json!("noon");
        assert_eq!(parse(bad_time).unwrap_err().field(), Some("occurred_at"));
        let mut bad_data = base;
        bad_data["data"] = json!("text");
        assert_eq!(parse(bad_data).unwrap_err().field(), Some("data"));
    }

    #[test]
    fn an_event_over_256_kib_is_rejected_before_parsing() {
        let body = vec![b' '; MAX_EVENT_BYTES + 1];
        let err = Event::parse(&body, EventId::generate, received()).unwrap_err();
        assert!(matches!(err, EventRejection::TooLarge { .. }));
    }

    #[test]
    fn the_delivery_body_has_the_design_fields_in_order() {
        let event = parse(
            json!({"id": "evt_1", "type": "report.publish_status", "client_id": "acme",
            "occurred_at": "2026-11-28T12:00:00Z", "data": {"report_id": "r-42"}}),
        )
        .unwrap();
        let body = event.delivery_body(&WebhookId::from_trusted("wh_1"));
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"id":"evt_1","type":"report.publish_status","client_id":"acme","occurred_at":"2026-11-28T12:00:00.000Z","webhook_id":"wh_1","data":{"report_id":"r-42"}}"#
        );
    }
}
