//! Identifiers: `wh_` + ULID, `evt_` + ULID (or the producer's own id), and `dlv_` +
//! a digest of (event id, webhook id), so processing an event twice yields the same
//! delivery ids and receivers can dedupe on them.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

macro_rules! string_id {
    ($name:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Wraps an id read back from a store or a path; no format check.
            pub fn from_trusted(id: impl Into<String>) -> Self {
                Self(id.into())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id!(WebhookId, "A webhook's id: `wh_` + ULID.");
string_id!(
    EventId,
    "An event's id: `evt_` + ULID, or the producer's own id."
);
string_id!(
    DeliveryId,
    "A delivery's id: `dlv_` + digest of (event id, webhook id)."
);

impl WebhookId {
    pub fn generate() -> Self {
        Self(format!("wh_{}", ulid::Ulid::new()))
    }
}

impl EventId {
    pub fn generate() -> Self {
        Self(format!("evt_{}", ulid::Ulid::new()))
    }

    /// A producer-chosen id: 1–128 characters of `A-Z a-z 0-9 _ - . :`, so it is safe
    /// in a header and in a storage key.
    pub fn from_producer(id: &str) -> Result<Self, &'static str> {
        if id.is_empty() || id.len() > 128 {
            return Err("must be 1–128 characters");
        }
        if !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
        {
            return Err("may contain only letters, digits and _ - . :");
        }
        Ok(Self(id.to_owned()))
    }
}

impl DeliveryId {
    /// The same (event, webhook) pair always gives the same delivery id.
    pub fn derive(event: &EventId, webhook: &WebhookId) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(event.as_str().as_bytes());
        hasher.update([0u8]);
        hasher.update(webhook.as_str().as_bytes());
        let digest = hasher.finalize();
        Self(format!("dlv_{}", hex::encode(&digest[..16])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_carry_their_prefix_and_a_ulid() {
        let id = WebhookId::generate();
        assert!(id.as_str().starts_with("wh_"));
        assert!(ulid::Ulid::from_string(&id.as_str()[3..]).is_ok());
        assert!(EventId::generate().as_str().starts_with("evt_"));
    }

    #[test]
    fn delivery_id_is_stable_for_the_same_event_and_webhook() {
        let event = EventId::from_producer("evt_1").unwrap();
        let webhook = WebhookId::from_trusted("wh_1");
        assert_eq!(
            DeliveryId::derive(&event, &webhook),
            DeliveryId::derive(&event, &webhook)
        );
        assert!(DeliveryId::derive(&event, &webhook)
            .as_str()
            .starts_with("dlv_"));
    }

    #[test]
    fn delivery_id_differs_per_webhook_and_per_event() {
        let e1 = EventId::from_producer("evt_1").unwrap();
        let e2 = EventId::from_producer("evt_2").unwrap();
        let w1 = WebhookId::from_trusted("wh_1");
        let w2 = WebhookId::from_trusted("wh_2");
        assert_ne!(DeliveryId::derive(&e1, &w1), DeliveryId::derive(&e1, &w2));
        assert_ne!(DeliveryId::derive(&e1, &w1), DeliveryId::derive(&e2, &w1));
    }

    #[test]
    fn producer_ids_must_be_header_safe() {
        assert!(EventId::from_producer("evt_ok-1.2:3").is_ok());
        assert!(EventId::from_producer("").is_err());
        assert!(EventId::from_producer("has space").is_err());
        assert!(EventId::from_producer(&"x".repeat(129)).is_err());
    }
}
