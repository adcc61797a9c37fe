//! `webhooks send` and `webhooks logs` against a small fake of the API on loopback:
//! request shapes, the bearer token, one-line errors and exit codes, log ordering and
//! `--follow`. (End-to-end runs against `webhooks serve` live with the serve tests.)
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed step panics

mod common;

use std::sync::{Arc, Mutex};

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use common::{closed_port_url, finish, interrupt, webhooks, LineReader};
use serde_json::{json, Value};

#[derive(Default)]
struct Fake {
    /// (authorization header, body) of each `POST /events`.
    events: Vec<(Option<String>, Value)>,
    /// Log records, newest first, as the API returns them.
    logs: Vec<Value>,
    /// Query strings of each `GET .../logs`.
    log_queries: Vec<String>,
}

type Shared = Arc<Mutex<Fake>>;

async fn post_event(
    State(fake): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> impl IntoResponse {
    let authorization = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned());
    fake.lock()
        .unwrap()
        .events
        .push((authorization, body.clone()));
    // A server may refuse what the CLI's own check let through (another catalogue).
    if body["client_id"] == "refused-by-the-server" {
        let problem = json!({"type": "about:blank", "title": "Unprocessable Content", "status": 422,
            "detail": "the event is invalid",
            "errors": [{"field": "type", "message": "unknown event type \"report.deleted\""}]});
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            [("content-type", "application/problem+json")],
            problem.to_string(),
        )
            .into_response();
    }
    (StatusCode::ACCEPTED, Json(json!({"id": "evt_01FAKE"}))).into_response()
}

async fn get_logs(
    State(fake): State<Shared>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> impl IntoResponse {
    let mut fake = fake.lock().unwrap();
    fake.log_queries.push(query.unwrap_or_default());
    if id != "wh_1" {
        let problem =
            json!({"title": "Not Found", "status": 404, "detail": format!("no webhook {id}")});
        return (StatusCode::NOT_FOUND, problem.to_string()).into_response();
    }
    Json(json!({"items": fake.logs, "next_cursor": null})).into_response()
}

/// Serves the fake API on a free loopback port; returns its URL and state.
async fn fake_api() -> (String, Shared) {
    let fake = Shared::default();
    let app = Router::new()
        .route("/events", post(post_event))
        .route("/webhooks/{id}/logs", get(get_logs))
        .with_state(Arc::clone(&fake));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, fake)
}

fn record(delivery: &str, attempt: u32, outcome: &str, at: &str) -> Value {
    json!({"delivery_id": delivery, "webhook_id": "wh_1", "event_id": "evt_1",
        "event": "report.publish_status", "client_id": "acme", "attempt": attempt,
        "outcome": outcome, "status_code": if outcome == "succeeded" { 200 } else { 500 },
        "elapsed_ms": 12, "error": if outcome == "succeeded" { Value::Null } else { json!("HTTP 500") },
        "response_excerpt": null, "at": at, "next_attempt_at": null})
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Exactly one stderr line, starting with `error: `.
fn one_error_line(stderr: &[u8]) -> String {
    let stderr = text(stderr);
    assert_eq!(
        stderr.lines().count(),
        1,
        "expected one line, got {stderr:?}"
    );
    assert!(stderr.starts_with("error: "), "{stderr:?}");
    stderr.trim_end().to_owned()
}

#[tokio::test]
async fn send_posts_the_event_with_the_token_and_prints_its_id() {
    // GIVEN the API and a token in the environment
    let (api, fake) = fake_api().await;
    let mut command = webhooks([
        "send",
        "--type",
        "report.publish_status",
        "--client",
        "acme",
        "--data",
        r#"{"report_id": "r-42"}"#,
        "--id",
        "evt_p1",
        "--api",
        &api,
    ]);
    command.env("WEBHOOKS_API_TOKEN", "t0ken-for-tests");

    // WHEN an event is sent
    let output = finish(command).await;

    // THEN it is queued, printed, and the API got the event and the bearer token
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "queued evt_01FAKE\n");
    let fake = fake.lock().unwrap();
    let (authorization, body) = &fake.events[0];
    assert_eq!(authorization.as_deref(), Some("Bearer t0ken-for-tests"));
    assert_eq!(
        body,
        &json!({"id": "evt_p1", "type": "report.publish_status", "client_id": "acme",
                "data": {"report_id": "r-42"}})
    );
}

