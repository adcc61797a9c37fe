//! What the generated OpenAPI document cannot say by itself, stated from the rules the
//! API enforces, so a client generated from the document is right: the event catalogue
//! as an enum, the bounds of every length and number (from the constants the validators
//! use), which fields take `null`, the two shapes of `clients`, the rules of custom
//! headers (reserved names included), and the 400 that every operation with a body
//! answers for a body that is not a JSON object.

use serde_json::{json, Map, Value};

use super::query::MAX_LIMIT;
use super::validate::{
    GENERATE, MAX_CLIENTS, MAX_CLIENT_ID_CHARS, MAX_NAME_CHARS, MAX_URL_CHARS, SECRET_CHARS,
};
use crate::domain::catalogue;
use crate::domain::custom_headers::{
    MAX_HEADERS, MAX_HEADER_NAME_CHARS, MAX_HEADER_VALUE_BYTES, RESERVED_NAMES, RESERVED_PREFIXES,
};
use crate::domain::health::Window;
use crate::domain::webhook::RATE_LIMIT_RANGE;

/// Adds the constraints to the generated document.
pub(super) fn apply(doc: &mut Value) {
    let events: Vec<Value> = catalogue::ids().map(Value::from).collect();
    let event = json!({"type": "string", "enum": events});
    let name = json!({"type": "string", "minLength": 1, "maxLength": MAX_NAME_CHARS,
        "pattern": "\\S", "description": "Not blank."});
    let url = json!({"type": "string", "format": "uri", "maxLength": MAX_URL_CHARS,
        "description": "http(s), no credentials, a public address (docs/ssrf.md)."});
    let secret = json!({"anyOf": [
            {"type": "string", "minLength": SECRET_CHARS.start(), "maxLength": SECRET_CHARS.end()},
            {"type": "string", "enum": [GENERATE]},
            {"type": "null"}],
        "writeOnly": true});
    let rate_limit = json!({"type": ["integer", "null"],
        "minimum": RATE_LIMIT_RANGE.start(), "maximum": RATE_LIMIT_RANGE.end()});
    let client_id = json!({"type": "string", "minLength": 1, "maxLength": MAX_CLIENT_ID_CHARS});
    let headers = custom_headers_schema();

    for schema in ["CreateWebhook", "UpdateWebhook"] {
        let at = format!("/components/schemas/{schema}/properties");
        replace(doc, &format!("{at}/name"), &name);
        replace(doc, &format!("{at}/url"), &url);
        replace(doc, &format!("{at}/event"), &event);
        replace(doc, &format!("{at}/secret"), &secret);
        replace(doc, &format!("{at}/enabled"), &json!({"type": "boolean"}));
        replace(doc, &format!("{at}/rate_limit_per_second"), &rate_limit);
        replace(doc, &format!("{at}/headers"), &headers);
    }
    replace(
        doc,
        "/components/schemas/WebhookView/properties/header_names",
        &json!({"type": "array", "maxItems": MAX_HEADERS, "uniqueItems": true,
            "items": {"type": "string", "pattern": HEADER_NAME_PATTERN},
            "description": "The custom headers' names, sorted; their values are never returned."}),
    );
    replace(
        doc,
        "/components/schemas/UpdateWebhook/properties/clients",
        &json!({"$ref": "#/components/schemas/ClientScope"}),
    );
    replace(
        doc,
        "/components/schemas/ClientScope",
        &json!({"oneOf": [
            {"type": "string", "enum": ["all"]},
            {"type": "array", "items": client_id, "minItems": 1, "maxItems": MAX_CLIENTS}],
        "description": "`\"all\"`, or the client ids whose events the webhook hears."}),
    );

    let ingest = "/components/schemas/IngestEvent/properties";
    let producer_events: Vec<Value> = catalogue::producer_ids().map(Value::from).collect();
    replace(
        doc,
        &format!("{ingest}/type"),
        &json!({"type": "string", "enum": producer_events}),
    );
    replace(doc, &format!("{ingest}/client_id"), &client_id);
    replace(
        doc,
        &format!("{ingest}/id"),
        &or_null(json!({"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,128}$"})),
    );
    replace(
        doc,
        &format!("{ingest}/occurred_at"),
        &or_null(json!({"type": "string", "format": "date-time"})),
    );
    replace(
        doc,
        &format!("{ingest}/data"),
        &json!({"type": ["object", "null"]}),
    );

    let unsaved = "/components/schemas/TestUnsaved/properties";
    replace(doc, &format!("{unsaved}/event"), &or_null(event.clone()));
    replace(
        doc,
        &format!("{unsaved}/secret"),
        &or_null(json!({"type": "string", "minLength": SECRET_CHARS.start(),
            "maxLength": SECRET_CHARS.end(), "writeOnly": true})),
    );
    let recover = "/components/schemas/RecoverPeriod/properties";
    let instant = json!({"type": "string", "format": "date-time"});
    replace(doc, &format!("{recover}/since"), &instant);
    replace(doc, &format!("{recover}/until"), &or_null(instant.clone()));
    replace(
        doc,
        &format!("{recover}/outcomes"),
        &or_null(json!({"type": "array", "minItems": 1,
            "items": {"$ref": "#/components/schemas/Outcome"}})),
    );
    // Every body names its required fields and refuses a field it does not know.
    for (schema, required) in [
        ("CreateWebhook", &["name", "url", "event", "clients"][..]),
        ("UpdateWebhook", &[]),
        ("IngestEvent", &["type", "client_id"]),
        ("TestUnsaved", &["url"]),
        ("RecoverPeriod", &["since"]),
    ] {
        if let Some(Value::Object(fields)) =
            doc.pointer_mut(&format!("/components/schemas/{schema}"))
        {
            fields.insert("additionalProperties".to_owned(), Value::Bool(false));
            fields.insert("required".to_owned(), json!(required));
        }
    }

    let limit = json!({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT});
    for path in ["/webhooks", "/webhooks/{id}/logs"] {
        parameter_schema(doc, path, "get", "limit", &limit);
        parameter_schema(
            doc,
            path,
            "get",
            "cursor",
            &json!({"type": "string", "pattern": CURSOR_PATTERN}),
        );
    }
    parameter_schema(doc, "/webhooks", "get", "event", &event);
    parameter_schema(doc, "/webhooks", "get", "client", &client_id);
    parameter_schema(
        doc,
        "/webhooks/{id}",
        "patch",
        "If-Match",
        &json!({"type": "string", "pattern": "^(\\*|(W/)?\"?[0-9]{1,19}\"?)$"}),
    );
    let windows: Vec<Value> = Window::ALL.iter().map(|w| json!(w.as_str())).collect();
    parameter_schema(
        doc,
        "/webhooks/{id}/stats",
        "get",
        "window",
        &json!({"type": "string", "enum": windows, "default": Window::default().as_str()}),
    );
    health_schemas(doc, &windows);
    bad_body_responses(doc);
}

