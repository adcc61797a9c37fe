//! The README's walk-through, end to end with the real binary: `serve`, `listen`,
//! create a webhook over HTTP, `send`, see the verified delivery, `logs`, `test`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed step panics

mod common;

use common::{finish, interrupt, listening_url, webhooks, LineReader};
use serde_json::{json, Value};
use tokio::process::{Child, ChildStdout};

const SECRET: &str = "my-receiver-secret-123";

/// Starts `webhooks serve` on a free loopback port with a fresh database; returns the
/// child and the API's base URL read from its banner.
async fn serve(
    dir: &tempfile::TempDir,
    extra: &[&str],
) -> (Child, String, LineReader<ChildStdout>) {
    let db = dir.path().join("webhooks.db");
    let mut args = vec![
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--db",
        db.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let mut child = webhooks(&args).spawn().expect("webhooks serve starts");
    let mut stdout = LineReader::new(child.stdout.take().unwrap());
    let line = stdout
        .until(|line| line.trim_start().starts_with("API"))
        .await;
    (child, listening_url(&line), stdout)
}

#[tokio::test]
async fn the_readme_walk_through_works_with_the_real_binary() {
    // GIVEN `webhooks serve` and `webhooks listen --secret`
    let dir = tempfile::tempdir().unwrap();
    let (mut server, api, _server_out) = serve(&dir, &[]).await;
    let mut listener = webhooks(["listen", "--addr", "127.0.0.1:0", "--secret", SECRET])
        .spawn()
        .unwrap();
    let mut listened = LineReader::new(listener.stdout.take().unwrap());
    let receiver = listening_url(
        &listened
            .until(|l| l.starts_with("listening on http://"))
            .await,
    );

    // WHEN a webhook is created with curl's request
    let created: Value = reqwest::Client::new()
        .post(format!("{api}/webhooks"))
        .header("content-type", "application/json")
        .body(json!({"name": "My receiver", "url": format!("{receiver}/hook"), "event": "report.publish_status",
            "clients": "all", "secret": SECRET}).to_string())
        .send().await.unwrap().json().await.unwrap();
    let webhook_id = created["id"].as_str().expect("a webhook id").to_owned();

    // AND an event is sent with `webhooks send`
    let sent = finish({
        let mut c = webhooks([
            "send",
            "--api",
            &api,
            "--type",
            "report.publish_status",
            "--client",
            "acme",
            "--data",
            r#"{"report_id":"r-42","status":"published"}"#,
        ]);
        c.stdin(std::process::Stdio::null());
        c
    })
    .await;
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    assert!(String::from_utf8_lossy(&sent.stdout).starts_with("queued evt_"));

    // THEN the listener prints the delivery with both signatures verified
    listened
        .until(|l| l.contains("X-Authorization-HMAC-256") && l.contains("verified"))
        .await;
    listened
        .until(|l| l.contains("webhook-signature") && l.contains("verified"))
        .await;
    listened.until(|l| l.contains("r-42")).await;

    // AND `webhooks logs` shows the attempt succeeded
    let logs = finish(webhooks(["logs", &webhook_id, "--api", &api])).await;
    let text = String::from_utf8_lossy(&logs.stdout);
    assert!(
        logs.status.success(),
        "{}",
        String::from_utf8_lossy(&logs.stderr)
    );
    assert!(text.contains("succeeded"), "{text}");

    // AND `webhooks test` reports every check for the saved webhook and the bare URL
    let tested = finish(webhooks(["test", &webhook_id, "--api", &api])).await;
    let report = String::from_utf8_lossy(&tested.stdout);
    assert!(
        tested.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&tested.stderr)
    );
    for check in [
        "url_valid",
        "dns_resolves",
        "address_allowed",
        "connects",
        "no_redirect",
        "status_200",
        "responds_in_time",
        "signature",
    ] {
        assert!(report.contains(check), "{check} missing from {report}");
    }
    let blocked = finish(webhooks([
        "test",
        "http://169.254.169.254/latest/meta-data/",
        "--api",
        &api,
    ]))
    .await;
    assert_eq!(blocked.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&blocked.stdout).contains("✘ address_allowed"));
    let stderr = String::from_utf8_lossy(&blocked.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: connection test failed: address_allowed"));

    // AND both stop cleanly on Ctrl-C
    assert!(interrupt(&mut server).await.success());
    interrupt(&mut listener).await;
}

