//! Verify the signatures of a webhooks delivery in Rust, with the `hmac`, `sha2`,
//! `base64` and `hex` crates.
//!
//! A webhook with a secret gets two signatures on every delivery; checking either one
//! is enough. Always verify the raw request body bytes, before parsing the JSON.
//!
//! - `X-Authorization-HMAC-256`: lowercase hex HMAC-SHA256 of the body, keyed by the
//!   secret's UTF-8 bytes.
//! - `webhook-id`, `webhook-timestamp`, `webhook-signature`: Standard Webhooks,
//!   `v1,<base64 HMAC-SHA256>` over `{webhook-id}.{webhook-timestamp}.{body}`; during
//!   a secret rotation several space-separated signatures are sent.
//!
//! In a request handler (`body` is the raw bytes, `header` looks one up as `&str`):
//!
//! ```text
//! let timestamp = header("webhook-timestamp");
//! let ok = verify_standard(&secret, header("webhook-id"), timestamp, &body, header("webhook-signature"))
//!     && timestamp_is_fresh(timestamp, now_unix_seconds, TOLERANCE_SECS);
//! // or: let ok = verify_hmac(&secret, &body, header("X-Authorization-HMAC-256"));
//! if !ok {
//!     return StatusCode::UNAUTHORIZED;
//! }
//! ```
// HMAC takes keys of any length: `mac` states that with an `expect`.
#![allow(clippy::expect_used)]

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How far `webhook-timestamp` may be from now, in seconds.
pub const TOLERANCE_SECS: i64 = 5 * 60;

fn mac(key: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length")
}

/// The base64-decoded part after `whsec_`, otherwise the secret's UTF-8 bytes.
fn standard_key(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix("whsec_")
        .and_then(|encoded| BASE64.decode(encoded).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// True when `header` (`X-Authorization-HMAC-256`) is the HMAC-SHA256 of `body`.
pub fn verify_hmac(secret: &str, body: &[u8], header: &str) -> bool {
    let Ok(received) = hex::decode(header.trim()) else {
        return false;
    };
    let mut mac = mac(secret.as_bytes());
    mac.update(body);
    mac.verify_slice(&received).is_ok() // constant-time
}

/// True when any `v1,` signature in `header` (`webhook-signature`) matches.
pub fn verify_standard(
    secret: &str,
    msg_id: &str,
    timestamp: &str,
    body: &[u8],
    header: &str,
) -> bool {
    let key = standard_key(secret);
    header.split(' ').any(|candidate| {
        let Some(Ok(received)) = candidate
            .strip_prefix("v1,")
            .map(|encoded| BASE64.decode(encoded))
        else {
            return false;
        };
        let mut mac = mac(&key);
        mac.update(format!("{msg_id}.{timestamp}.").as_bytes());
        mac.update(body);
        mac.verify_slice(&received).is_ok() // constant-time
    })
}

/// True when `webhook-timestamp` is within `tolerance_secs` of `now_unix` (refuses replays).
pub fn timestamp_is_fresh(timestamp: &str, now_unix: i64, tolerance_secs: i64) -> bool {
    timestamp
        .trim()
        .parse::<i64>()
        .is_ok_and(|sent| now_unix.abs_diff(sent) <= tolerance_secs.unsigned_abs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vectors(kind: &str) -> Vec<Value> {
        let all: Value = serde_json::from_str(include_str!("../../vectors.json")).unwrap();
        all[kind].as_array().unwrap().clone()
    }

    fn text<'a>(case: &'a Value, field: &str) -> &'a str {
        case[field].as_str().unwrap()
    }

    #[test]
    fn every_hmac_vector_verifies_as_expected() {
        let cases = vectors("hmac");
        assert!(!cases.is_empty());
        for case in &cases {
            let got = verify_hmac(
                text(case, "secret"),
                text(case, "body").as_bytes(),
                text(case, "header"),
            );
            assert_eq!(
                got,
                case["valid"].as_bool().unwrap(),
                "{}",
                text(case, "name")
            );
        }
    }

    #[test]
    fn every_standard_webhooks_vector_verifies_as_expected() {
        let cases = vectors("standard");
        assert!(!cases.is_empty());
        for case in &cases {
            let got = verify_standard(
                text(case, "secret"),
                text(case, "id"),
                text(case, "timestamp"),
                text(case, "body").as_bytes(),
                text(case, "header"),
            );
            assert_eq!(
                got,
                case["valid"].as_bool().unwrap(),
                "{}",
                text(case, "name")
            );
        }
    }

    #[test]
    fn the_specification_example_verifies() {
        assert!(verify_standard(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "1614265330",
            br#"{"test": 2432232314}"#,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ));
        assert!(verify_hmac(
            "Jefe",
            b"what do ya want for nothing?",
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        ));
    }

    #[test]
    fn timestamps_outside_the_tolerance_are_refused() {
        assert!(timestamp_is_fresh(
            "1000",
            1000 + TOLERANCE_SECS,
            TOLERANCE_SECS
        ));
        assert!(timestamp_is_fresh(
            "1000",
            1000 - TOLERANCE_SECS,
            TOLERANCE_SECS
        ));
        assert!(!timestamp_is_fresh(
            "1000",
            1001 + TOLERANCE_SECS,
            TOLERANCE_SECS
        ));
        assert!(!timestamp_is_fresh(
            "1000",
            999 - TOLERANCE_SECS,
            TOLERANCE_SECS
        ));
        assert!(!timestamp_is_fresh("soon", 1000, TOLERANCE_SECS));
    }
}
