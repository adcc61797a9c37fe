//! What the secret store keeps for one webhook: its signing secret, if any, and the
//! values of its custom headers, if any. Its JSON form is the Secrets Manager value,
//! `{"current": "..."|null, "previous": "..."|null, "rotated_at": "<RFC 3339>"|null,
//! "headers"?: {"Name": "value", ...}}`; a value stored before custom headers existed
//! (no `headers`) reads as having none.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::domain::custom_headers::CustomHeaders;
use crate::domain::secret::StoredSecret;
use crate::domain::signing::SigningSecrets;
use crate::domain::time::Timestamp;

/// A webhook's entry in the secret store. Empty (no secret, no headers): nothing to
/// keep, so the adapters delete it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretEntry {
    pub secret: Option<StoredSecret>,
    pub headers: CustomHeaders,
}

impl fmt::Debug for SecretEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretEntry")
            .field("secret", &self.secret)
            .field("headers", &self.headers)
            .finish()
    }
}

impl SecretEntry {
    /// This entry with `next` as its signing secret: a rotation if it had one (the
    /// previous keeps signing for the grace period), else a first secret.
    pub fn with_secret(&self, next: &str, now: Timestamp) -> Self {
        let secret = match &self.secret {
            Some(stored) => stored.rotated(next, now),
            None => StoredSecret::new(next),
        };
        Self {
            secret: Some(secret),
            headers: self.headers.clone(),
        }
    }

    /// This entry without its signing secret (its headers kept).
    pub fn without_secret(&self) -> Self {
        Self {
            secret: None,
            headers: self.headers.clone(),
        }
    }

    /// This entry with `headers` in place of its custom headers (its secret kept).
    pub fn with_headers(&self, headers: &CustomHeaders) -> Self {
        Self {
            secret: self.secret.clone(),
            headers: headers.clone(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.secret.is_none() && self.headers.is_empty()
    }

    /// What signs at `now`, if the entry has a secret.
    pub fn signing(&self, now: Timestamp) -> Option<SigningSecrets> {
        self.secret.as_ref().map(|secret| secret.signing(now))
    }
}

/// The JSON shape, field by field.
#[derive(Serialize, Deserialize)]
struct Json {
    #[serde(default)]
    current: Option<String>,
    #[serde(default)]
    previous: Option<String>,
    #[serde(default)]
    rotated_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "CustomHeaders::is_empty")]
    headers: CustomHeaders,
}

impl Serialize for SecretEntry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let secret = self.secret.as_ref();
        Json {
            current: secret.map(|s| s.current.clone()),
            previous: secret.and_then(|s| s.previous.clone()),
            rotated_at: secret.and_then(|s| s.rotated_at),
            headers: self.headers.clone(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SecretEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = Json::deserialize(deserializer)?;
        Ok(Self {
            secret: json.current.map(|current| StoredSecret {
                current,
                previous: json.previous,
                rotated_at: json.rotated_at,
            }),
            headers: json.headers,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(ms)
    }

    fn headers() -> CustomHeaders {
        CustomHeaders::from_stored([("Authorization".to_owned(), "Splunk s3cr3t-h".to_owned())])
    }

    #[test]
    fn a_value_from_before_custom_headers_reads_with_none() {
        // GIVEN a stored value of the old shape
        let old = json!({"current": "s3cr3t-new", "previous": "s3cr3t-old",
            "rotated_at": "1970-01-01T00:00:00.000Z"});
        // WHEN it is read
        let entry: SecretEntry = serde_json::from_value(old.clone()).unwrap();
        // THEN it signs as before, has no headers, and writes back the same JSON
        assert_eq!(
            entry.signing(at(1)).unwrap().previous.as_deref(),
            Some("s3cr3t-old")
        );
        assert!(entry.headers.is_empty());
        assert_eq!(serde_json::to_value(&entry).unwrap(), old);
    }

    #[test]
    fn headers_without_a_secret_are_the_documented_json() {
        // GIVEN an entry with headers and no secret
        let entry = SecretEntry::default().with_headers(&headers());
        // WHEN it is written and read back
        let written = serde_json::to_value(&entry).unwrap();
        let read: SecretEntry = serde_json::from_value(written.clone()).unwrap();
        // THEN current is null, the headers are an object, and nothing signs
        assert_eq!(
            written,
            json!({"current": null, "previous": null, "rotated_at": null,
                "headers": {"Authorization": "Splunk s3cr3t-h"}})
        );
        assert_eq!(read, entry);
        assert_eq!(read.signing(at(0)), None);
    }

    #[test]
    fn secret_and_header_changes_keep_each_other() {
        // GIVEN an entry with a secret and headers
        let entry = SecretEntry::default()
            .with_secret("s3cr3t-1", at(0))
            .with_headers(&headers());
        // WHEN the secret is rotated, then removed, then the headers are cleared
        let rotated = entry.with_secret("s3cr3t-2", at(5));
        let unsigned = rotated.without_secret();
        let cleared = unsigned.with_headers(&CustomHeaders::default());
        // THEN each change keeps the other part, and the last leaves nothing
        assert_eq!(rotated.headers, headers());
        assert_eq!(
            rotated.signing(at(6)).unwrap().previous.as_deref(),
            Some("s3cr3t-1")
        );
        assert_eq!(unsigned.headers, headers());
        assert!(unsigned.secret.is_none() && !unsigned.is_empty());
        assert!(cleared.is_empty());
        // AND a secret given after removal starts without a previous one
        let fresh = unsigned.with_secret("s3cr3t-3", at(7));
        assert_eq!(fresh.signing(at(8)).unwrap().previous, None);
    }

    #[test]
    fn debug_never_shows_a_secret_or_a_header_value() {
        let entry = SecretEntry::default()
            .with_secret("s3cr3t-1", at(0))
            .with_headers(&headers());
        let debug = format!("{entry:?}");
        assert!(!debug.contains("s3cr3t"), "{debug}");
        assert!(debug.contains("Authorization"), "{debug}");
    }
}