/// The stats' window names, and their counts and rates as the numbers they are.
fn health_schemas(doc: &mut Value, windows: &[Value]) {
    let stats = "/components/schemas/WebhookStats/properties";
    replace(
        doc,
        &format!("{stats}/window"),
        &json!({"type": "string", "enum": windows}),
    );
    replace(
        doc,
        &format!("{stats}/success_rate"),
        &json!({"type": ["number", "null"], "minimum": 0, "maximum": 1}),
    );
    let instant = json!({"type": "string", "format": "date-time"});
    replace(
        doc,
        &format!("{stats}/last_success_at"),
        &or_null(instant.clone()),
    );
    replace(
        doc,
        &format!("{stats}/last_failure_at"),
        &or_null(instant.clone()),
    );
    let bucket = "/components/schemas/StatsBucket/properties";
    replace(doc, &format!("{bucket}/start"), &instant);
    if let Some(Value::Object(fields)) = doc.pointer_mut(&format!("{stats}/buckets")) {
        fields.insert("minItems".to_owned(), json!(7));
        fields.insert("maxItems".to_owned(), json!(24));
    }
    // Every field is always present, `null` or not.
    for (schema, required) in [
        (
            "WebhookStats",
            &[
                "window",
                "attempts",
                "succeeded",
                "failed",
                "success_rate",
                "latency_ms",
                "last_success_at",
                "last_failure_at",
                "buckets",
            ][..],
        ),
        ("StatsBucket", &["start", "succeeded", "failed", "p95_ms"]),
    ] {
        if let Some(Value::Object(fields)) =
            doc.pointer_mut(&format!("/components/schemas/{schema}"))
        {
            fields.insert("required".to_owned(), json!(required));
        }
    }
}

