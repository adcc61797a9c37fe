//! The webhook: what an admin registers, and the shape the API returns.

use serde::{Deserialize, Serialize};

use crate::domain::ids::WebhookId;
use crate::domain::secret::SecretRef;
use crate::domain::time::Timestamp;

/// Which clients' events a webhook hears: `"all"` or a list of client ids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ClientScope {
    /// `"all"`
    #[schema(value_type = String, example = "all")]
    All(AllClients),
    /// A non-empty list of client ids.
    Only(Vec<String>),
}

/// The literal string `"all"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AllClients {
    #[serde(rename = "all")]
    All,
}

impl ClientScope {
    pub fn all() -> Self {
        ClientScope::All(AllClients::All)
    }

    pub fn includes(&self, client_id: &str) -> bool {
        match self {
            ClientScope::All(_) => true,
            ClientScope::Only(ids) => ids.iter().any(|id| id == client_id),
        }
    }
}

/// A stored webhook. `secret_ref` points into the secret store; the secret itself is
/// never part of this record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: WebhookId,
    pub name: String,
    pub url: String,
    pub event: String,
    pub clients: ClientScope,
    pub enabled: bool,
    pub secret_ref: Option<SecretRef>,
    pub disabled_reason: Option<String>,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// When the current run of failed deliveries began; `None` after a success.
    pub failing_since: Option<Timestamp>,
    /// At most this many requests a second to the receiver (1–10,000), per process;
    /// `None`: no limit. Stored webhooks from before the field read as `None`.
    #[serde(default)]
    pub rate_limit_per_second: Option<u32>,
    /// The names of its custom headers, sorted; their values are in the secret store.
    /// Stored webhooks from before the field read as having none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub header_names: Vec<String>,
}

impl Webhook {
    /// Fan-out rule: enabled, subscribed to this event type, and scoped to this client.
    pub fn wants(&self, event_type: &str, client_id: &str) -> bool {
        self.enabled && self.event == event_type && self.clients.includes(client_id)
    }

    pub fn view(&self) -> WebhookView {
        WebhookView {
            id: self.id.clone(),
            name: self.name.clone(),
            url: self.url.clone(),
            event: self.event.clone(),
            clients: self.clients.clone(),
            enabled: self.enabled,
            secret_configured: self.secret_ref.is_some(),
            disabled_reason: self.disabled_reason.clone(),
            rate_limit_per_second: self.rate_limit_per_second,
            header_names: self.header_names.clone(),
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// A webhook as the API returns it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookView {
    #[schema(value_type = String, example = "wh_01JDX3M5Q8Z0V6K2W9Y4T7R1AB")]
    pub id: WebhookId,
    pub name: String,
    pub url: String,
    pub event: String,
    pub clients: ClientScope,
    pub enabled: bool,
    pub secret_configured: bool,
    pub disabled_reason: Option<String>,
    /// Requests a second at most; `null`: no limit.
    #[schema(minimum = 1, maximum = 10000)]
    pub rate_limit_per_second: Option<u32>,
    /// The names of its custom headers, sorted (their values are write-only).
    pub header_names: Vec<String>,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The lowest and highest `rate_limit_per_second`.
pub const RATE_LIMIT_RANGE: std::ops::RangeInclusive<u32> = 1..=10_000;

#[cfg(test)]
mod tests {
    use super::*;

    fn webhook(clients: ClientScope, enabled: bool) -> Webhook {
        let at = Timestamp::from_unix_millis(0);
        Webhook {
            id: WebhookId::from_trusted("wh_1"),
            name: "n".into(),
            url: "https://example.com/".into(),
            event: "report.publish_status".into(),
            clients,
            enabled,
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

    #[test]
    fn scope_all_serializes_as_the_string_all() {
        assert_eq!(
            serde_json::to_value(ClientScope::all()).unwrap(),
            serde_json::json!("all")
        );
        let parsed: ClientScope = serde_json::from_str("\"all\"").unwrap();
        assert_eq!(parsed, ClientScope::all());
    }

    #[test]
    fn an_enabled_all_clients_webhook_wants_every_client_of_its_event() {
        let hook = webhook(ClientScope::all(), true);
        assert!(hook.wants("report.publish_status", "acme"));
        assert!(!hook.wants("assessment.submitted", "acme"));
    }

    #[test]
    fn a_scoped_webhook_wants_only_its_clients() {
        let hook = webhook(ClientScope::Only(vec!["acme".into()]), true);
        assert!(hook.wants("report.publish_status", "acme"));
        assert!(!hook.wants("report.publish_status", "globex"));
    }

    #[test]
    fn a_disabled_webhook_wants_nothing() {
        assert!(!webhook(ClientScope::all(), false).wants("report.publish_status", "acme"));
    }

    #[test]
    fn view_reports_a_secret_without_revealing_it() {
        let mut hook = webhook(ClientScope::all(), true);
        hook.secret_ref = Some(SecretRef::new("ref"));
        let view = serde_json::to_value(hook.view()).unwrap();
        assert_eq!(view["secret_configured"], true);
        assert!(view.get("secret_ref").is_none());
    }

    #[test]
    fn view_shows_the_rate_limit_and_null_without_one() {
        // GIVEN a webhook without a rate limit and one limited to 5 a second
        let unlimited = webhook(ClientScope::all(), true);
        let mut limited = unlimited.clone();
        limited.rate_limit_per_second = Some(5);
        // WHEN both are shown
        let shown = [unlimited, limited].map(|hook| serde_json::to_value(hook.view()).unwrap());
        // THEN the field is null, then 5
        assert_eq!(shown[0]["rate_limit_per_second"], serde_json::Value::Null);
        assert_eq!(shown[1]["rate_limit_per_second"], 5);
    }

    #[test]
    fn a_stored_webhook_from_before_the_rate_limit_reads_without_one() {
        // GIVEN a stored webhook's JSON without the field
        let mut stored = serde_json::to_value(webhook(ClientScope::all(), true)).unwrap();
        stored
            .as_object_mut()
            .unwrap()
            .remove("rate_limit_per_second");
        // WHEN it is read THEN it has no rate limit
        let read: Webhook = serde_json::from_value(stored).unwrap();
        assert_eq!(read.rate_limit_per_second, None);
    }

    #[test]
    fn header_names_are_shown_and_an_older_webhook_reads_without_them() {
        // GIVEN a webhook with custom headers, and a stored one from before the field
        let mut with_headers = webhook(ClientScope::all(), true);
        with_headers.header_names = vec!["Authorization".into()];
        let old = serde_json::to_value(webhook(ClientScope::all(), true)).unwrap();
        // WHEN the first is shown and the second read
        let shown = serde_json::to_value(with_headers.view()).unwrap();
        let read: Webhook = serde_json::from_value(old.clone()).unwrap();
        // THEN the names are listed, and the old one has none (and stores no field)
        assert_eq!(shown["header_names"], serde_json::json!(["Authorization"]));
        assert!(old.get("header_names").is_none());
        assert!(read.header_names.is_empty());
        let shown_old = serde_json::to_value(read.view()).unwrap();
        assert_eq!(shown_old["header_names"], serde_json::json!([]));
    }
}
