//! The receiver snippets in `examples/verify/` agree with what the service sends:
//! the fixed vectors match `webhooks_core::domain::signing`, and the Python and Node checkers
//! verify freshly signed deliveries built exactly as the delivery code builds them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed step panics

mod common;

use std::path::PathBuf;

use serde_json::{json, Value};
use tokio::process::Command;
use webhooks_core::domain::event::Event;
use webhooks_core::domain::ids::{DeliveryId, EventId, WebhookId};
use webhooks_core::domain::signing::{
    generate_secret, hmac_hex, signature_headers, verify_hmac_hex, verify_standard, SigningSecrets,
};
use webhooks_core::domain::time::Timestamp;

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/verify")
}

fn vectors() -> Value {
    let text = std::fs::read_to_string(examples().join("vectors.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn field<'a>(case: &'a Value, name: &str) -> &'a str {
    case[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} missing in {case}"))
}

#[test]
fn the_fixed_vectors_agree_with_the_services_signing() {
    let vectors = vectors();
    for case in vectors["hmac"].as_array().unwrap() {
        let (secret, body, header) = (
            field(case, "secret"),
            field(case, "body"),
            field(case, "header"),
        );
        let valid = case["valid"].as_bool().unwrap();
        assert_eq!(
            verify_hmac_hex(secret, body.as_bytes(), header),
            valid,
            "{}",
            field(case, "name")
        );
        if valid {
            assert_eq!(
                hmac_hex(secret, body.as_bytes()),
                header,
                "{}",
                field(case, "name")
            );
        }
    }
    for case in vectors["standard"].as_array().unwrap() {
        let got = verify_standard(
            field(case, "secret"),
            field(case, "id"),
            field(case, "timestamp"),
            field(case, "body").as_bytes(),
            field(case, "header"),
        );
        assert_eq!(
            got,
            case["valid"].as_bool().unwrap(),
            "{}",
            field(case, "name")
        );
    }
}

/// A delivery as the service sends it: the event's delivery body, its delivery id,
/// and the signature headers, written as the checkers' `--check` file.
fn signed_delivery(secrets: &SigningSecrets) -> Value {
    let event = Event::parse(
        json!({"type": "report.publish_status", "client_id": "acme",
               "data": {"report_id": "r-42", "title": "Zoë’s “Q3” report ✓", "status": "published"}})
        .to_string()
        .as_bytes(),
        EventId::generate,
        Timestamp::from_datetime(chrono::Utc::now()),
    )
    .unwrap();
    let webhook = WebhookId::generate();
    let delivery = DeliveryId::derive(&event.id, &webhook);
    let body = event.delivery_body(&webhook);
    let timestamp = chrono::Utc::now().timestamp();
    let headers = signature_headers(secrets, delivery.as_str(), timestamp, &body);
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    json!({
        "secret": secrets.current,
        "id": header("webhook-id"),
        "timestamp": header("webhook-timestamp"),
        "body": String::from_utf8(body).unwrap(),
        "hmac": header("X-Authorization-HMAC-256"),
        "signature": header("webhook-signature"),
    })
}

/// Runs `program script --check FILE` and fails loudly with its output unless it passes.
async fn check_with(program: &str, script: &str, delivery: &Value) {
    let (passed, stdout) = run_check(program, script, delivery).await;
    assert!(
        passed,
        "{program} {script} refused a delivery the service signed:\n{stdout}"
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("ok ")).count(),
        5,
        "{stdout}"
    );
}

/// Runs `program script --check FILE`: whether it passed, and what it printed.
async fn run_check(program: &str, script: &str, delivery: &Value) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("delivery.json");
    std::fs::write(&file, delivery.to_string()).unwrap();
    let mut command = Command::new(program);
    command
        .arg(examples().join(script))
        .arg("--check")
        .arg(&file)
        .kill_on_drop(true);
    let output = tokio::time::timeout(common::STEP, command.output())
        .await
        .unwrap_or_else(|_| panic!("{program} {script} did not finish in time"))
        .unwrap_or_else(|e| panic!("cannot run {program} (is it installed?): {e}"));
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), printed)
}

#[tokio::test]
async fn the_python_and_node_snippets_verify_what_the_service_sends() {
    // GIVEN deliveries signed by the service: a whsec_ secret during a rotation (two
    // signatures), and a plain secret
    let rotating = SigningSecrets {
        current: generate_secret(),
        previous: Some("the-previous-plain-secret".into()),
    };
    let plain = SigningSecrets {
        current: "a-plain-secret-of-20-chars".into(),
        previous: None,
    };
    for delivery in [signed_delivery(&rotating), signed_delivery(&plain)] {
        // WHEN each snippet checks them THEN both signatures verify, and a tampered body does not
        check_with("python3", "python/verify.py", &delivery).await;
        check_with("node", "node/verify.js", &delivery).await;
    }
}

#[tokio::test]
async fn the_python_and_node_snippets_refuse_a_delivery_signed_with_another_secret() {
    // GIVEN a delivery signed with one secret, checked with another
    let mut delivery = signed_delivery(&SigningSecrets {
        current: generate_secret(),
        previous: None,
    });
    delivery["secret"] = json!(generate_secret());
    for (program, script) in [("python3", "python/verify.py"), ("node", "node/verify.js")] {
        // WHEN a snippet checks it THEN it fails, naming both signatures
        let (passed, printed) = run_check(program, script, &delivery).await;
        assert!(
            !passed,
            "{program} {script} accepted a wrong secret:\n{printed}"
        );
        assert!(
            printed.contains("FAIL X-Authorization-HMAC-256: invalid"),
            "{printed}"
        );
        assert!(
            printed.contains("FAIL webhook-signature: invalid"),
            "{printed}"
        );
    }
}

#[tokio::test]
async fn the_snippets_pass_their_own_vector_self_checks() {
    for (program, script) in [("python3", "python/verify.py"), ("node", "node/verify.js")] {
        let mut command = Command::new(program);
        command.arg(examples().join(script)).kill_on_drop(true);
        let output = tokio::time::timeout(common::STEP, command.output())
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("cannot run {program} (is it installed?): {e}"));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{program} {script}:\n{stdout}");
        let cases = vectors()["hmac"].as_array().unwrap().len()
            + vectors()["standard"].as_array().unwrap().len();
        assert_eq!(
            stdout.lines().filter(|l| l.starts_with("ok ")).count(),
            cases,
            "{stdout}"
        );
    }
}
