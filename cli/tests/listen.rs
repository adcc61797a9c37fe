//! `webhooks listen`: a delivery signed as the service signs it is shown verified; a
//! wrongly signed or stale one is shown failing; `--json` prints parseable lines.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed step panics

mod common;

use std::process::Stdio;

use common::{interrupt, listening_url, webhooks, LineReader};
use serde_json::Value;
use tokio::process::{Child, ChildStderr, ChildStdout};
use webhooks_core::domain::signing::{generate_secret, signature_headers, SigningSecrets};

const BODY: &str = r#"{"id":"evt_01TEST","type":"report.publish_status","client_id":"acme","occurred_at":"2026-11-28T12:00:00.000Z","webhook_id":"wh_01TEST","data":{"report_id":"r-42","status":"published"}}"#;

struct Listener {
    child: Child,
    url: String,
    stdout: LineReader<ChildStdout>,
    stderr: LineReader<ChildStderr>,
}

/// Starts `webhooks listen --addr 127.0.0.1:0 EXTRA...` and waits for its banner (on
/// stdout, or on stderr with `--json`).
async fn listen(extra: &[&str]) -> Listener {
    let mut args = vec!["listen", "--addr", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut command = webhooks(&args);
    command.stderr(Stdio::piped());
    let mut child = command.spawn().expect("webhooks listen starts");
    let mut stdout = LineReader::new(child.stdout.take().unwrap());
    let mut stderr = LineReader::new(child.stderr.take().unwrap());
    let banner_is = |line: &str| line.starts_with("listening on http://");
    let banner = if extra.contains(&"--json") {
        stderr.until(banner_is).await
    } else {
        let banner = stdout.until(banner_is).await;
        stdout.block().await; // the rest of the banner, up to its blank line
        banner
    };
    Listener {
        url: listening_url(&banner),
        child,
        stdout,
        stderr,
    }
}

/// POSTs `BODY` as a delivery signed with `signing_secret` at `timestamp`.
async fn deliver(url: &str, signing_secret: &str, timestamp: i64) -> reqwest::Response {
    let secrets = SigningSecrets {
        current: signing_secret.to_owned(),
        previous: None,
    };
    let mut request = reqwest::Client::new()
        .post(format!("{url}/hooks/siem"))
        .header("Content-Type", "application/json")
        .header("X-Webhook-Id", "wh_01TEST")
        .header("X-Webhook-Event", "report.publish_status")
        .header("X-Delivery-Id", "dlv_test1")
        .header("X-Delivery-Attempt", "1");
    for (name, value) in signature_headers(&secrets, "dlv_test1", timestamp, BODY.as_bytes()) {
        request = request.header(name, value);
    }
    tokio::time::timeout(common::STEP, request.body(BODY).send())
        .await
        .expect("the listener answers in time")
        .expect("the listener answers")
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn a_correctly_signed_delivery_is_shown_verified_by_both_schemes() {
    // GIVEN a listener with the webhook's secret
    let secret = generate_secret();
    let mut listener = listen(&["--secret", &secret]).await;

    // WHEN the service's signing signs a delivery with that secret
    let response = deliver(&listener.url, &secret, now()).await;

    // THEN it is answered 200 and printed with both signatures verified
    assert_eq!(response.status(), 200);
    let block = listener.stdout.block().await;
    let header = &block[0];
    for part in [
        "report.publish_status",
        "dlv_test1",
        "attempt 1",
        "wh_01TEST",
        "POST /hooks/siem",
    ] {
        assert!(header.contains(part), "{part:?} missing from {header:?}");
    }
    assert_eq!(block[1], "✔ X-Authorization-HMAC-256 verified");
    assert!(
        block[2].starts_with("✔ webhook-signature verified"),
        "{:?}",
        block[2]
    );
    let body = block[3..].join("\n");
    assert!(body.contains("\"report_id\": \"r-42\""), "{body}");
    let parsed: Value = serde_json::from_str(&body).expect("the body is printed as JSON");
    assert_eq!(parsed["data"]["status"], "published");
    assert!(
        !listener.stdout.seen.concat().contains(&secret),
        "the secret must never be printed"
    );
    assert!(interrupt(&mut listener.child).await.success());
}

#[tokio::test]
async fn a_wrongly_signed_or_stale_delivery_is_shown_failing() {
    // GIVEN a listener with the webhook's secret
    let secret = generate_secret();
    let mut listener = listen(&["--secret", &secret]).await;

    // WHEN a delivery signed with another secret arrives
    let response = deliver(&listener.url, &generate_secret(), now()).await;

    // THEN it is still answered (the listener shows, it does not judge) and both fail
    assert_eq!(response.status(), 200);
    let block = listener.stdout.block().await;
    assert_eq!(block[1], "✘ X-Authorization-HMAC-256 does not match");
    assert_eq!(block[2], "✘ webhook-signature does not match");

    // WHEN a correctly signed delivery is ten minutes old
    deliver(&listener.url, &secret, now() - 600).await;

    // THEN the HMAC passes and the Standard Webhooks check fails on the timestamp
    let block = listener.stdout.block().await;
    assert_eq!(block[1], "✔ X-Authorization-HMAC-256 verified");
    assert!(
        block[2].starts_with("✘ webhook-timestamp is 6") && block[2].contains("±300 s tolerance"),
        "{:?}",
        block[2]
    );
    assert!(interrupt(&mut listener.child).await.success());
}

#[tokio::test]
async fn json_mode_prints_one_parseable_object_per_delivery_and_answers_the_chosen_status() {
    // GIVEN a listener in --json mode answering 503
    let secret = generate_secret();
    let mut listener = listen(&["--secret", &secret, "--json", "--status", "503"]).await;

    // WHEN a signed delivery and then an unsigned one arrive
    let signed = deliver(&listener.url, &secret, now()).await;
    let unsigned = reqwest::Client::new()
        .post(format!("{}/other?x=1", listener.url))
        .body("plain text")
        .send()
        .await
        .unwrap();

    // THEN both get 503 and each is one JSON line
    assert_eq!(signed.status(), 503);
    assert_eq!(unsigned.status(), 503);
    let first: Value = serde_json::from_str(&listener.stdout.next_line().await).unwrap();
    assert_eq!(first["path"], "/hooks/siem");
    assert_eq!(first["headers"]["x-delivery-id"], "dlv_test1");
    assert_eq!(first["body"]["data"]["report_id"], "r-42");
    assert_eq!(first["verified"]["hmac"], true);
    assert_eq!(first["verified"]["standard"], true);
    assert!(first["received_at"].as_str().unwrap().ends_with('Z'));

    let second: Value = serde_json::from_str(&listener.stdout.next_line().await).unwrap();
    assert_eq!(second["path"], "/other?x=1");
    assert_eq!(second["body"], Value::Null);
    assert_eq!(second["body_text"], "plain text");
    assert_eq!(second["verified"]["hmac"], false);
    assert_eq!(second["verified"]["standard"], false);
    assert!(interrupt(&mut listener.child).await.success());
    assert!(listener.stderr.seen[0].starts_with("listening on http://127.0.0.1:"));
}

#[tokio::test]
async fn a_busy_address_is_a_one_line_error() {
    // GIVEN a port already taken
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();

    // WHEN listen is asked to use it
    let output = common::finish(webhooks(["listen", "--addr", &addr])).await;

    // THEN it exits 1 with one line naming the address
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!("error: cannot listen on {addr}: ")),
        "{stderr}"
    );
}
