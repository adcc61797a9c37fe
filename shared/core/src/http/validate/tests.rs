//! Validation of webhook bodies, field by field.

use serde_json::json;

use super::*;

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap()
}

fn valid() -> Value {
    json!({"name": "SIEM relay", "url": "https://example.com/hook",
           "event": "report.publish_status", "clients": "all"})
}

fn errors_of(body: Value) -> Vec<FieldError> {
    match create(&object(body), &OutboundPolicy::default()) {
        Err(ApiError::Validation(errors)) => errors,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn with(field: &str, value: Value) -> Value {
    let mut body = valid();
    body[field] = value;
    body
}

fn single_error_field(body: Value) -> String {
    let errors = errors_of(body);
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors[0].field.clone()
}

#[test]
fn a_valid_body_passes() {
    let fields = create(&object(valid()), &OutboundPolicy::default()).unwrap();
    assert_eq!(fields.clients, Some(ClientScope::all()));
    assert_eq!(fields.secret, None);
}

#[test]
fn every_required_field_is_named_when_missing() {
    let fields: Vec<_> = errors_of(json!({})).into_iter().map(|e| e.field).collect();
    assert_eq!(fields, ["name", "url", "event", "clients"]);
}

#[test]
fn name_must_be_1_to_128_characters() {
    assert_eq!(single_error_field(with("name", json!(""))), "name");
    assert_eq!(single_error_field(with("name", json!("   "))), "name");
    assert_eq!(
        single_error_field(with("name", json!("x".repeat(129)))),
        "name"
    );
    assert_eq!(single_error_field(with("name", json!(5))), "name");
    assert!(create(
        &object(with("name", json!("é".repeat(128)))),
        &OutboundPolicy::default()
    )
    .is_ok());
}

#[test]
fn url_must_be_http_or_https_without_credentials_or_private_literals() {
    assert_eq!(
        single_error_field(with("url", json!("ftp://example.com/"))),
        "url"
    );
    assert_eq!(
        single_error_field(with("url", json!("https://u:p@example.com/"))),
        "url"
    );
    assert_eq!(single_error_field(with("url", json!("not a url"))), "url");
    assert_eq!(
        single_error_field(with("url", json!("http://169.254.169.254/"))),
        "url"
    );
    let long = format!("https://example.com/{}", "a".repeat(MAX_URL_CHARS));
    assert_eq!(single_error_field(with("url", json!(long))), "url");
}

#[test]
fn url_rules_follow_the_deployment_policy() {
    let body = object(with("url", json!("http://127.0.0.1:9000/hook")));
    assert!(create(&body, &OutboundPolicy::local_default()).is_ok());
    let https_only = OutboundPolicy {
        require_https: true,
        ..OutboundPolicy::default()
    };
    assert!(create(
        &object(with("url", json!("http://example.com/"))),
        &https_only
    )
    .is_err());
}

#[test]
fn event_must_be_in_the_catalogue() {
    let errors = errors_of(with("event", json!("report.deleted")));
    assert_eq!(errors[0].field, "event");
    assert!(errors[0].message.contains("assessment.submitted"));
}

#[test]
fn clients_must_be_all_or_a_bounded_list_of_ids() {
    assert_eq!(single_error_field(with("clients", json!([]))), "clients");
    assert_eq!(
        single_error_field(with("clients", json!("some"))),
        "clients"
    );
    assert_eq!(single_error_field(with("clients", json!([""]))), "clients");
    assert_eq!(
        single_error_field(with("clients", json!(["x".repeat(129)]))),
        "clients"
    );
    assert_eq!(single_error_field(with("clients", json!([1]))), "clients");
    let too_many: Vec<String> = (0..=MAX_CLIENTS).map(|i| format!("c{i}")).collect();
    assert_eq!(
        single_error_field(with("clients", json!(too_many))),
        "clients"
    );
    let fields = create(
        &object(with("clients", json!(["acme", "acme", "globex"]))),
        &OutboundPolicy::default(),
    )
    .unwrap();
    assert_eq!(
        fields.clients,
        Some(ClientScope::Only(vec!["acme".into(), "globex".into()]))
    );
}

#[test]
fn secret_must_be_16_to_256_characters_or_generate() {
    assert_eq!(single_error_field(with("secret", json!("short"))), "secret");
    assert_eq!(
        single_error_field(with("secret", json!("x".repeat(257)))),
        "secret"
    );
    assert_eq!(single_error_field(with("secret", json!(12))), "secret");
    let generate = create(
        &object(with("secret", json!("generate"))),
        &OutboundPolicy::default(),
    )
    .unwrap();
    assert_eq!(generate.secret, Some(SecretChange::Generate));
    let set = create(
        &object(with("secret", json!("x".repeat(16)))),
        &OutboundPolicy::default(),
    )
    .unwrap();
    assert_eq!(set.secret, Some(SecretChange::Set("x".repeat(16))));
}

#[test]
fn enabled_must_be_a_boolean() {
    assert_eq!(single_error_field(with("enabled", json!("yes"))), "enabled");
}

#[test]
fn unknown_fields_are_rejected_by_name() {
    assert_eq!(single_error_field(with("colour", json!("blue"))), "colour");
}

#[test]
fn an_update_takes_any_subset_and_null_removes_the_secret() {
    let fields = update(&object(json!({"secret": null})), &OutboundPolicy::default()).unwrap();
    assert_eq!(fields.secret, Some(SecretChange::Remove));
    assert_eq!(fields.name, None);
    assert!(update(&object(json!({})), &OutboundPolicy::default()).is_ok());
    assert!(update(&object(json!({"name": null})), &OutboundPolicy::default()).is_err());
}

#[test]
fn a_rate_limit_is_an_integer_from_1_to_10000_or_null() {
    // GIVEN create bodies with a rate limit at each end of the range, and null
    // (5.0 is an integer to JSON Schema, which the OpenAPI document speaks)
    let accepted = [json!(1), json!(10_000), json!(5.0), Value::Null];
    // WHEN they are validated THEN each is taken as given (null: none)
    let rates: Vec<_> = accepted
        .into_iter()
        .map(|rate| {
            create(
                &object(with("rate_limit_per_second", rate)),
                &OutboundPolicy::default(),
            )
            .unwrap()
            .rate_limit_per_second
            .flatten()
        })
        .collect();
    assert_eq!(rates, [Some(1), Some(10_000), Some(5), None]);
    // AND zero, too many, a fraction, a string, a negative number and a boolean are
    // refused, naming the field
    for refused in [
        json!(0),
        json!(10_001),
        json!(1.5),
        json!("5"),
        json!(-1),
        json!(true),
    ] {
        let errors = errors_of(with("rate_limit_per_second", refused.clone()));
        assert_eq!(errors.len(), 1, "{refused}: {errors:?}");
        assert_eq!(errors[0].field, "rate_limit_per_second", "{refused}");
        assert!(
            errors[0].message.contains("1 to 10000"),
            "{}",
            errors[0].message
        );
    }
}

#[test]
fn an_update_with_a_null_rate_limit_removes_it() {
    // GIVEN an update body that sets the rate limit to null, and one that leaves it
    let remove = object(json!({"rate_limit_per_second": null}));
    let leave = object(json!({"name": "renamed"}));
    // WHEN they are validated
    let removed = update(&remove, &OutboundPolicy::default()).unwrap();
    let left = update(&leave, &OutboundPolicy::default()).unwrap();
    // THEN the first removes it and the second does not touch it
    assert_eq!(removed.rate_limit_per_second, Some(None));
    assert_eq!(left.rate_limit_per_second, None);
}

#[test]
fn headers_are_an_object_of_names_to_strings_or_null() {
    // GIVEN create bodies with a header set, an empty set and null
    let given = json!({"Authorization": "Splunk t0ken", "X-Channel": ""});
    // WHEN they are validated
    let set = create(&object(with("headers", given)), &OutboundPolicy::default()).unwrap();
    let empty = create(
        &object(with("headers", json!({}))),
        &OutboundPolicy::default(),
    )
    .unwrap();
    let null = update(
        &object(json!({"headers": null})),
        &OutboundPolicy::default(),
    )
    .unwrap();
    let absent = update(&object(json!({})), &OutboundPolicy::default()).unwrap();
    // THEN the set is kept by name, {} and null both mean none, absent means unchanged
    let names = set.headers.map(|h| h.names());
    assert_eq!(
        names,
        Some(vec!["Authorization".into(), "X-Channel".into()])
    );
    assert_eq!(empty.headers, Some(CustomHeaders::default()));
    assert_eq!(null.headers, Some(CustomHeaders::default()));
    assert_eq!(absent.headers, None);
}

#[test]
fn a_refused_header_set_names_each_header_and_never_quotes_a_value() {
    let cases = [
        (json!({"Host": "h"}), vec!["Host is reserved"]),
        (
            json!({"x-webhook-id": "h"}),
            vec!["x-webhook-id is reserved"],
        ),
        (
            json!({"Webhook-Signature": "h"}),
            vec!["Webhook-Signature is reserved"],
        ),
        (
            json!({"X-A": "a", "x-a": "b"}),
            vec!["X-A and x-a are the same header"],
        ),
        (
            json!({"X-A": 5}),
            vec!["the value of \"X-A\" must be a string"],
        ),
        (
            json!({"X-A": "s3cr3t\n"}),
            vec!["the value of X-A must be visible ASCII"],
        ),
        (json!(["X-A"]), vec!["must be an object"]),
        (
            json!({"Host": "s3cr3t", "Bad Name": "s3cr3t"}),
            vec!["header name starting \"Bad\"", "Host is reserved"],
        ),
    ];
    for (headers, expected) in cases {
        // GIVEN a create body with a bad header set WHEN it is validated
        let errors = errors_of(with("headers", headers.clone()));
        // THEN every error is on `headers`, says what is wrong, and quotes no value
        assert_eq!(errors.len(), expected.len(), "{headers}: {errors:?}");
        for (error, message) in errors.iter().zip(&expected) {
            assert_eq!(error.field, "headers");
            assert!(
                error.message.contains(message),
                "{headers}: {}",
                error.message
            );
            assert!(!error.message.contains("s3cr3t"), "{}", error.message);
        }
    }
}

#[test]
fn eleven_headers_are_refused() {
    // GIVEN eleven headers
    let eleven: Map<String, Value> = (0..11).map(|i| (format!("X-H{i}"), json!("v"))).collect();
    // WHEN validated THEN one error says how many are allowed
    let errors = errors_of(with("headers", Value::Object(eleven)));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].message.contains("at most 10"),
        "{}",
        errors[0].message
    );
}
