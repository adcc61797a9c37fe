//! Both signature schemes of the design, and their verification (used by `webhooks
//! listen` and by receivers' tests).
//!
//! - `X-Authorization-HMAC-256`: lowercase hex of HMAC-SHA256(secret UTF-8, body).
//! - Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256 over
//!   "{id}.{timestamp}.{body}">`, keyed by the base64-decoded part after `whsec_` for
//!   a `whsec_` secret, otherwise by the secret's UTF-8 bytes.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub const HMAC_HEADER: &str = "X-Authorization-HMAC-256";
const WHSEC_PREFIX: &str = "whsec_";

fn mac(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; this cannot fail.
    HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

/// `X-Authorization-HMAC-256` value.
pub fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = mac(secret.as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The key bytes Standard Webhooks signs with.
pub fn standard_key(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix(WHSEC_PREFIX)
        .and_then(|encoded| BASE64.decode(encoded).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// One `v1,<base64>` signature.
pub fn standard_signature(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = mac(&standard_key(secret));
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
}

/// The secrets a delivery is signed with: the current one, and during a rotation's
/// grace period the previous one too.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecrets {
    pub current: String,
    pub previous: Option<String>,
}

impl std::fmt::Debug for SigningSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecrets(<redacted>)")
    }
}

/// The signature headers of one request, in the order they are sent.
pub fn signature_headers(
    secrets: &SigningSecrets,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    let mut signatures = standard_signature(&secrets.current, msg_id, timestamp, body);
    if let Some(previous) = &secrets.previous {
        signatures.push(' ');
        signatures.push_str(&standard_signature(previous, msg_id, timestamp, body));
    }
    vec![
        (HMAC_HEADER, hmac_hex(&secrets.current, body)),
        ("webhook-id", msg_id.to_owned()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", signatures),
    ]
}

/// Constant-time check of an `X-Authorization-HMAC-256` value.
pub fn verify_hmac_hex(secret: &str, body: &[u8], header: &str) -> bool {
    let Ok(expected) = hex::decode(header.trim()) else {
        return false;
    };
    let mut mac = mac(secret.as_bytes());
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// True when any `v1,` signature in a space-separated `webhook-signature` header matches.
pub fn verify_standard(
    secret: &str,
    msg_id: &str,
    timestamp: &str,
    body: &[u8],
    header: &str,
) -> bool {
    let key = standard_key(secret);
    header.split(' ').any(|candidate| {
        let Some(encoded) = candidate.strip_prefix("v1,") else {
            return false;
        };
        let Ok(expected) = BASE64.decode(encoded) else {
            return false;
        };
        let mut mac = mac(&key);
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.verify_slice(&expected).is_ok()
    })
}

/// A fresh `whsec_` secret: 32 random bytes, base64.
pub fn generate_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("{WHSEC_PREFIX}{}", BASE64.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example published with the Standard Webhooks specification.
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TIMESTAMP: i64 = 1614265330;
    const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn standard_webhooks_matches_the_specs_published_example() {
        assert_eq!(
            standard_signature(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY),
            SPEC_SIGNATURE
        );
    }

    #[test]
    fn hmac_hex_matches_a_fixed_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            hmac_hex("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_plain_secret_signs_standard_webhooks_with_its_utf8_bytes() {
        let plain = standard_signature("a-plain-secret-1234", "dlv_1", 1, b"{}");
        let mut mac = mac(b"a-plain-secret-1234");
        mac.update(b"dlv_1.1.{}");
        assert_eq!(
            plain,
            format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
        );
    }

    #[test]
    fn verification_accepts_the_right_signatures_and_refuses_tampering() {
        let secrets = SigningSecrets {
            current: generate_secret(),
            previous: None,
        };
        let headers = signature_headers(&secrets, "dlv_1", 1_700_000_000, b"{\"a\":1}");
        let hmac_value = &headers[0].1;
        let signature = &headers[3].1;
        assert!(verify_hmac_hex(&secrets.current, b"{\"a\":1}", hmac_value));
        assert!(!verify_hmac_hex(&secrets.current, b"{\"a\":2}", hmac_value));
        assert!(verify_standard(
            &secrets.current,
            "dlv_1",
            "1700000000",
            b"{\"a\":1}",
            signature
        ));
        assert!(!verify_standard(
            &secrets.current,
            "dlv_1",
            "1700000001",
            b"{\"a\":1}",
            signature
        ));
    }

    #[test]
    fn during_rotation_both_secrets_sign_and_either_verifies() {
        let secrets = SigningSecrets {
            current: "new-secret-0123456789".into(),
            previous: Some("old-secret-0123456789".into()),
        };
        let headers = signature_headers(&secrets, "dlv_1", 5, b"x");
        let signature = &headers[3].1;
        assert_eq!(signature.split(' ').count(), 2);
        assert!(verify_standard(
            "new-secret-0123456789",
            "dlv_1",
            "5",
            b"x",
            signature
        ));
        assert!(verify_standard(
            "old-secret-0123456789",
            "dlv_1",
            "5",
            b"x",
            signature
        ));
        assert!(!verify_standard(
            "other-secret-0123456789",
            "dlv_1",
            "5",
            b"x",
            signature
        ));
    }

    #[test]
    fn generated_secrets_are_whsec_with_32_key_bytes() {
        let secret = generate_secret();
        assert!(secret.starts_with("whsec_"));
        assert_eq!(standard_key(&secret).len(), 32);
        assert_ne!(secret, generate_secret());
    }

    #[test]
    fn secrets_never_appear_in_debug_output() {
        let secrets = SigningSecrets {
            current: "topsecret-value-123".into(),
            previous: None,
        };
        assert!(!format!("{secrets:?}").contains("topsecret"));
    }
}
