//! Shared helpers of the crate's unit tests.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use webhooks_core::domain::event::Event;
use webhooks_core::domain::ids::{EventId, WebhookId};
use webhooks_core::domain::time::{Clock, Timestamp};
use webhooks_core::domain::webhook::{ClientScope, Webhook};

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn at(text: &str) -> Arc<Self> {
        let at = Timestamp::parse(text).expect("a valid timestamp");
        Arc::new(Self(AtomicI64::new(at.unix_millis())))
    }

    pub fn advance(&self, by: Duration) {
        let millis = i64::try_from(by.as_millis()).expect("a short duration");
        self.0.fetch_add(millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_millis(self.0.load(Ordering::SeqCst))
    }
}

pub fn event(id: &str) -> Event {
    Event {
        id: EventId::from_trusted(id),
        event_type: "report.publish_status".into(),
        client_id: "acme".into(),
        occurred_at: Timestamp::parse("2026-11-28T12:00:00Z").expect("a valid timestamp"),
        data: serde_json::json!({"report_id": "r-42", "status": "published"}),
    }
}

pub fn webhook(url: &str) -> Webhook {
    let at = Timestamp::parse("2026-11-28T11:00:00Z").expect("a valid timestamp");
    Webhook {
        id: WebhookId::generate(),
        name: "receiver".into(),
        url: url.into(),
        event: "report.publish_status".into(),
        clients: ClientScope::all(),
        enabled: true,
        secret_ref: None,
        disabled_reason: None,
        version: 1,
        created_at: at,
        updated_at: at,
        failing_since: None,
        rate_limit_per_second: None,
        header_names: Vec::new(),
    }
}
