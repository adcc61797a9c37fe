//! The API's contract for `rate_limit_per_second`: an integer 1–10,000 or null on
//! create and PATCH, shown in every webhook answer, refused otherwise as a 422 naming
//! the field.

use serde_json::{json, Value};

use crate::api_contract::{assert_problem, error_fields, service};

fn create_body(rate: Value) -> Value {
    json!({"name": "limited", "url": "https://example.com/hook",
           "event": "report.publish_status", "clients": "all", "rate_limit_per_second": rate})
}

#[tokio::test]
async fn create_accepts_a_rate_limit_and_every_answer_shows_it() {
    // GIVEN the API
    let (_dir, service) = service().await;
    // WHEN a webhook is created limited to 10 a second, and one without a limit
    let limited = service.post("/webhooks", create_body(json!(10))).await;
    let unlimited = service
        .post(
            "/webhooks",
            json!({"name": "free", "url": "https://example.com/free",
                   "event": "report.publish_status", "clients": "all"}),
        )
        .await;
    // THEN both are created, showing 10 and null
    assert_eq!(limited.status, 201, "{}", limited.body);
    assert_eq!(limited.body["rate_limit_per_second"], 10);
    assert_eq!(unlimited.status, 201, "{}", unlimited.body);
    assert_eq!(unlimited.body["rate_limit_per_second"], Value::Null);
    assert!(unlimited
        .body
        .as_object()
        .unwrap()
        .contains_key("rate_limit_per_second"));
    // AND GET and the list show them too
    let id = limited.body["id"].as_str().unwrap();
    let fetched = service.get(&format!("/webhooks/{id}")).await;
    assert_eq!(fetched.body["rate_limit_per_second"], 10);
    let listed = service.get("/webhooks").await;
    let rates: Vec<_> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["rate_limit_per_second"].clone())
        .collect();
    assert_eq!(rates, [json!(10), Value::Null]);
}

#[tokio::test]
async fn create_accepts_the_ends_of_the_range_and_null() {
    // GIVEN the API
    let (_dir, service) = service().await;
    for (rate, shown) in [
        (json!(1), json!(1)),
        (json!(10_000), json!(10_000)),
        (Value::Null, Value::Null),
    ] {
        // WHEN a webhook is created with this rate limit
        let answer = service.post("/webhooks", create_body(rate.clone())).await;
        // THEN it is created with it
        assert_eq!(answer.status, 201, "{rate}: {}", answer.body);
        assert_eq!(answer.body["rate_limit_per_second"], shown, "{rate}");
    }
}

#[tokio::test]
async fn a_rate_limit_out_of_range_or_not_an_integer_is_a_422_naming_the_field() {
    // GIVEN the API and a stored webhook
    let (_dir, service) = service().await;
    let created = service.post("/webhooks", create_body(json!(5))).await;
    let path = format!("/webhooks/{}", created.body["id"].as_str().unwrap());
    for refused in [json!(0), json!(10_001), json!(1.5), json!("5")] {
        // WHEN a create or a PATCH gives this rate limit
        let create = service
            .post("/webhooks", create_body(refused.clone()))
            .await;
        let patch = service
            .patch(&path, json!({"rate_limit_per_second": refused}), None)
            .await;
        // THEN both are refused as problem+json naming only the field
        for answer in [&create, &patch] {
            assert_problem(answer, 422);
            assert_eq!(error_fields(answer), ["rate_limit_per_second"], "{refused}");
            assert!(
                answer.body["detail"]
                    .as_str()
                    .unwrap()
                    .starts_with("rate_limit_per_second: "),
                "{}",
                answer.body
            );
        }
    }
    // AND the webhook is unchanged
    let stored = service.get(&path).await;
    assert_eq!(stored.body["rate_limit_per_second"], 5);
    assert_eq!(stored.body["version"], 1);
}

#[tokio::test]
async fn patch_sets_changes_and_removes_the_rate_limit_with_null() {
    // GIVEN a webhook without a rate limit
    let (_dir, service) = service().await;
    let created = service.post("/webhooks", create_body(Value::Null)).await;
    let path = format!("/webhooks/{}", created.body["id"].as_str().unwrap());
    // WHEN it is limited to 3 a second
    let set = service
        .patch(&path, json!({"rate_limit_per_second": 3}), None)
        .await;
    // THEN the answer shows it
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(set.body["rate_limit_per_second"], 3);
    // WHEN another field changes THEN the limit stays
    let renamed = service.patch(&path, json!({"name": "renamed"}), None).await;
    assert_eq!(renamed.body["rate_limit_per_second"], 3);
    // WHEN it is set to null
    let removed = service
        .patch(&path, json!({"rate_limit_per_second": null}), None)
        .await;
    // THEN the webhook has none, as the answer and GET show
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert_eq!(removed.body["rate_limit_per_second"], Value::Null);
    assert_eq!(removed.body["version"], 4);
    let fetched = service.get(&path).await;
    assert_eq!(fetched.body["rate_limit_per_second"], Value::Null);
}

#[tokio::test]
async fn the_openapi_document_bounds_the_rate_limit_and_allows_null() {
    // GIVEN the API
    let (_dir, service) = service().await;
    // WHEN its OpenAPI document is read
    let doc = service.get("/openapi.json").await.body;
    // THEN the webhook, its create body and its update body each have the field as an
    // integer of 1–10000 or null
    for schema in ["WebhookView", "CreateWebhook", "UpdateWebhook"] {
        let field = &doc["components"]["schemas"][schema]["properties"]["rate_limit_per_second"];
        assert_eq!(field["minimum"], 1, "{schema}: {field}");
        assert_eq!(field["maximum"], 10_000, "{schema}: {field}");
        let types = field["type"].as_array().cloned().unwrap_or_default();
        assert!(
            types.contains(&json!("integer")) && types.contains(&json!("null")),
            "{schema}: {field}"
        );
    }
}
