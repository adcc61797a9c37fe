//! The HTTP API's contract: shapes, status codes, problem+json, pagination,
//! optimistic concurrency, auth.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{json, Value};
use webhooks_tests::harness::{event, Answer, Harness, Options};
use webhooks_tests::receiver::Receiver;

pub(crate) fn assert_problem(answer: &Answer, status: u16) {
    assert_eq!(answer.status.as_u16(), status, "{}", answer.body);
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(answer.body["status"], status);
    assert!(
        answer.body["type"].is_string()
            && answer.body["title"].is_string()
            && answer.body["detail"].is_string()
    );
}

pub(crate) fn error_fields(answer: &Answer) -> Vec<String> {
    answer.body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) async fn service() -> (tempfile::TempDir, Harness) {
    let dir = tempfile::tempdir().unwrap();
    let harness = Harness::start(&dir, Options::default()).await;
    (dir, harness)
}

#[tokio::test]
async fn event_types_list_the_catalogue() {
    let (_dir, service) = service().await;
    let answer = service.get("/event-types").await;
    let ids: Vec<_> = answer
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ids,
        [
            "report.publish_status",
            "assessment.submitted",
            "engagement.requested",
            "webhook.disabled"
        ]
    );
    // AND only the service's own notice is marked operational
    let operational: Vec<_> = answer
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["operational"] == true)
        .map(|t| t["id"].clone())
        .collect();
    assert_eq!(operational, ["webhook.disabled"]);
}

