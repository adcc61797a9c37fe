//! Ready-made domain values for tests: a webhook, an event and a logged attempt that
//! every check can start from and change one field of.

use std::time::Duration;

use serde_json::json;

use crate::domain::delivery_log::{DeliveryLogRecord, LoggedAttempt, Outcome};
use crate::domain::event::Event;
use crate::domain::ids::{DeliveryId, EventId, WebhookId};
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
        rate_limit_per_second: None,
        header_names: Vec::new(),
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

/// One logged attempt of `delivery` to `webhook`, with every optional field set
/// except where the outcome says otherwise.
pub fn attempt(
    webhook: &WebhookId,
    delivery: &DeliveryId,
    number: u32,
    outcome: Outcome,
    at: Timestamp,
) -> LoggedAttempt {
    let failed = outcome != Outcome::Succeeded;
    LoggedAttempt {
        record: DeliveryLogRecord {
            delivery_id: delivery.clone(),
            webhook_id: webhook.clone(),
            event_id: EventId::from_trusted("evt_fixture"),
            event: "report.publish_status".into(),
            client_id: "acme".into(),
            attempt: number,
            outcome,
            status_code: Some(if failed { 503 } else { 200 }),
            elapsed_ms: Some(42),
            error: failed.then(|| "receiver answered HTTP 503".to_owned()),
            response_excerpt: Some("ok, \"quoted\" and ünïcödé".into()),
            at,
            next_attempt_at: (outcome == Outcome::Retrying)
                .then(|| at.plus(Duration::from_secs(5))),
        },
        occurred_at: base_time(),
        data: serde_json::json!({"report_id": "r-42", "nested": {"list": [1, 2, 3]}}),
    }
}
