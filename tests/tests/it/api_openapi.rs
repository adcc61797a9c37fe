//! The OpenAPI document: every route, and the constraints the API enforces stated
//! exactly (a client generated from it is right); the query-string rules it states.

use std::collections::HashSet;

use serde_json::Value;

use crate::api_contract::service;

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let (_dir, service) = service().await;
    let doc = service.get("/openapi.json").await.body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths: HashSet<_> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    for path in [
        "/event-types",
        "/webhooks",
        "/webhooks/{id}",
        "/webhooks/test",
        "/webhooks/{id}/test",
        "/webhooks/{id}/logs",
        "/webhooks/{id}/logs/{delivery_id}",
        "/webhooks/{id}/logs/{delivery_id}/redeliver",
        "/events",
    ] {
        assert!(paths.contains(path), "{path} missing from {paths:?}");
    }
}

#[tokio::test]
async fn the_openapi_document_states_the_constraints_the_api_enforces() {
    // GIVEN the served document
    let (_dir, service) = service().await;
    let doc = service.get("/openapi.json").await.body;
    let schema = |name: &str| doc["components"]["schemas"][name].clone();
    let param = |path: &str, method: &str, name: &str| {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{method} {path} has no {name}"))["schema"]
            .clone()
    };
    let catalogue: Vec<Value> = service
        .get("/event-types")
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].clone())
        .collect();

    // THEN limit is 1–100 wherever it is taken
    for path in ["/webhooks", "/webhooks/{id}/logs"] {
        let limit = param(path, "get", "limit");
        assert_eq!(
            (limit["minimum"].as_u64(), limit["maximum"].as_u64()),
            (Some(1), Some(100)),
            "{path}"
        );
    }
    // AND every event field is the catalogue's enum
    assert_eq!(
        param("/webhooks", "get", "event")["enum"],
        Value::Array(catalogue.clone())
    );
    // (producers may not send the operational types the service emits itself)
    let producers: Vec<Value> = service
        .get("/event-types")
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["operational"] == false)
        .map(|t| t["id"].clone())
        .collect();
    assert_eq!(
        schema("IngestEvent")["properties"]["type"]["enum"],
        Value::Array(producers)
    );
    for (name, field) in [
        ("CreateWebhook", "event"),
        ("UpdateWebhook", "event"),
        ("TestUnsaved", "event"),
    ] {
        // (the connection test's event may be null: no sample chosen)
        let spec = &schema(name)["properties"][field];
        let values = spec.get("enum").unwrap_or(&spec["anyOf"][0]["enum"]);
        assert_eq!(
            values,
            &Value::Array(catalogue.clone()),
            "{name}.{field}: {spec}"
        );
    }
    // AND the name's length is stated
    for name in ["CreateWebhook", "UpdateWebhook"] {
        let field = &schema(name)["properties"]["name"];
        assert_eq!(
            (field["minLength"].as_u64(), field["maxLength"].as_u64()),
            (Some(1), Some(128)),
            "{name}"
        );
    }
    // AND only secret, rate_limit_per_second and headers of a PATCH take null
    let update = schema("UpdateWebhook");
    for (field, spec) in update["properties"].as_object().unwrap() {
        let nullable = spec.to_string().contains("\"null\"");
        assert_eq!(
            nullable,
            ["secret", "rate_limit_per_second", "headers"].contains(&field.as_str()),
            "UpdateWebhook.{field}: {spec}"
        );
    }
    // AND every operation with a body documents the 400 for a body that is not JSON
    let mut with_body = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if operation.get("requestBody").is_some() {
                with_body += 1;
                assert!(
                    operation["responses"].get("400").is_some(),
                    "{method} {path} lacks its 400"
                );
            }
        }
    }
    assert_eq!(with_body, 5, "operations with a body");
}

#[tokio::test]
async fn an_empty_query_value_is_a_bad_request_naming_it() {
    // GIVEN `?enabled=` WHEN the list is asked for THEN 400 names the parameter
    let (_dir, service) = service().await;
    let answer = service.get("/webhooks?enabled=").await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["errors"][0]["field"], "enabled");
}
