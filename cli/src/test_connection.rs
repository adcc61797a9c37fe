//! `webhooks test URL|WEBHOOK_ID`: run the service's connection test and print each
//! check on its own line; exit non-zero when one fails.

use serde_json::{Map, Value};

use crate::api::{ApiArgs, ApiClient};
use crate::error::CliError;
use crate::output;

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// The URL to test, or the id (wh_...) of a saved webhook to test with its stored secret.
    #[arg(value_name = "URL|WEBHOOK_ID")]
    pub target: String,

    /// Sign the test request with this secret (unsaved URLs only).
    #[arg(long, value_name = "SECRET")]
    pub secret: Option<String>,

    /// Send a sample of this event type (unsaved URLs only).
    #[arg(long = "event", value_name = "TYPE")]
    pub event_type: Option<String>,

    #[command(flatten)]
    pub api: ApiArgs,
}

pub async fn run(args: TestArgs) -> Result<(), CliError> {
    let client = ApiClient::from_args(&args.api).await?;
    let saved = args.target.starts_with("wh_");
    if saved && (args.secret.is_some() || args.event_type.is_some()) {
        return Err(CliError::invalid_argument(
            "--secret",
            "a saved webhook is tested with its own secret and event; drop --secret and --event",
        ));
    }
    let report = if saved {
        client
            .post(
                &["webhooks", &args.target, "test"],
                &Value::Object(Map::new()),
            )
            .await?
    } else {
        let mut body = Map::new();
        body.insert("url".into(), Value::String(args.target.clone()));
        if let Some(secret) = &args.secret {
            body.insert("secret".into(), Value::String(secret.clone()));
        }
        if let Some(event_type) = &args.event_type {
            body.insert("event".into(), Value::String(event_type.clone()));
        }
        client
            .post(&["webhooks", "test"], &Value::Object(body))
            .await?
    };
    output::emit(&render(&report))?;
    let failed = failed_checks(&report);
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::runtime(format!(
            "connection test failed: {}",
            failed.join(", ")
        )))
    }
}

/// The report, one check per line with a mark, then a summary line.
pub fn render(report: &Value) -> String {
    let text = |value: &Value, key: &str| {
        value
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let mut out = format!("Testing {}\n", text(report, "url"));
    for check in report
        .get("checks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let mark = match text(check, "status").as_str() {
            "pass" => "✔",
            "warn" => "!",
            "fail" => "✘",
            _ => "–",
        };
        out.push_str(&format!(
            "  {mark} {:<17} {}\n",
            text(check, "check"),
            text(check, "detail")
        ));
    }
    let status = report
        .get("status_code")
        .and_then(Value::as_u64)
        .map(|s| format!("HTTP {s}"));
    let elapsed = report
        .get("elapsed_ms")
        .and_then(Value::as_u64)
        .map(|ms| format!("{ms} ms"));
    let facts: Vec<String> = [status, elapsed].into_iter().flatten().collect();
    let verdict = if report.get("ok").and_then(Value::as_bool) == Some(true) {
        "ok"
    } else {
        "FAILED"
    };
    out.push_str(&format!(
        "{verdict}{}\n",
        if facts.is_empty() {
            String::new()
        } else {
            format!(" ({})", facts.join(", "))
        }
    ));
    out
}

fn failed_checks(report: &Value) -> Vec<String> {
    report
        .get("checks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| c.get("status").and_then(Value::as_str) == Some("fail"))
        .filter_map(|c| c.get("check").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_each_check_with_its_mark_and_a_verdict() {
        let report = json!({"ok": false, "url": "https://x.example/", "status_code": 201, "elapsed_ms": 12, "checks": [
            {"check": "url_valid", "status": "pass", "detail": "https URL"},
            {"check": "status_200", "status": "fail", "detail": "201 Created; expected 200 OK"},
            {"check": "responds_in_time", "status": "warn", "detail": "1.20 s"},
            {"check": "signature", "status": "skipped", "detail": "not run"}]});
        let text = render(&report);
        assert!(text.starts_with("Testing https://x.example/\n"));
        assert!(text.contains("✔ url_valid"));
        assert!(text.contains("✘ status_200        201 Created; expected 200 OK"));
        assert!(text.contains("! responds_in_time"));
        assert!(text.contains("– signature"));
        assert!(text.ends_with("FAILED (HTTP 201, 12 ms)\n"));
        assert_eq!(failed_checks(&report), ["status_200"]);
    }
}