#[tokio::test]
async fn send_reads_data_from_a_file_and_defaults_to_an_empty_object() {
    let (api, fake) = fake_api().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data.json");
    std::fs::write(&file, r#"{"assessment_id": "a-1"}"#).unwrap();

    let from_file = finish(webhooks([
        "send",
        "--type",
        "assessment.submitted",
        "--client",
        "acme",
        "--data",
        &format!("@{}", file.display()),
        "--api",
        &api,
    ]))
    .await;
    let without = finish(webhooks([
        "send",
        "--type",
        "assessment.submitted",
        "--client",
        "acme",
        "--api",
        &api,
    ]))
    .await;

    assert!(from_file.status.success() && without.status.success());
    let fake = fake.lock().unwrap();
    assert_eq!(fake.events[0].1["data"], json!({"assessment_id": "a-1"}));
    assert_eq!(
        fake.events[0].0, None,
        "no token in the environment, no Authorization"
    );
    assert_eq!(fake.events[1].1["data"], json!({}));
    assert!(fake.events[1].1.get("id").is_none());
}

#[tokio::test]
async fn send_with_bad_data_fails_before_calling_the_api_naming_the_flag() {
    // GIVEN an API that records every call
    let (api, fake) = fake_api().await;
    for data in [
        "[1, 2]",
        "{not json",
        "\"text\"",
        "@/nonexistent/webhooks-test-data.json",
    ] {
        // WHEN --data is not a JSON object
        let output = finish(webhooks([
            "send",
            "--type",
            "report.publish_status",
            "--client",
            "acme",
            "--data",
            data,
            "--api",
            &api,
        ]))
        .await;

        // THEN a one-line usage error names --data, and nothing was sent
        assert_eq!(output.status.code(), Some(2), "for {data}");
        let line = one_error_line(&output.stderr);
        assert!(line.starts_with("error: --data"), "{line}");
        assert!(output.stdout.is_empty());
    }
    assert!(fake.lock().unwrap().events.is_empty());
}

#[tokio::test]
async fn an_api_problem_is_rendered_on_one_line() {
    let (api, _fake) = fake_api().await;
    let output = finish(webhooks([
        "send",
        "--type",
        "report.publish_status",
        "--client",
        "refused-by-the-server",
        "--api",
        &api,
    ]))
    .await;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        one_error_line(&output.stderr),
        "error: Unprocessable Content (422): the event is invalid; type: unknown event type \"report.deleted\""
    );
}

#[tokio::test]
async fn send_and_logs_against_an_unreachable_api_say_so_and_exit_1() {
    // GIVEN a loopback port nothing listens on
    let api = closed_port_url();
    let expected =
        format!("error: cannot reach the webhooks API at {api} (is `webhooks serve` running?)");

    // WHEN send and logs call it (once through --api, once through WEBHOOKS_API)
    let send = finish(webhooks([
        "send",
        "--type",
        "report.publish_status",
        "--client",
        "acme",
        "--api",
        &api,
    ]))
    .await;
    let mut logs = webhooks(["logs", "wh_1"]);
    logs.env("WEBHOOKS_API", &api);
    let logs = finish(logs).await;

    // THEN both print the one line and exit 1
    for output in [send, logs] {
        assert_eq!(output.status.code(), Some(1));
        assert_eq!(one_error_line(&output.stderr), expected);
    }
}

