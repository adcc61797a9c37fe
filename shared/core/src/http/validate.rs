//! Field-by-field validation of webhook bodies. Every problem is collected, so one
//! answer names every bad field; unknown fields are refused, not ignored.

use serde_json::{Map, Value};

use super::problem::{ApiError, FieldError};
use crate::domain::catalogue;
use crate::domain::custom_headers::CustomHeaders;
use crate::domain::webhook::{ClientScope, RATE_LIMIT_RANGE};
use crate::outbound::OutboundPolicy;
pub use crate::usecases::admin::{SecretChange, WebhookFields};

const FIELDS: &[&str] = &[
    "name",
    "url",
    "event",
    "clients",
    "secret",
    "enabled",
    "rate_limit_per_second",
    "headers",
];
pub const MAX_URL_CHARS: usize = 2048;
pub const MAX_CLIENTS: usize = 100;
/// A webhook's name and each client id: 1 to this many characters.
pub const MAX_NAME_CHARS: usize = 128;
pub const MAX_CLIENT_ID_CHARS: usize = 128;
/// The length of a signing secret an admin gives.
pub const SECRET_CHARS: std::ops::RangeInclusive<usize> = 16..=256;
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

/// An update body: any subset; `"secret": null` removes the secret,
/// `"rate_limit_per_second": null` the rate limit, and `"headers": null` the custom
/// headers (a `headers` object replaces the whole set).
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
            "rate_limit_per_second" => {
                fields.rate_limit_per_second =
                    record(errors, "rate_limit_per_second", rate_limit(value));
            }
            "headers" => fields.headers = headers(value, errors),
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
    if name.trim().is_empty() || chars > MAX_NAME_CHARS {
        return Err(format!(
            "must be 1–{MAX_NAME_CHARS} characters and not blank"
        ));
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
                    Some(id) if !id.is_empty() && id.chars().count() <= MAX_CLIENT_ID_CHARS => {
                        if !ids.iter().any(|seen| seen == id) {
                            ids.push(id.to_owned());
                        }
                    }
                    _ => {
                        return Err(format!(
                            "item {index} must be a client id of 1–{MAX_CLIENT_ID_CHARS} characters"
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
            if !SECRET_CHARS.contains(&chars) {
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

/// An integer in [`RATE_LIMIT_RANGE`] (`5.0` is one, as in JSON Schema; `5.5` and `"5"`
/// are not), or `null`: none.
fn rate_limit(value: &Value) -> Result<Option<u32>, String> {
    if value.is_null() {
        return Ok(None);
    }
    let whole = value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|rate| rate.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(rate))
            .map(|rate| rate as u64)
    });
    whole
        .and_then(|rate| u32::try_from(rate).ok())
        .filter(|rate| RATE_LIMIT_RANGE.contains(rate))
        .map(Some)
        .ok_or_else(|| {
            format!(
                "must be an integer from {} to {} (requests a second), or null",
                RATE_LIMIT_RANGE.start(),
                RATE_LIMIT_RANGE.end()
            )
        })
}

/// An object of header names to values, or `null` (none); each broken rule is its own
/// error, naming the header but never quoting a value.
fn headers(value: &Value, errors: &mut Vec<FieldError>) -> Option<CustomHeaders> {
    let given = match value {
        Value::Null => return Some(CustomHeaders::default()),
        Value::Object(given) => given,
        _ => {
            errors.push(FieldError::new(
                "headers",
                "must be an object of header names to string values, or null",
            ));
            return None;
        }
    };
    let mut pairs = Vec::with_capacity(given.len());
    for (name, value) in given {
        match value.as_str() {
            Some(text) => pairs.push((name.clone(), text.to_owned())),
            None => errors.push(FieldError::new(
                "headers",
                format!("the value of {name:?} must be a string"),
            )),
        }
    }
    match CustomHeaders::parse(pairs) {
        Ok(headers) => Some(headers),
        Err(refusals) => {
            errors.extend(
                refusals
                    .iter()
                    .map(|refusal| FieldError::new("headers", refusal.to_string())),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests;