/// What a cursor is: unpadded base64url (see [`super::query`]); any such value is a
/// position to read from, the `next_cursor` of a page being the usual one.
const CURSOR_PATTERN: &str = "^(?:[A-Za-z0-9_-]{4})*[A-Za-z0-9_-]{2,4}$";

/// An HTTP token (RFC 9110) of 1 to [`MAX_HEADER_NAME_CHARS`] characters.
const HEADER_NAME_PATTERN: &str = "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$";
/// Visible ASCII and spaces.
const HEADER_VALUE_PATTERN: &str = "^[ -~]*$";

/// The custom headers of a create or update body: every rule the API enforces,
/// reserved names included (spelled without case, as JSON Schema patterns have no
/// flags). One rule it cannot state: two names differing only in case are refused.
fn custom_headers_schema() -> Value {
    let names: Vec<String> = RESERVED_NAMES.iter().map(|n| without_case(n)).collect();
    let prefixes: Vec<String> = RESERVED_PREFIXES.iter().map(|p| without_case(p)).collect();
    let reserved = format!("^(?:{})$|^(?:{})", names.join("|"), prefixes.join("|"));
    or_null(json!({
        "type": "object",
        "maxProperties": MAX_HEADERS,
        "propertyNames": {"type": "string", "minLength": 1, "maxLength": MAX_HEADER_NAME_CHARS,
            "pattern": HEADER_NAME_PATTERN, "not": {"pattern": reserved}},
        "additionalProperties": {"type": "string", "maxLength": MAX_HEADER_VALUE_BYTES,
            "pattern": HEADER_VALUE_PATTERN},
        "writeOnly": true,
    }))
}

/// A regular expression matching `text` in any case: `Host` → `[Hh][Oo][Ss][Tt]`
/// (the reserved names hold only letters, digits and `-`, none special in a pattern).
fn without_case(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphabetic() {
                format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase())
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `schema`, or `null`.
fn or_null(schema: Value) -> Value {
    json!({"anyOf": [schema, {"type": "null"}]})
}

/// Puts `schema` at `pointer`, keeping the description the code's doc comment gave.
fn replace(doc: &mut Value, pointer: &str, schema: &Value) {
    let Some(target) = doc.pointer_mut(pointer) else {
        tracing::error!(pointer, "the OpenAPI document has no such schema");
        return;
    };
    let description = target.get("description").cloned();
    let mut replacement = schema.clone();
    if let (Some(description), Value::Object(fields)) = (description, &mut replacement) {
        fields.entry("description").or_insert(description);
    }
    *target = replacement;
}

fn parameter_schema(doc: &mut Value, path: &str, method: &str, name: &str, schema: &Value) {
    let pointer = format!("/paths/{}/{method}/parameters", escape(path));
    let Some(Value::Array(parameters)) = doc.pointer_mut(&pointer) else {
        tracing::error!(path, "the OpenAPI document has no such operation");
        return;
    };
    for parameter in parameters.iter_mut().filter(|p| p["name"] == name) {
        parameter["schema"] = schema.clone();
    }
}

/// Every operation with a request body also answers 400 for a body that is not JSON.
fn bad_body_responses(doc: &mut Value) {
    let Some(Value::Object(paths)) = doc.get_mut("paths") else {
        return;
    };
    for operation in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(Map::values_mut)
    {
        if operation.get("requestBody").is_none() {
            continue;
        }
        if let Some(Value::Object(responses)) = operation.get_mut("responses") {
            responses.entry("400").or_insert_with(|| {
                json!({
                    "description": "The body is not a JSON object",
                    "content": {"application/problem+json": {
                        "schema": {"$ref": "#/components/schemas/Problem"}}}
                })
            });
        }
    }
}

/// A JSON pointer token (RFC 6901): `~` and `/` escaped.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}
