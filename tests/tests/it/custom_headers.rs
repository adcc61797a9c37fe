//! Custom headers end to end on the local service: the API takes them write-only and
//! shows only their names, deliveries and connection tests carry them (before the
//! signatures, which still verify), and the OpenAPI document states their rules.

use std::time::Duration;

use serde_json::{json, Value};
use webhooks_core::domain::signing::{verify_hmac_hex, verify_standard};
use webhooks_tests::harness::event;
use webhooks_tests::receiver::{Delivery, Receiver};

use crate::api_contract::{assert_problem, error_fields, service};

const WAIT: Duration = Duration::from_secs(10);
const TOKEN: &str = "Splunk 5ecret-hec-t0ken";
const SECRET: &str = "a-shared-secret-of-24-chars";

fn splunk(url: &str) -> Value {
    json!({"name": "Splunk HEC", "url": url, "event": "report.publish_status",
        "clients": "all", "secret": SECRET,
        "headers": {"X-Splunk-Request-Channel": "chan-0001", "Authorization": TOKEN}})
}

/// Asserts that no answer's text holds a header value.
fn assert_no_value(text: &str) {
    assert!(
        !text.contains("5ecret-hec-t0ken"),
        "a header value leaked: {text}"
    );
    assert!(!text.contains("chan-0001"), "a header value leaked: {text}");
}

/// The custom headers arrived, and both signatures verify over the exact body.
fn assert_signed_with_headers(delivery: &Delivery) {
    assert_eq!(delivery.header("authorization").as_deref(), Some(TOKEN));
    assert_eq!(
        delivery.header("x-splunk-request-channel").as_deref(),
        Some("chan-0001")
    );
    assert_eq!(delivery.headers.get_all("authorization").iter().count(), 1);
    let hmac = delivery.header("x-authorization-hmac-256").unwrap();
    assert!(verify_hmac_hex(SECRET, &delivery.body, &hmac));
    assert!(verify_standard(
        SECRET,
        &delivery.header("webhook-id").unwrap(),
        &delivery.header("webhook-timestamp").unwrap(),
        &delivery.body,
        &delivery.header("webhook-signature").unwrap()
    ));
}

#[tokio::test]
async fn header_values_are_write_only_and_every_answer_lists_the_sorted_names() {
    // GIVEN the API
    let (_dir, service) = service().await;
    // WHEN a webhook is created with two custom headers
    let created = service
        .post("/webhooks", splunk("https://splunk.example/hec"))
        .await;
    // THEN the answer lists their names, sorted, and no value
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.body["header_names"],
        json!(["Authorization", "X-Splunk-Request-Channel"])
    );
    assert!(created.body.get("headers").is_none());
    assert_no_value(&created.body.to_string());
    // AND GET, the list and an unrelated PATCH show the names and never a value
    let path = format!("/webhooks/{}", created.body["id"].as_str().unwrap());
    let fetched = service.get(&path).await;
    let listed = service.get("/webhooks").await;
    let renamed = service.patch(&path, json!({"name": "renamed"}), None).await;
    for answer in [&fetched, &listed, &renamed] {
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_no_value(&answer.body.to_string());
    }
    assert_eq!(renamed.body["header_names"], created.body["header_names"]);
    assert_eq!(
        listed.body["items"][0]["header_names"],
        created.body["header_names"]
    );
    // AND a webhook without headers shows an empty list
    let plain = service
        .create_webhook("https://example.com/plain", json!({}))
        .await;
    assert_eq!(plain["header_names"], json!([]));
}

#[tokio::test]
async fn a_patch_replaces_the_whole_set_and_null_removes_it() {
    // GIVEN a webhook with two custom headers
    let (_dir, service) = service().await;
    let created = service
        .post("/webhooks", splunk("https://splunk.example/hec"))
        .await;
    let path = format!("/webhooks/{}", created.body["id"].as_str().unwrap());
    // WHEN a PATCH gives one other header
    let replaced = service
        .patch(&path, json!({"headers": {"X-Api-Key": "k3y"}}), None)
        .await;
    // THEN only that one is listed
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(replaced.body["header_names"], json!(["X-Api-Key"]));
    // AND `"headers": null` removes every header
    let removed = service.patch(&path, json!({"headers": null}), None).await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert_eq!(removed.body["header_names"], json!([]));
    assert_eq!(service.get(&path).await.body["header_names"], json!([]));
}

