//! A webhook's signing secrets at rest, and the rotation rule: after a rotation the
//! previous secret keeps signing beside the new one for [`ROTATION_GRACE`]. Both
//! secret adapters store a [`StoredSecret`] and ask it what signs; neither restates
//! the rule.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::domain::signing::SigningSecrets;
use crate::domain::time::Timestamp;

/// How long a rotated-out secret keeps signing beside the new one.
pub const ROTATION_GRACE: Duration = Duration::from_secs(24 * 3600);

/// Where a webhook's secret is kept (a Secrets Manager ARN, or a local reference):
/// stored on the webhook, never the secret itself.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretRef(String);

impl SecretRef {
    pub fn new(reference: impl Into<String>) -> Self {
        Self(reference.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A webhook's stored secrets: the current one and, after a rotation, the previous
/// one and when it was rotated out. Its JSON form is the Secrets Manager value
/// `{"current": "...", "previous": "..."|null, "rotated_at": "<RFC 3339>"|null}`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSecret {
    pub current: String,
    pub previous: Option<String>,
    pub rotated_at: Option<Timestamp>,
}

impl fmt::Debug for StoredSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredSecret")
            .field("previous", &self.previous.as_ref().map(|_| "<redacted>"))
            .field("rotated_at", &self.rotated_at)
            .finish_non_exhaustive()
    }
}

impl StoredSecret {
    /// A first secret: nothing rotated out.
    pub fn new(current: &str) -> Self {
        Self {
            current: current.to_owned(),
            previous: None,
            rotated_at: None,
        }
    }

    /// This secret rotated to `next` at `now`: the current one becomes the previous.
    pub fn rotated(&self, next: &str, now: Timestamp) -> Self {
        Self {
            current: next.to_owned(),
            previous: Some(self.current.clone()),
            rotated_at: Some(now),
        }
    }

    /// What signs at `now`: the current secret, and the previous one while the
    /// rotation's grace period lasts.
    pub fn signing(&self, now: Timestamp) -> SigningSecrets {
        let in_grace = self
            .rotated_at
            .is_some_and(|at| now < at.plus(ROTATION_GRACE));
        SigningSecrets {
            current: self.current.clone(),
            previous: self.previous.clone().filter(|_| in_grace),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(ms)
    }

    #[test]
    fn a_first_secret_signs_alone() {
        let signing = StoredSecret::new("s1").signing(at(0));
        assert_eq!(signing.current, "s1");
        assert_eq!(signing.previous, None);
    }

    #[test]
    fn the_previous_secret_signs_only_during_the_grace_period() {
        // Given a secret rotated at t0
        let rotated = StoredSecret::new("old").rotated("new", at(0));
        let grace_ms = ROTATION_GRACE.as_millis() as i64;
        // When it signs just before and exactly at the end of the grace
        let inside = rotated.signing(at(grace_ms - 1));
        let after = rotated.signing(at(grace_ms));
        // Then the previous secret signs inside it, and not from its end on
        assert_eq!(inside.current, "new");
        assert_eq!(inside.previous.as_deref(), Some("old"));
        assert_eq!(after.previous, None);
    }

    #[test]
    fn its_json_is_the_documented_shape_and_its_debug_hides_secrets() {
        let stored = StoredSecret::new("s3cr3t-old").rotated("s3cr3t-new", at(0));
        assert_eq!(
            serde_json::to_value(&stored).unwrap(),
            serde_json::json!({"current": "s3cr3t-new", "previous": "s3cr3t-old",
                "rotated_at": "1970-01-01T00:00:00.000Z"})
        );
        let debug = format!("{stored:?}");
        assert!(!debug.contains("s3cr3t"), "{debug}");
    }

    #[test]
    fn a_reference_serialises_as_its_string() {
        let reference = SecretRef::new("arn:x");
        assert_eq!(serde_json::to_string(&reference).unwrap(), "\"arn:x\"");
        assert_eq!(reference.to_string(), "arn:x");
    }
}