#[tokio::test]
async fn serve_refuses_a_public_address_without_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let refused = finish(webhooks([
        "serve",
        "--addr",
        "0.0.0.0:0",
        "--db",
        db.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("without a token"));
}

#[tokio::test]
async fn serve_with_a_token_refuses_calls_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, api, _out) = serve(&dir, &["--token", "t0ken-for-tests"]).await;
    let anonymous = reqwest::get(format!("{api}/webhooks")).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let sent = finish(webhooks([
        "send",
        "--api",
        &api,
        "--type",
        "report.publish_status",
        "--client",
        "acme",
    ]))
    .await;
    assert_eq!(sent.status.code(), Some(1));
    let with_token = finish({
        let mut c = webhooks([
            "send",
            "--api",
            &api,
            "--type",
            "report.publish_status",
            "--client",
            "acme",
        ]);
        c.env("WEBHOOKS_API_TOKEN", "t0ken-for-tests");
        c
    })
    .await;
    assert!(
        with_token.status.success(),
        "{}",
        String::from_utf8_lossy(&with_token.stderr)
    );
    interrupt(&mut server).await;
}

#[tokio::test]
async fn a_bad_configuration_variable_fails_start_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let mut command = webhooks([
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--db",
        db.to_str().unwrap(),
    ]);
    command.env("DELIVERY_TIMEOUT_MS", "soon");
    let failed = finish(command).await;
    assert_eq!(failed.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.starts_with("error: DELIVERY_TIMEOUT_MS"), "{stderr}");
}

#[tokio::test]
async fn a_second_serve_on_the_same_database_is_refused_naming_the_holder() {
    // GIVEN `webhooks serve` running on a database
    let dir = tempfile::tempdir().unwrap();
    let (mut server, _api, _out) = serve(&dir, &[]).await;
    let db = dir.path().join("webhooks.db");
    // WHEN a second serve is started on the same file
    let second = finish(webhooks([
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--db",
        db.to_str().unwrap(),
    ]))
    .await;
    // THEN it exits 1 with one line naming the file and the first one's pid
    assert_eq!(second.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(db.to_str().unwrap()), "{stderr}");
    let pid = server.id().expect("running").to_string();
    assert!(stderr.contains(&format!("process {pid}")), "{stderr}");
    assert!(interrupt(&mut server).await.success());
}

#[tokio::test]
async fn a_web_page_cannot_create_a_webhook_or_read_through_a_rebound_name() {
    // GIVEN `webhooks serve` on loopback without a token
    let dir = tempfile::tempdir().unwrap();
    let (mut server, api, _out) = serve(&dir, &[]).await;
    let client = reqwest::Client::new();
    let hook = r#"{"name": "evil", "url": "http://127.0.0.1:9/x", "event": "report.publish_status", "clients": "all"}"#;
    // WHEN a page on another site posts a text/plain form body, as browsers allow
    let cross_site = client
        .post(format!("{api}/webhooks"))
        .header("content-type", "text/plain")
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .body(hook)
        .send()
        .await
        .unwrap();
    // THEN it is refused with a problem document, and nothing was created
    assert_eq!(cross_site.status(), 403);
    assert_eq!(
        cross_site.headers()["content-type"],
        "application/problem+json"
    );
    let listed: serde_json::Value = client
        .get(format!("{api}/webhooks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(0));
    // AND a text/plain body without browser headers is refused as not JSON
    let plain = client
        .post(format!("{api}/webhooks"))
        .header("content-type", "text/plain")
        .body(hook)
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 415);
    // AND a DNS-rebinding page (its own name for our address) cannot read the API
    let rebound = client
        .get(format!("{api}/webhooks"))
        .header("host", "rebind.evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), 421);
    assert!(interrupt(&mut server).await.success());
}

#[tokio::test]
async fn serve_warns_in_one_line_when_every_private_network_is_open() {
    // GIVEN WEBHOOKS_ALLOW_NETS opening all of IPv4
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let mut command = webhooks([
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--db",
        db.to_str().unwrap(),
    ]);
    command.env("WEBHOOKS_ALLOW_NETS", "0.0.0.0/0");
    command.stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    // WHEN it starts
    let mut stderr = LineReader::new(child.stderr.take().unwrap());
    let line = stderr.until(|line| line.starts_with("warning:")).await;
    // THEN it says so in one line
    assert!(
        line.contains("0.0.0.0/0") && line.contains("every private network"),
        "{line}"
    );
    // AND it serves as usual (stopped once its banner is out, when Ctrl-C is handled)
    let mut stdout = LineReader::new(child.stdout.take().unwrap());
    stdout
        .until(|line| line.trim_start().starts_with("API"))
        .await;
    assert!(interrupt(&mut child).await.success());
}

#[tokio::test]
async fn serve_stops_with_an_error_when_its_database_file_is_deleted() {
    // GIVEN `webhooks serve` running
    let dir = tempfile::tempdir().unwrap();
    let (mut server, _api, _out) = serve(&dir, &[]).await;
    // WHEN its database file is deleted under it
    std::fs::remove_file(dir.path().join("webhooks.db")).unwrap();
    // THEN it stops on its own, exit 1 (bounded: it checks every 2 s)
    let status = tokio::time::timeout(std::time::Duration::from_secs(20), server.wait())
        .await
        .expect("serve stops by itself")
        .unwrap();
    assert_eq!(status.code(), Some(1));
}