#[tokio::test]
async fn create_returns_the_webhook_with_a_location_and_never_the_secret() {
    let (_dir, service) = service().await;
    let answer = service
        .post(
            "/webhooks",
            json!({"name": "SIEM relay", "url": "https://example.com/hook",
        "event": "report.publish_status", "clients": ["acme"], "secret": "0123456789abcdef"}),
        )
        .await;
    assert_eq!(answer.status, 201);
    let id = answer.body["id"].as_str().unwrap();
    assert!(id.starts_with("wh_"));
    assert_eq!(
        answer.header("location"),
        Some(format!("/webhooks/{id}").as_str())
    );
    let keys: HashSet<_> = answer.body.as_object().unwrap().keys().cloned().collect();
    let expected: HashSet<String> = [
        "id",
        "name",
        "url",
        "event",
        "clients",
        "enabled",
        "secret_configured",
        "disabled_reason",
        "rate_limit_per_second",
        "header_names",
        "version",
        "created_at",
        "updated_at",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(keys, expected);
    assert_eq!(answer.body["secret_configured"], true);
    assert_eq!(answer.body["version"], 1);
    assert_eq!(answer.body["enabled"], true);
    assert!(!service
        .get(&format!("/webhooks/{id}"))
        .await
        .body
        .to_string()
        .contains("0123456789abcdef"));
}

#[tokio::test]
async fn a_generated_secret_is_returned_once() {
    let (_dir, service) = service().await;
    let created = service
        .post(
            "/webhooks",
            json!({"name": "n", "url": "https://example.com/",
        "event": "report.publish_status", "clients": "all", "secret": "generate"}),
        )
        .await;
    let secret = created.body["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    let id = created.body["id"].as_str().unwrap();
    let fetched = service.get(&format!("/webhooks/{id}")).await;
    assert!(fetched.body.get("secret").is_none());
    assert_eq!(fetched.body["secret_configured"], true);
}

#[tokio::test]
async fn invalid_bodies_get_422_naming_every_bad_field() {
    let (_dir, service) = service().await;
    let answer = service
        .post(
            "/webhooks",
            json!({"name": "", "url": "ftp://x", "event": "nope", "clients": [], "colour": 1}),
        )
        .await;
    assert_problem(&answer, 422);
    let fields: HashSet<_> = error_fields(&answer).into_iter().collect();
    let expected: HashSet<String> = ["name", "url", "event", "clients", "colour"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(fields, expected);
}

#[tokio::test]
async fn malformed_json_is_a_400_problem() {
    let (_dir, service) = service().await;
    let answer = service
        .client
        .post(format!("{}/webhooks", service.base))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    assert_eq!(answer.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn bodies_over_256_kib_get_413() {
    let (_dir, service) = service().await;
    let mut big = event("acme");
    big["data"] = json!({"blob": "x".repeat(256 * 1024)});
    assert_problem(&service.post("/events", big.clone()).await, 413);
    big["name"] = json!("n");
    assert_problem(&service.post("/webhooks", big).await, 413);
}

#[tokio::test]
async fn unknown_webhooks_and_routes_are_404_problems() {
    let (_dir, service) = service().await;
    assert_problem(&service.get("/webhooks/wh_missing").await, 404);
    assert_problem(
        &service
            .patch("/webhooks/wh_missing", json!({"name": "x"}), None)
            .await,
        404,
    );
    assert_problem(&service.delete("/webhooks/wh_missing").await, 404);
    assert_problem(&service.get("/webhooks/wh_missing/logs").await, 404);
    assert_problem(&service.get("/webhooks/wh_missing/logs/dlv_x").await, 404);
    assert_problem(&service.get("/no/such/route").await, 404);
}

#[tokio::test]
async fn patch_updates_a_subset_and_if_match_guards_the_version() {
    let (_dir, service) = service().await;
    let created = service
        .create_webhook(
            "https://example.com/",
            json!({"secret": "0123456789abcdef"}),
        )
        .await;
    let path = format!("/webhooks/{}", created["id"].as_str().unwrap());

    // a matching If-Match applies the change and bumps the version
    let updated = service
        .patch(
            &path,
            json!({"name": "renamed", "secret": null}),
            Some("\"1\""),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["name"], "renamed");
    assert_eq!(updated.body["url"], "https://example.com/");
    assert_eq!(updated.body["secret_configured"], false);
    assert_eq!(updated.body["version"], 2);
    assert_eq!(updated.header("etag"), Some("\"2\""));

    // a stale If-Match is refused with 412 and changes nothing
    let stale = service
        .patch(&path, json!({"name": "lost update"}), Some("1"))
        .await;
    assert_problem(&stale, 412);
    assert_eq!(service.get(&path).await.body["name"], "renamed");

    // a malformed If-Match is a 400; invalid fields a 422
    assert_problem(
        &service
            .patch(&path, json!({"name": "x"}), Some("soon"))
            .await,
        400,
    );
    let invalid = service
        .patch(&path, json!({"enabled": "yes", "extra": 1}), None)
        .await;
    assert_problem(&invalid, 422);
    assert_eq!(error_fields(&invalid), ["enabled", "extra"]);
}

#[tokio::test]
async fn delete_removes_the_webhook() {
    let (_dir, service) = service().await;
    let created = service
        .create_webhook("https://example.com/", json!({"secret": "generate"}))
        .await;
    let path = format!("/webhooks/{}", created["id"].as_str().unwrap());
    assert_eq!(service.delete(&path).await.status, 204);
    assert_problem(&service.get(&path).await, 404);
    assert_problem(&service.delete(&path).await, 404);
}

#[tokio::test]
async fn listing_paginates_with_opaque_cursors_and_filters() {
    let (_dir, service) = service().await;
    let mut created = Vec::new();
    for i in 0..7 {
        let extra = if i % 2 == 0 {
            json!({"clients": ["acme"]})
        } else {
            json!({"event": "assessment.submitted", "enabled": false})
        };
        created.push(
            service
                .create_webhook(&format!("https://example.com/{i}"), extra)
                .await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // every webhook exactly once across pages of 3, in id order (ids made in the same
    // millisecond are not in creation order: a ULID's low bits are random)
    created.sort();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let path = match &cursor {
            Some(c) => format!("/webhooks?limit=3&cursor={c}"),
            None => "/webhooks?limit=3".to_owned(),
        };
        let page = service.get(&path).await.body;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => {
                assert!(!next.starts_with("wh_"), "cursors are opaque");
                cursor = Some(next.to_owned());
            }
            None => break,
        }
    }
    assert_eq!(seen, created);
    // filters
    let count = |body: Value| body["items"].as_array().unwrap().len();
    assert_eq!(
        count(
            service
                .get("/webhooks?event=assessment.submitted")
                .await
                .body
        ),
        3
    );
    assert_eq!(count(service.get("/webhooks?enabled=false").await.body), 3);
    // a client filter finds the webhooks that would receive its events: listed or "all"
    assert_eq!(count(service.get("/webhooks?client=acme").await.body), 7);
    assert_eq!(count(service.get("/webhooks?client=globex").await.body), 3);
    // bad parameters are 400s naming the parameter
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=x", "limit"),
        ("enabled=maybe", "enabled"),
        ("event=nope", "event"),
        ("cursor=!!", "cursor"),
        ("colour=red", "colour"),
    ] {
        let answer = service.get(&format!("/webhooks?{query}")).await;
        assert_problem(&answer, 400);
        assert_eq!(error_fields(&answer), [field], "{query}");
    }
}

#[tokio::test]
async fn events_are_validated_before_they_are_accepted() {
    let (_dir, service) = service().await;
    let answer = service
        .post(
            "/events",
            json!({"type": "report.deleted", "client_id": "acme"}),
        )
        .await;
    assert_problem(&answer, 422);
    assert_eq!(error_fields(&answer), ["type"]);
    let answer = service
        .post("/events", json!({"type": "report.publish_status"}))
        .await;
    assert_eq!(error_fields(&answer), ["client_id"]);
    let answer = service
        .post(
            "/events",
            json!({"type": "report.publish_status", "client_id": "a", "extra": 1}),
        )
        .await;
    assert_eq!(error_fields(&answer), ["extra"]);
    let accepted = service.post("/events", event("acme")).await;
    assert_eq!(accepted.status, 202);
    assert!(accepted.body["id"].as_str().unwrap().starts_with("evt_"));
}

#[tokio::test]
async fn log_queries_validate_their_parameters() {
    let (_dir, service) = service().await;
    let created = service
        .create_webhook("https://example.com/", json!({}))
        .await;
    let id = created["id"].as_str().unwrap();
    let empty = service.get(&format!("/webhooks/{id}/logs")).await;
    assert_eq!(empty.status, 200);
    assert_eq!(empty.body, json!({"items": [], "next_cursor": null}));
    let answer = service
        .get(&format!("/webhooks/{id}/logs?outcome=great"))
        .await;
    assert_problem(&answer, 400);
    assert_eq!(error_fields(&answer), ["outcome"]);
    assert_problem(
        &service
            .post(
                &format!("/webhooks/{id}/logs/dlv_none/redeliver"),
                json!({}),
            )
            .await,
        404,
    );
}

#[tokio::test]
async fn logs_filter_by_outcome_and_paginate_newest_first() {
    let (_dir, service) = service().await;
    let receiver = Receiver::start(vec![500, 200]).await;
    let created = service.create_webhook(&receiver.url("/"), json!({})).await;
    let id = created["id"].as_str().unwrap();
    service.send_event(event("acme")).await;
    let logs = service
        .wait_for_logs(id, 2, std::time::Duration::from_secs(10))
        .await;
    assert_eq!(logs.len(), 2);
    assert_eq!(logs[0]["attempt"], 2);
    let first_page = service
        .get(&format!("/webhooks/{id}/logs?limit=1"))
        .await
        .body;
    assert_eq!(first_page["items"][0]["attempt"], 2);
    let cursor = first_page["next_cursor"].as_str().unwrap();
    let second_page = service
        .get(&format!("/webhooks/{id}/logs?limit=1&cursor={cursor}"))
        .await
        .body;
    assert_eq!(second_page["items"][0]["attempt"], 1);
    let retrying = service
        .get(&format!("/webhooks/{id}/logs?outcome=retrying"))
        .await
        .body;
    assert_eq!(retrying["items"].as_array().unwrap().len(), 1);
    let keys: HashSet<_> = logs[0].as_object().unwrap().keys().cloned().collect();
    let expected: HashSet<String> = [
        "delivery_id",
        "webhook_id",
        "event_id",
        "event",
        "client_id",
        "attempt",
        "outcome",
        "status_code",
        "elapsed_ms",
        "error",
        "response_excerpt",
        "at",
        "next_attempt_at",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(keys, expected);
}

#[tokio::test]
async fn connection_tests_report_for_unsaved_and_saved_webhooks() {
    let (_dir, service) = service().await;
    let receiver = Receiver::start(vec![200]).await;
    let unsaved = service.post("/webhooks/test", json!({"url": receiver.url("/"), "secret": "0123456789abcdef", "event": "assessment.submitted"})).await;
    assert_eq!(unsaved.status, 200);
    assert_eq!(unsaved.body["ok"], true, "{}", unsaved.body);
    assert_eq!(unsaved.body["checks"].as_array().unwrap().len(), 8);
    let created = service
        .create_webhook(&receiver.url("/"), json!({"secret": "0123456789abcdef"}))
        .await;
    let saved = service
        .post(
            &format!("/webhooks/{}/test", created["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(saved.body["ok"], true, "{}", saved.body);
    let deliveries = receiver
        .wait_for(2, std::time::Duration::from_secs(5))
        .await;
    assert_eq!(
        deliveries[1].header("x-webhook-id").as_deref(),
        created["id"].as_str()
    );
    assert!(deliveries[1].header("x-authorization-hmac-256").is_some());
    // a failing endpoint is a failed check in a 200, not an HTTP error
    let failing = service
        .post(
            "/webhooks/test",
            json!({"url": "https://no-such-host.invalid/"}),
        )
        .await;
    assert_eq!(failing.status, 200);
    assert_eq!(failing.body["ok"], false);
    // a body without url is a 422
    assert_problem(
        &service.post("/webhooks/test", json!({"secret": "x"})).await,
        422,
    );
    assert_problem(
        &service.post("/webhooks/wh_missing/test", json!({})).await,
        404,
    );
}

#[tokio::test]
async fn with_a_token_every_api_call_needs_the_bearer() {
    let dir = tempfile::tempdir().unwrap();
    let service = Harness::start(
        &dir,
        Options {
            token: Some("s3cret-token".into()),
            ..Options::default()
        },
    )
    .await;
    assert_problem(&service.get("/webhooks").await, 401);
    let wrong = service
        .request(
            Method::GET,
            "/webhooks",
            None,
            &[("authorization", "Bearer nope")],
        )
        .await;
    assert_problem(&wrong, 401);
    let right = service
        .request(
            Method::GET,
            "/webhooks",
            None,
            &[("authorization", "Bearer s3cret-token")],
        )
        .await;
    assert_eq!(right.status, 200);
}
