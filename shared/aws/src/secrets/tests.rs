//! The Secrets Manager value's JSON, old and new.

use std::time::Duration;

use super::*;

fn at(seconds: u64) -> Timestamp {
    Timestamp::parse("2026-11-28T12:00:00Z")
        .unwrap()
        .plus(Duration::from_secs(seconds))
}

#[test]
fn the_value_is_the_documented_json() {
    let value = SecretEntry::default()
        .with_secret("old-secret", at(0))
        .with_secret("new-secret", at(0));
    let json: serde_json::Value = serde_json::from_str(&value.to_json().unwrap()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"current": "new-secret", "previous": "old-secret",
            "rotated_at": "2026-11-28T12:00:00.000Z"})
    );
    let fresh = SecretEntry::default().with_secret("s", at(0));
    let fresh: serde_json::Value = serde_json::from_str(&fresh.to_json().unwrap()).unwrap();
    assert_eq!(
        fresh,
        serde_json::json!({"current": "s", "previous": null, "rotated_at": null})
    );
}

#[test]
fn a_value_written_before_custom_headers_still_parses() {
    // GIVEN a value as the service wrote it before custom headers existed
    let old = r#"{"current":"s3cr3t-a","previous":null,"rotated_at":null}"#;
    // WHEN it is parsed THEN it signs and has no headers
    let entry = SecretEntry::parse("webhooks/wh_1", old).unwrap();
    assert_eq!(entry.signing(at(0)).unwrap().current, "s3cr3t-a");
    assert!(entry.headers.is_empty());
}

#[test]
fn a_malformed_value_is_reported_without_quoting_it() {
    let error = SecretEntry::parse("webhooks/wh_1", "\"whsec_plaintextSecret\"").unwrap_err();
    let text = error.to_string();
    assert!(text.contains("webhooks/wh_1"), "{text}");
    assert!(!text.contains("plaintextSecret"), "{text}");
    let entry = SecretEntry::default().with_secret("hidden-value", at(0));
    assert!(!format!("{entry:?}").contains("hidden-value"));
}
