//! `webhooks recover` against a small fake of the API on loopback: the period it sends,
//! calling again from `next_since` while the answer is truncated, one-line errors.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed step panics

mod common;

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use common::{finish, webhooks};
use serde_json::{json, Value};

/// The bodies of each `POST /webhooks/{id}/recover`.
type Calls = Arc<Mutex<Vec<Value>>>;

async fn recover(
    State(calls): State<Calls>,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> impl IntoResponse {
    let mut calls = calls.lock().unwrap();
    calls.push(body);
    if id == "wh_off" {
        let problem = json!({"title": "Conflict", "status": 409, "detail": "webhook wh_off is disabled; enable it before recovering its deliveries"});
        return (
            StatusCode::CONFLICT,
            [("content-type", "application/problem+json")],
            problem.to_string(),
        )
            .into_response();
    }
    // The first call is cut short; the second finishes the period.
    let answer = if calls.len() == 1 {
        json!({"queued": 10000, "skipped": 2, "truncated": true, "next_since": "2026-11-28T11:00:00.000Z"})
    } else {
        json!({"queued": 5, "skipped": 1, "truncated": false, "next_since": null})
    };
    (StatusCode::ACCEPTED, Json(answer)).into_response()
}

async fn fake_api() -> (String, Calls) {
    let calls = Calls::default();
    let app = Router::new()
        .route("/webhooks/{id}/recover", post(recover))
        .with_state(Arc::clone(&calls));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, calls)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn recover_sends_the_period_and_goes_on_until_the_api_says_it_is_done() {
    // GIVEN the API
    let (api, calls) = fake_api().await;
    // WHEN a period is recovered with two outcomes
    let output = finish(webhooks([
        "recover",
        "wh_1",
        "--since",
        "2026-11-28T10:00:00Z",
        "--until",
        "2026-11-28T12:00:00Z",
        "--outcome",
        "exhausted",
        "--outcome",
        "failed",
        "--api",
        &api,
    ]))
    .await;
    // THEN it called twice, the second time from where the first stopped, and printed the sums
    assert!(output.status.success(), "{}", text(&output.stderr));
    let calls = calls.lock().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[0],
        json!({"since": "2026-11-28T10:00:00.000Z", "until": "2026-11-28T12:00:00.000Z", "outcomes": ["exhausted", "failed"]})
    );
    assert_eq!(calls[1]["since"], "2026-11-28T11:00:00.000Z");
    assert_eq!(
        text(&output.stdout),
        "queued 10005 failed deliveries of wh_1 again; skipped 3 (a retry still scheduled, or succeeded since)\n"
    );
}

#[tokio::test]
async fn a_bad_period_is_one_line_and_exit_2_before_any_request_and_a_refusal_exit_1() {
    let (api, calls) = fake_api().await;
    // GIVEN a --since that is neither a duration nor a time WHEN run THEN exit 2, no call
    let bad = finish(webhooks([
        "recover",
        "wh_1",
        "--since",
        "yesterday",
        "--api",
        &api,
    ]))
    .await;
    assert_eq!(bad.status.code(), Some(2));
    let stderr = text(&bad.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: --since"), "{stderr}");
    assert!(calls.lock().unwrap().is_empty());
    // GIVEN a disabled webhook WHEN recovered THEN the API's reason, one line, exit 1
    let refused = finish(webhooks([
        "recover", "wh_off", "--since", "2h", "--api", &api,
    ]))
    .await;
    assert_eq!(refused.status.code(), Some(1));
    let stderr = text(&refused.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("disabled"), "{stderr}");
}
