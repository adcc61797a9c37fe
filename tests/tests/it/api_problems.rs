//! The API keeps its own contract on the edges: every error a problem document with
//! the right status, `If-Match: *`, a saved webhook's test refusing body fields, and a
//! declared body over the limit refused at once.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use webhooks_tests::harness::{Harness, Options};

fn is_problem(answer: &webhooks_tests::harness::Answer, status: StatusCode) -> bool {
    answer.status == status
        && answer.header("content-type") == Some("application/problem+json")
        && answer.body["status"] == status.as_u16()
}

#[tokio::test]
async fn a_wrong_method_is_a_405_problem_saying_405() {
    let dir = tempfile::tempdir().unwrap();
    let service = Harness::start(&dir, Options::default()).await;
    let answer = service
        .request(Method::DELETE, "/event-types", None, &[])
        .await;
    assert!(
        is_problem(&answer, StatusCode::METHOD_NOT_ALLOWED),
        "{} {}",
        answer.status,
        answer.body
    );
    service.stop().await;
}

#[tokio::test]
async fn a_path_that_is_not_utf8_is_a_400_problem() {
    let dir = tempfile::tempdir().unwrap();
    let service = Harness::start(&dir, Options::default()).await;
    let answer = service.get("/webhooks/%FF").await;
    assert!(
        is_problem(&answer, StatusCode::BAD_REQUEST),
        "{}",
        answer.body
    );
    service.stop().await;
}

#[tokio::test]
async fn if_match_star_matches_the_current_version() {
    let dir = tempfile::tempdir().unwrap();
    let service = Harness::start(&dir, Options::default()).await;
    let hook = service
        .create_webhook("http://127.0.0.1:9/hook", json!({}))
        .await;
    let id = hook["id"].as_str().unwrap();
    let answer = service
        .patch(
            &format!("/webhooks/{id}"),
            json!({"name": "renamed"}),
            Some("*"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["name"], "renamed");
    service.stop().await;
}

#[tokio::test]
async fn a_saved_webhooks_test_refuses_body_fields_it_would_ignore() {
    let dir = tempfile::tempdir().unwrap();
    let service = Harness::start(&dir, Options::default()).await;
    let hook = service
        .create_webhook("http://127.0.0.1:9/hook", json!({}))
        .await;
    let id = hook["id"].as_str().unwrap();
    let answer = service
        .post(
            &format!("/webhooks/{id}/test"),
            json!({"url": "https://elsewhere.example"}),
        )
        .await;
    assert!(
        is_problem(&answer, StatusCode::UNPROCESSABLE_ENTITY),
        "{}",
        answer.body
    );
    assert_eq!(answer.body["errors"][0]["field"], "url");
    service.stop().await;
}

#[tokio::test]
async fn a_declared_body_over_the_limit_is_refused_without_waiting_for_it() {
    // GIVEN a request that declares 99,999,999,999 bytes and sends none of them
    let dir = tempfile::tempdir().unwrap();
    let service = Harness::start(&dir, Options::default()).await;
    let addr = service.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /webhooks HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // WHEN the server answers (bounded: without the fix it waits for the body)
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .expect("an answer without the body")
        .unwrap();
    // THEN it is a 413 problem
    let text = String::from_utf8_lossy(&answer[..read]);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");
    service.stop().await;
}
