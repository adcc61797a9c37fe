//! The inputs every benchmark uses: event bodies, a signing secret, bodies of a given
//! size, and a population of webhooks for fan-out matching.

use webhooks_core::domain::event::Event;
use webhooks_core::domain::ids::{EventId, WebhookId};
use webhooks_core::domain::time::Timestamp;
use webhooks_core::domain::webhook::{ClientScope, Webhook};

/// The event type every system-benchmark webhook and event uses.
pub const EVENT_TYPE: &str = "report.publish_status";
/// The client every system-benchmark event is for.
pub const CLIENT: &str = "acme";
/// The signing secret of every benchmark webhook: deliveries carry both signatures,
/// as a real deployment's do.
pub const SECRET: &str = "bench-secret-0123456789abcdef";
/// A Standard Webhooks secret, for the `whsec_` key path.
pub const WHSEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A producer's event as `POST /events` receives it (about 110 bytes).
pub fn event_body(n: usize) -> Vec<u8> {
    format!(
        r#"{{"type":"{EVENT_TYPE}","client_id":"{CLIENT}","data":{{"report_id":"r-{n:06}","status":"published"}}}}"#
    )
    .into_bytes()
}

/// The same event, parsed, with a fixed id and time.
pub fn event(n: usize) -> Event {
    Event::parse(
        &event_body(n),
        || EventId::from_trusted(format!("evt_bench_{n:06}")),
        Timestamp::from_unix_millis(1_795_000_000_000),
    )
    .unwrap_or_else(|rejection| unreachable!("the fixture event is valid: {rejection}"))
}

/// A JSON delivery-like body of exactly `size` bytes.
pub fn body_of_size(size: usize) -> Vec<u8> {
    let prefix = br#"{"id":"evt_1","data":""#;
    let suffix = br#""}"#;
    let fill = size.saturating_sub(prefix.len() + suffix.len());
    let mut body = Vec::with_capacity(size);
    body.extend_from_slice(prefix);
    body.extend((0..fill).map(|i| b'a' + (i % 26) as u8));
    body.extend_from_slice(suffix);
    body
}

/// `count` webhooks spread over the catalogue's three event types, half for all
/// clients and half for a list of ten clients (one in five of those lists names
/// [`CLIENT`]); one in ten is disabled. Roughly one in nine wants an
/// `(EVENT_TYPE, CLIENT)` event.
pub fn webhooks(count: usize) -> Vec<Webhook> {
    const TYPES: [&str; 3] = [
        "report.publish_status",
        "assessment.submitted",
        "engagement.requested",
    ];
    let at = Timestamp::from_unix_millis(1_795_000_000_000);
    (0..count)
        .map(|i| {
            let clients = if i % 2 == 0 {
                ClientScope::all()
            } else {
                let named = (i / 2) % 5 == 0;
                ClientScope::Only(
                    (0..10)
                        .map(|k| {
                            if named && k == 9 {
                                CLIENT.to_owned()
                            } else {
                                format!("client-{i}-{k}")
                            }
                        })
                        .collect(),
                )
            };
            Webhook {
                id: WebhookId::from_trusted(format!("wh_bench_{i:05}")),
                name: format!("bench {i}"),
                url: format!("https://receiver-{i}.example/hook"),
                event: TYPES[i % TYPES.len()].to_owned(),
                clients,
                enabled: i % 10 != 9,
                secret_ref: None,
                disabled_reason: None,
                version: 1,
                created_at: at,
                updated_at: at,
                failing_since: None,
                rate_limit_per_second: None,
                header_names: Vec::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_have_the_asked_size() {
        assert_eq!(body_of_size(1024).len(), 1024);
        assert_eq!(body_of_size(64 * 1024).len(), 64 * 1024);
    }

    #[test]
    fn the_fixture_event_parses() {
        assert_eq!(event(7).event_type, EVENT_TYPE);
    }

    #[test]
    fn some_but_not_all_webhooks_match() {
        let hooks = webhooks(900);
        let matching = hooks.iter().filter(|w| w.wants(EVENT_TYPE, CLIENT)).count();
        assert!(matching > 50 && matching < 300, "{matching}");
    }
}
