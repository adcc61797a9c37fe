//! The guard in front of a router that answers 200 to everything.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::routing::any;
use axum::Router;
use tower::ServiceExt;

use super::*;

const BOUND: &str = "127.0.0.1:8080";

fn app(policy: BrowserPolicy) -> Router {
    Router::new()
        .route("/{*path}", any(|| async { "ok" }))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(policy),
            guard_browsers,
        ))
}

fn loopback(origins: &str, hosts: &str) -> BrowserPolicy {
    BrowserPolicy {
        bound: Some(BOUND.parse().unwrap()),
        ..BrowserPolicy::from_lists(origins, hosts).unwrap()
    }
}

async fn status(policy: BrowserPolicy, method: &str, headers: &[(&str, &str)], body: &str) -> u16 {
    let mut request = axum::http::Request::builder()
        .method(method)
        .uri("/webhooks");
    let mut has_host = false;
    for (name, value) in headers {
        has_host |= name.eq_ignore_ascii_case("host");
        request = request.header(*name, *value);
    }
    if !has_host {
        request = request.header("host", BOUND);
    }
    if !body.is_empty() {
        request = request.header("content-length", body.len().to_string());
    }
    let response = app(policy)
        .oneshot(request.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    response.status().as_u16()
}

#[tokio::test]
async fn curl_the_cli_and_the_console_pass() {
    let json = [("content-type", "application/json")];
    // curl and the CLI: no Origin, JSON bodies
    assert_eq!(status(loopback("", ""), "POST", &json, "{}").await, 200);
    assert_eq!(status(loopback("", ""), "GET", &[], "").await, 200);
    // the console, same origin
    let console = [
        ("content-type", "application/json"),
        ("origin", "http://127.0.0.1:8080"),
        ("sec-fetch-site", "same-origin"),
    ];
    assert_eq!(status(loopback("", ""), "PATCH", &console, "{}").await, 200);
    // a bodyless POST (redeliver) needs no content type
    assert_eq!(status(loopback("", ""), "POST", &[], "").await, 200);
    // localhost by name
    let by_name = [("host", "localhost:8080")];
    assert_eq!(status(loopback("", ""), "GET", &by_name, "").await, 200);
}

#[tokio::test]
async fn a_cross_site_text_plain_post_is_refused() {
    // A page on another site posting a "simple" request, as a form or fetch would
    let page = [
        ("content-type", "text/plain"),
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ];
    assert_eq!(status(loopback("", ""), "POST", &page, "{}").await, 403);
    // Without the browser's site headers, the text/plain body alone is refused too
    let plain = [("content-type", "text/plain")];
    assert_eq!(status(loopback("", ""), "POST", &plain, "{}").await, 415);
    // A same-site page on another port is another origin: refused
    let other_port = [
        ("content-type", "application/json"),
        ("origin", "http://localhost:3000"),
        ("sec-fetch-site", "same-site"),
    ];
    assert_eq!(
        status(loopback("", ""), "POST", &other_port, "{}").await,
        403
    );
}

#[tokio::test]
async fn a_rebound_host_is_refused_on_loopback_unless_configured() {
    let rebound = [("host", "rebind.evil.example:8080")];
    assert_eq!(status(loopback("", ""), "GET", &rebound, "").await, 421);
    let configured = loopback("", "rebind.evil.example:8080");
    assert_eq!(status(configured, "GET", &rebound, "").await, 200);
    // Served on a public address (which needs a token), any Host is ours
    let public = BrowserPolicy {
        bound: Some("0.0.0.0:8080".parse().unwrap()),
        ..BrowserPolicy::default()
    };
    assert_eq!(status(public, "GET", &rebound, "").await, 200);
}

#[tokio::test]
async fn a_configured_origin_gets_cors_and_others_no_preflight() {
    let policy = loopback("https://console.example", "");
    let preflight = [
        ("origin", "https://console.example"),
        ("access-control-request-method", "PATCH"),
    ];
    assert_eq!(status(policy.clone(), "OPTIONS", &preflight, "").await, 204);
    let call = [
        ("origin", "https://console.example"),
        ("sec-fetch-site", "cross-site"),
        ("content-type", "application/json"),
    ];
    assert_eq!(status(policy.clone(), "POST", &call, "{}").await, 200);
    let stranger = [
        ("origin", "https://other.example"),
        ("access-control-request-method", "PATCH"),
    ];
    assert_eq!(status(policy, "OPTIONS", &stranger, "").await, 403);
}

#[tokio::test]
async fn following_a_link_to_the_console_is_not_refused() {
    let navigation = [
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-mode", "navigate"),
    ];
    assert_eq!(status(loopback("", ""), "GET", &navigation, "").await, 200);
    let fetch = [("sec-fetch-site", "cross-site"), ("sec-fetch-mode", "cors")];
    assert_eq!(status(loopback("", ""), "GET", &fetch, "").await, 403);
}

#[test]
fn bad_origins_are_named() {
    let error = BrowserPolicy::from_lists("console.example", "").unwrap_err();
    assert!(error.contains("WEBHOOKS_ALLOWED_ORIGINS") && error.contains("console.example"));
    assert!(BrowserPolicy::from_lists("https://a.example/path", "").is_err());
    assert!(BrowserPolicy::from_lists("https://a.example:8443/, http://b", "").is_ok());
}
