//! How `webhooks listen` shows a delivery: readable text, or one JSON object per line
//! (`--json`).

use std::collections::BTreeMap;

use axum::http::HeaderMap;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::pretty::reindent;
use super::verify::Verification;

/// At most this much of a body that is not JSON is shown.
const MAX_TEXT_BODY: usize = 4 * 1024;

/// One received request.
#[derive(Debug)]
pub struct Received<'a> {
    pub at: DateTime<Utc>,
    pub path: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// `None` when no `--secret` was given.
    pub verification: Option<Verification>,
}

impl Received<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn body_json(&self) -> Option<Value> {
        serde_json::from_slice(self.body).ok()
    }
}

/// The readable form: a header line, the signature verdicts, the body, a blank line.
pub fn human(received: &Received<'_>) -> String {
    let body = received.body_json();
    let from_body = |field: &str| {
        body.as_ref()
            .and_then(|b| b.get(field))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let event_type = received
        .header("X-Webhook-Event")
        .map(str::to_owned)
        .or_else(|| from_body("type"))
        .unwrap_or_else(|| "(no event type)".into());
    let delivery_id = received
        .header("X-Delivery-Id")
        .or_else(|| received.header("webhook-id"))
        .unwrap_or("(no delivery id)");
    let attempt = received.header("X-Delivery-Attempt").unwrap_or("?");
    let webhook_id = received
        .header("X-Webhook-Id")
        .map(str::to_owned)
        .or_else(|| from_body("webhook_id"))
        .unwrap_or_else(|| "(no webhook id)".into());

    let mut out = format!(
        "── {}  {event_type}  {delivery_id}  attempt {attempt}  {webhook_id}  POST {}\n",
        received.at.to_rfc3339_opts(SecondsFormat::Secs, true),
        received.path,
    );
    match &received.verification {
        Some(verification) => {
            for line in verification.lines() {
                out.push_str(&line);
                out.push('\n');
            }
        }
        None => out.push_str(&unverified_note(received.headers)),
    }
    if received.body.is_empty() {
        out.push_str("(empty body)\n");
    } else if body.is_some() {
        out.push_str(&reindent(&String::from_utf8_lossy(received.body)));
        out.push('\n');
    } else {
        let text =
            String::from_utf8_lossy(&received.body[..received.body.len().min(MAX_TEXT_BODY)]);
        out.push_str(&format!(
            "({} bytes, not JSON)\n{text}\n",
            received.body.len()
        ));
    }
    out.push('\n');
    out
}

fn unverified_note(headers: &HeaderMap) -> String {
    let sent: Vec<&str> = ["X-Authorization-HMAC-256", "webhook-signature"]
        .into_iter()
        .filter(|name| headers.contains_key(*name))
        .collect();
    if sent.is_empty() {
        "· unsigned\n".to_owned()
    } else {
        format!(
            "· signed ({}), not verified: start with --secret to check\n",
            sent.join(", ")
        )
    }
}

/// The `--json` form: one object on one line.
pub fn json_line(received: &Received<'_>) -> String {
    let headers: BTreeMap<&str, String> = received
        .headers
        .keys()
        .map(|name| {
            let values: Vec<String> = received
                .headers
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect();
            (name.as_str(), values.join(", "))
        })
        .collect();
    let verified = match &received.verification {
        Some(v) => json!({"hmac": v.hmac_passed(), "standard": v.standard_passed(),
                          "checks": v.lines()}),
        None => json!({"hmac": null, "standard": null}),
    };
    let mut line = json!({
        "received_at": received.at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "path": received.path,
        "headers": headers,
        "body": received.body_json(),
        "verified": verified,
    });
    if line["body"].is_null() && !received.body.is_empty() {
        line["body_text"] = Value::from(String::from_utf8_lossy(received.body).into_owned());
    }
    format!("{line}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listen::verify::{HmacCheck, StandardCheck};
    use axum::http::HeaderValue;

    fn headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            "X-Webhook-Event",
            HeaderValue::from_static("report.publish_status"),
        );
        headers.insert("X-Delivery-Id", HeaderValue::from_static("dlv_1"));
        headers.insert("X-Delivery-Attempt", HeaderValue::from_static("2"));
        headers.insert("X-Webhook-Id", HeaderValue::from_static("wh_1"));
        headers
    }

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-28T12:00:05Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_readable_form_has_a_header_line_verdicts_and_the_body_in_order() {
        let headers = headers();
        let received = Received {
            at: at(),
            path: "/hook",
            headers: &headers,
            body: br#"{"z":1,"a":{"b":2}}"#,
            verification: Some(Verification {
                hmac: HmacCheck::Verified,
                standard: StandardCheck::Mismatch,
            }),
        };
        assert_eq!(
            human(&received),
            "── 2026-11-28T12:00:05Z  report.publish_status  dlv_1  attempt 2  wh_1  POST /hook\n\
             ✔ X-Authorization-HMAC-256 verified\n\
             ✘ webhook-signature does not match\n\
             {\n  \"z\": 1,\n  \"a\": {\n    \"b\": 2\n  }\n}\n\n"
        );
    }

    #[test]
    fn without_a_secret_it_says_signatures_were_not_checked() {
        let mut headers = HeaderMap::new();
        headers.insert("webhook-signature", HeaderValue::from_static("v1,x"));
        let received = Received {
            at: at(),
            path: "/",
            headers: &headers,
            body: b"not json",
            verification: None,
        };
        let text = human(&received);
        assert!(text.starts_with(
            "── 2026-11-28T12:00:05Z  (no event type)  (no delivery id)  attempt ?  (no webhook id)  POST /\n"
        ));
        assert!(text.contains("· signed (webhook-signature), not verified"));
        assert!(text.contains("(8 bytes, not JSON)\nnot json\n"));
    }

    #[test]
    fn the_json_form_is_one_parseable_line() {
        let headers = headers();
        let received = Received {
            at: at(),
            path: "/hook?x=1",
            headers: &headers,
            body: b"{\"id\":\"evt_1\"}",
            verification: None,
        };
        let line = json_line(&received);
        assert_eq!(line.matches('\n').count(), 1);
        let value: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["received_at"], "2026-11-28T12:00:05.000Z");
        assert_eq!(value["path"], "/hook?x=1");
        assert_eq!(value["headers"]["x-delivery-id"], "dlv_1");
        assert_eq!(value["body"]["id"], "evt_1");
        assert_eq!(value["verified"], json!({"hmac": null, "standard": null}));
    }
}