#[tokio::test]
async fn reserved_names_case_duplicates_and_bad_values_are_422_naming_the_header() {
    // GIVEN the API
    let (_dir, service) = service().await;
    for (headers, named) in [
        (json!({"Host": "example.com"}), "Host"),
        (json!({"content-type": "text/plain"}), "content-type"),
        (json!({"X-Webhook-Id": "wh_forged"}), "X-Webhook-Id"),
        (json!({"x-delivery-attempt": "9"}), "x-delivery-attempt"),
        (
            json!({"webhook-signature": "v1,forged"}),
            "webhook-signature",
        ),
        (
            json!({"X-Authorization-HMAC-256": "00"}),
            "X-Authorization-HMAC-256",
        ),
        (
            json!({"Authorization": "a", "AUTHORIZATION": "b"}),
            "AUTHORIZATION",
        ),
        (json!({"X-Key": "line\r\nX-Injected: 1"}), "X-Key"),
    ] {
        // WHEN a webhook is created with them
        let mut body = splunk("https://splunk.example/hec");
        body["headers"] = headers.clone();
        let refused = service.post("/webhooks", body).await;
        // THEN it is a 422 on `headers` naming the header, and nothing is created
        assert_problem(&refused, 422);
        assert_eq!(error_fields(&refused), ["headers"], "{headers}");
        let detail = refused.body["detail"].as_str().unwrap();
        assert!(detail.contains(named), "{headers}: {detail}");
    }
    assert_eq!(service.get("/webhooks").await.body["items"], json!([]));
}

#[tokio::test]
async fn a_delivery_and_a_connection_test_carry_the_custom_headers_and_stay_signed() {
    // GIVEN a signed webhook with custom headers, at a loopback receiver
    let (_dir, service) = service().await;
    let receiver = Receiver::start(vec![200]).await;
    let created = service
        .post("/webhooks", splunk(&receiver.url("/hec")))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap();
    // WHEN an event is delivered, and the saved webhook's connection is tested
    service.send_event(event("acme")).await;
    let delivered = receiver.wait_for(1, WAIT).await;
    let report = service
        .post(&format!("/webhooks/{id}/test"), json!({}))
        .await;
    let both = receiver.wait_for(2, WAIT).await;
    // THEN both requests carry the headers, and their signatures verify
    assert_eq!(delivered.len(), 1);
    assert_eq!(report.status, 200, "{}", report.body);
    assert_eq!(report.body["ok"], true, "{}", report.body);
    assert_eq!(both.len(), 2);
    for delivery in &both {
        assert_signed_with_headers(delivery);
    }
    assert_eq!(
        both[1].header("x-webhook-event").as_deref(),
        Some("webhook.test")
    );
    // AND the delivery log holds no header value
    let logs = service.wait_for_logs(id, 1, WAIT).await;
    assert_eq!(logs[0]["outcome"], "succeeded");
    assert_no_value(&Value::from(logs).to_string());
}

#[tokio::test]
async fn the_openapi_document_states_the_header_rules() {
    // GIVEN the API WHEN its OpenAPI document is read
    let (_dir, service) = service().await;
    let doc = service.get("/openapi.json").await.body;
    // THEN create and update take an object of at most 10 token names to bounded
    // values, or null, with the reserved names excluded; the view lists names
    for schema in ["CreateWebhook", "UpdateWebhook"] {
        let field = &doc["components"]["schemas"][schema]["properties"]["headers"];
        let object = &field["anyOf"][0];
        assert_eq!(
            field["anyOf"][1],
            json!({"type": "null"}),
            "{schema}: {field}"
        );
        assert_eq!(object["type"], "object");
        assert_eq!(object["maxProperties"], 10);
        assert_eq!(object["writeOnly"], true);
        let names = &object["propertyNames"];
        assert_eq!(names["maxLength"], 64);
        assert_eq!(names["pattern"], "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$");
        let reserved = names["not"]["pattern"].as_str().unwrap();
        assert!(reserved.contains("[Hh][Oo][Ss][Tt]"), "{reserved}");
        assert!(
            reserved.contains("|[Ww][Ee][Bb][Hh][Oo][Oo][Kk]-"),
            "{reserved}"
        );
        let values = &object["additionalProperties"];
        assert_eq!(values["maxLength"], 1024);
        assert_eq!(values["pattern"], "^[ -~]*$");
    }
    let view = &doc["components"]["schemas"]["WebhookView"]["properties"]["header_names"];
    assert_eq!(view["type"], "array", "{view}");
}