#[tokio::test]
async fn logs_prints_attempts_oldest_first() {
    // GIVEN three attempts, which the API lists newest first
    let (api, fake) = fake_api().await;
    fake.lock().unwrap().logs = vec![
        record("dlv_b", 1, "succeeded", "2026-11-28T12:00:09Z"),
        record("dlv_a", 2, "succeeded", "2026-11-28T12:00:06Z"),
        record("dlv_a", 1, "retrying", "2026-11-28T12:00:01Z"),
    ];

    // WHEN the log is shown with an outcome filter
    let output = finish(webhooks([
        "logs",
        "wh_1",
        "--outcome",
        "succeeded",
        "--api",
        &api,
    ]))
    .await;

    // THEN one line per attempt, oldest first, and the filter reached the API
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(
        lines[0].starts_with("2026-11-28T12:00:01.000Z  retrying   attempt 1 "),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains("500") && lines[0].contains("dlv_a") && lines[0].ends_with("HTTP 500")
    );
    assert!(lines[1].contains("succeeded  attempt 2") && lines[1].contains("12 ms"));
    assert!(lines[2].contains("dlv_b"));
    assert_eq!(
        fake.lock().unwrap().log_queries[0],
        "limit=50&outcome=succeeded"
    );
}

#[tokio::test]
async fn logs_of_an_unknown_webhook_is_the_apis_404_on_one_line() {
    let (api, _fake) = fake_api().await;
    let output = finish(webhooks(["logs", "wh_nope", "--api", &api])).await;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        one_error_line(&output.stderr),
        "error: Not Found (404): no webhook wh_nope"
    );
}

#[tokio::test]
async fn logs_follow_prints_only_new_attempts_until_ctrl_c() {
    // GIVEN one logged attempt and `logs --follow` running
    let (api, fake) = fake_api().await;
    fake.lock().unwrap().logs = vec![record("dlv_a", 1, "retrying", "2026-11-28T12:00:01Z")];
    let mut child = webhooks(["logs", "wh_1", "--follow", "--api", &api])
        .spawn()
        .unwrap();
    let mut stdout = LineReader::new(child.stdout.take().unwrap());
    let first = stdout.next_line().await;
    assert!(
        first.contains("dlv_a") && first.contains("attempt 1"),
        "{first}"
    );

    // WHEN two more attempts are logged (the old one is still listed)
    {
        let mut fake = fake.lock().unwrap();
        fake.logs
            .insert(0, record("dlv_a", 2, "succeeded", "2026-11-28T12:00:06Z"));
        fake.logs
            .insert(0, record("dlv_b", 1, "succeeded", "2026-11-28T12:00:07Z"));
    }

    // THEN exactly the two new ones are printed, oldest first
    let second = stdout.next_line().await;
    let third = stdout.next_line().await;
    assert!(
        second.contains("dlv_a") && second.contains("attempt 2"),
        "{second}"
    );
    assert!(
        third.contains("dlv_b") && third.contains("attempt 1"),
        "{third}"
    );

    // AND Ctrl-C ends it cleanly, without repeating anything
    let status = interrupt(&mut child).await;
    assert!(status.success(), "{status}");
    let mut rest = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stdout.into_inner(), &mut rest)
        .await
        .unwrap();
    assert!(rest.is_empty(), "printed again: {rest}");
}

#[tokio::test]
async fn a_bad_event_flag_is_a_usage_error_naming_the_flag_before_anything_is_sent() {
    // GIVEN an API address (nothing need answer: the event is checked first)
    let api = closed_port_url();
    // WHEN send is given an event type the catalogue does not have, or no client
    let unknown = finish(webhooks([
        "send",
        "--type",
        "report.nope",
        "--client",
        "acme",
        "--api",
        &api,
    ]))
    .await;
    let no_client = finish(webhooks([
        "send",
        "--type",
        "report.publish_status",
        "--client",
        "",
        "--api",
        &api,
    ]))
    .await;
    // THEN each exits 2 with one line naming its flag, as `--queue-url` mode does
    assert_eq!(unknown.status.code(), Some(2));
    assert!(one_error_line(&unknown.stderr).starts_with("error: --type: "));
    assert_eq!(no_client.status.code(), Some(2));
    assert!(one_error_line(&no_client.stderr).starts_with("error: --client: "));
}
