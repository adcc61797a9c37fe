//! Field-by-field validation of webhook bodies. Every problem is collected, so one
//! answer names every bad field; unknown fields are refused, not ignored.

use serde_json::{Map, Value};

use super::problem::{ApiError, FieldError};
use crate::domain::catalogue;
use crate::domain::webhook::ClientScope;
use crate::outbound::OutboundPolicy;
pub use crate::usecases::admin::{SecretChange, WebhookFields};

const FIELDS: &[&str] = &["name", "url", "event", "clients", "secret", "enabled"];
pub const MAX_URL_CHARS: usize = 2048;
pub const MAX_CLIENTS: usize = 100;
pub const GENERATE: &str = "generate";

/// A create body: `name`, `url`, `event`, `clients` required.
pub fn create(
    body: &Map<String, Value>,
    policy: &OutboundPolicy,
) -> Result<WebhookFields, ApiError> {
    let mut errors = Vec::new();
    let fields = parse(body, policy, &mut errors);
    for (field, given) in [
        ("name", fields.name.is_some()),
        ("url", fields.url.is_some()),
        ("event", fields.event.is_some()),
        ("clients", fields.clients.is_some()),
    ] {
        if !given && !errors.iter().any(|e| e.field == field) {
            errors.push(FieldError::new(field, "is required"));
        }
    }
    if matches!(fields.secret, Some(SecretChange::Remove)) {
        // null on create means "no secret".
        return finish(
            WebhookFields {
                secret: None,
                ..fields
            },
            errors,
        );
    }
    finish(fields, errors)
}

/// An update body: any subset; `"secret": null` removes the secret.
pub fn update(
    body: &Map<String, Value>,
    policy: &OutboundPolicy,
) -> Result<WebhookFields, ApiError> {
    let mut errors = Vec::new();
    let fields = parse(body, policy, &mut errors);
    finish(fields, errors)
}

fn finish(fields: WebhookFields, errors: Vec<FieldError>) -> Result<WebhookFields, ApiError> {
    if errors.is_empty() {
        Ok(fields)
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn parse(
    body: &Map<String, Value>,
    policy: &OutboundPolicy,
    errors: &mut Vec<FieldError>,
) -> WebhookFields {
    let mut fields = WebhookFields::default();
    for (key, value) in body {
        match key.as_str() {
            "name" => fields.name = record(errors, "name", name(value)),
            "url" => fields.url = record(errors, "url", url(value, policy)),
            "event" => fields.event = record(errors, "event", event(value)),
            "clients" => fields.clients = record(errors, "clients", clients(value)),
            "secret" => fields.secret = record(errors, "secret", secret(value)),
            "enabled" => fields.enabled = record(errors, "enabled", enabled(value)),
            unknown => errors.push(FieldError::new(
                unknown,
                format!("unknown field; known fields: {}", FIELDS.join(", ")),
            )),
        }
    }
    fields
}

fn record<T>(errors: &mut Vec<FieldError>, field: &str, result: Result<T, String>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(message) => {
            errors.push(FieldError::new(field, message));
            None
        }
    }
}

fn string(value: &Value) -> Result<&str, String> {
    value.as_str().ok_or_else(|| "must be a string".to_owned())
}

fn name(value: &Value) -> Result<String, String> {
    let name = string(value)?;
    let chars = name.chars().count();
    if name.trim().is_empty() || chars > 128 {
        return Err("must be 1–128 characters and not blank".to_owned());
    }
    Ok(name.to_owned())
}

fn url(value: &Value, policy: &OutboundPolicy) -> Result<String, String> {
    let raw = string(value)?;
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(format!("must be at most {MAX_URL_CHARS} characters"));
    }
    policy
        .check_url(raw)
        .map(|url| url.to_string())
        .map_err(|refusal| refusal.to_string())
}

fn event(value: &Value) -> Result<String, String> {
    let id = string(value)?;
    if catalogue::find(id).is_none() {
        let known: Vec<_> = catalogue::ids().collect();
        return Err(format!(
            "unknown event type {id:?}; known types: {}",
            known.join(", ")
        ));
    }
    Ok(id.to_owned())
}

fn clients(value: &Value) -> Result<ClientScope, String> {
    const SHAPE: &str = "must be \"all\" or a non-empty list of client ids";
    match value {
        Value::String(text) if text == "all" => Ok(ClientScope::all()),
        Value::Array(items) => {
            if items.is_empty() || items.len() > MAX_CLIENTS {
                return Err(format!("{SHAPE} (at most {MAX_CLIENTS})"));
            }
            let mut ids: Vec<String> = Vec::with_capacity(items.len());
            for (index, item) in items.iter().enumerate() {
                match item.as_str() {
                    Some(id) if !id.is_empty() && id.chars().count() <= 128 => {
                        if !ids.iter().any(|seen| seen == id) {
                            ids.push(id.to_owned());
                        }
                    }
                    _ => {
                        return Err(format!(
                            "item {index} must be a client id of 1–128 characters"
                        ))
                    }
                }
            }
            Ok(ClientScope::Only(ids))
        }
        _ => Err(SHAPE.to_owned()),
    }
}

fn secret(value: &Value) -> Result<SecretChange, String> {
    match value {
        Value::Null => Ok(SecretChange::Remove),
        Value::String(text) if text == GENERATE => Ok(SecretChange::Generate),
        Value::String(text) => {
            let chars = text.chars().count();
            if !(16..=256).contains(&chars) {
                return Err("must be 16–256 characters, or \"generate\"".to_owned());
            }
            Ok(SecretChange::Set(text.clone()))
        }
        _ => Err("must be a string (16–256 characters), \"generate\" or null".to_owned()),
    }
}

fn enabled(value: &Value) -> Result<bool, String> {
    value
        .as_bool()
        .ok_or_else(|| "must be true or false".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
