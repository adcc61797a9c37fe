//! Ready-made domain values for tests: a webhook and an event that every check can
//! start from and change one field of.

use serde_json::json;

use crate::domain::event::Event;
use crate::domain::ids::{EventId, WebhookId};
use crate::domain::time::Timestamp;
use crate::domain::webhook::{ClientScope, Webhook};

/// 2026-11-28T12:00:00Z, the moment fixtures are made at.
pub fn base_time() -> Timestamp {
    Timestamp::from_unix_millis(1_795_867_200_000)
}

/// An enabled webhook of `event` for all clients, without a secret, at version 1.
pub fn webhook(event: &str) -> Webhook {
    Webhook {
        id: WebhookId::generate(),
        name: "fixture".to_owned(),
        url: "https://receiver.example/hook".to_owned(),
        event: event.to_owned(),
        clients: ClientScope::all(),
        enabled: true,
        secret_ref: None,
        disabled_reason: None,
        version: 1,
        created_at: base_time(),
        updated_at: base_time(),
        failing_since: None,
    }
}

/// An event of `event_type` for `client_id` with a small payload.
pub fn event(event_type: &str, client_id: &str) -> Event {
    Event {
        id: EventId::generate(),
        event_type: event_type.to_owned(),
        client_id: client_id.to_owned(),
        occurred_at: base_time(),
        data: json!({"report_id": "r-42", "status": "published"}),
    }
}
