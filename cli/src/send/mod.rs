//! `webhooks send`: hand one event to the local service (`POST /events`), or with
//! `--queue-url` put it on a deployed service's SQS events queue.

use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::api::{ApiArgs, ApiClient};
use crate::error::CliError;
use crate::output;

mod check;
mod queue;

pub(crate) use queue::check_queue_url;

#[derive(Debug, clap::Args)]
pub struct SendArgs {
    /// Event type, e.g. report.publish_status.
    #[arg(long = "type", value_name = "TYPE")]
    pub event_type: String,

    /// The client the event belongs to.
    #[arg(long = "client", value_name = "CLIENT_ID")]
    pub client_id: String,

    /// The event's data: a JSON object, `@FILE` to read it from a file, or `@-` for stdin.
    #[arg(long, value_name = "JSON|@FILE")]
    pub data: Option<String>,

    /// The event's id (default: a new `evt_` + ULID).
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,

    #[command(flatten)]
    pub api: ApiArgs,

    /// Put the event on this SQS events queue (a deployed service's `EventsQueueUrl`)
    /// instead of posting it to the API (--api is then not used). Uses the AWS SDK's
    /// credentials and the queue's region.
    #[arg(long, value_name = "URL")]
    pub queue_url: Option<String>,
}

pub async fn run(args: SendArgs) -> Result<(), CliError> {
    let data = match &args.data {
        Some(text) => parse_data(&load_data(text)?)?,
        None => Map::new(),
    };
    let body = event_body(&args.event_type, &args.client_id, data, args.id.as_deref());
    match &args.queue_url {
        Some(queue_url) => queue::send(queue_url, &body).await,
        None => send_to_api(&args.api, &body).await,
    }
}

/// Sends to the API what it would accept: the event is checked here first, so a bad
/// flag is named as the flag (the API would answer 422 naming a body field).
async fn send_to_api(api: &ApiArgs, body: &Value) -> Result<(), CliError> {
    check::validated(body)?;
    let client = ApiClient::from_args(api).await?;
    let answer = client.post(&["events"], body).await?;
    let id = answer.get("id").and_then(Value::as_str).ok_or_else(|| {
        CliError::runtime(format!(
            "the API accepted the event but did not return its id: {answer}"
        ))
    })?;
    output::emit(&format!("queued {id}\n"))
}

/// The `--data` text: itself, or the contents of `@FILE` (`@-`: stdin).
fn load_data(flag: &str) -> Result<String, CliError> {
    let Some(source) = flag.strip_prefix('@') else {
        return Ok(flag.to_owned());
    };
    let read = if source == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(PathBuf::from(source))
    };
    read.map_err(|e| CliError::invalid_argument("--data", format!("cannot read {source}: {e}")))
}

/// `--data` must be a JSON object (the API refuses anything else, and saying so before
/// sending names the flag to fix).
fn parse_data(text: &str) -> Result<Map<String, Value>, CliError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(other) => Err(CliError::invalid_argument(
            "--data",
            format!("must be a JSON object, not {}", kind(&other)),
        )),
        Err(e) => Err(CliError::invalid_argument(
            "--data",
            format!("is not valid JSON ({e})"),
        )),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn event_body(
    event_type: &str,
    client_id: &str,
    data: Map<String, Value>,
    id: Option<&str>,
) -> Value {
    let mut body = Map::new();
    if let Some(id) = id {
        body.insert("id".into(), Value::from(id));
    }
    body.insert("type".into(), Value::from(event_type));
    body.insert("client_id".into(), Value::from(client_id));
    body.insert("data".into(), Value::Object(data));
    Value::Object(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn data_must_be_a_json_object() {
        assert_eq!(parse_data(r#"{"a": 1}"#).unwrap()["a"], json!(1));
        let array = parse_data("[1]").unwrap_err();
        assert_eq!(
            array.to_string(),
            "--data: must be a JSON object, not an array"
        );
        let broken = parse_data("{nope").unwrap_err();
        assert!(broken.to_string().starts_with("--data: is not valid JSON"));
        assert_eq!(broken.exit_code(), 2);
    }

    #[test]
    fn data_can_come_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data.json");
        std::fs::write(&file, r#"{"report_id": "r-42"}"#).unwrap();
        let text = load_data(&format!("@{}", file.display())).unwrap();
        assert_eq!(parse_data(&text).unwrap()["report_id"], json!("r-42"));
    }

    #[test]
    fn a_missing_data_file_names_the_flag() {
        let err = load_data("@/nonexistent/webhooks-data.json").unwrap_err();
        assert!(err
            .to_string()
            .starts_with("--data: cannot read /nonexistent/webhooks-data.json"));
    }

    #[test]
    fn the_body_has_the_event_fields_and_the_id_only_when_given() {
        let data = parse_data(r#"{"k": 1}"#).unwrap();
        assert_eq!(
            event_body("report.publish_status", "acme", data.clone(), None),
            json!({"type": "report.publish_status", "client_id": "acme", "data": {"k": 1}})
        );
        assert_eq!(
            event_body("report.publish_status", "acme", data, Some("evt_p1"))["id"],
            json!("evt_p1")
        );
    }
}
