//! Runs a Lambda function's real binary against the fake runtime API and the moto
//! emulator: the bootstrap's wiring (environment, clients, handler) is what runs.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::process::{Child, Command};

use crate::moto::Moto;
use crate::runtime_api::{lambda_env, Answer, RuntimeApi};

/// The longest a test waits for one invocation.
pub const INVOCATION: Duration = Duration::from_secs(30);

/// `target/<profile>/<name>`, next to the test binary's `deps/` directory.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the functions first (`cargo build --workspace`; `make test` does)",
        path.display()
    );
    path
}

/// A running function process.
pub struct Function {
    pub runtime: RuntimeApi,
    // Killed when the test drops the function.
    _child: Child,
}

impl Function {
    /// Starts `webhooks-<name>` with `env` (its configuration) and the emulator's
    /// endpoint and dummy credentials.
    pub async fn start(name: &str, env: &[(&str, &str)], moto: &Moto) -> Function {
        let runtime = RuntimeApi::start().await;
        let mut command = command(name, &runtime, env, moto);
        command.stdout(Stdio::null()).stderr(Stdio::null());
        let child = command.spawn().expect("the function's binary starts");
        Function {
            runtime,
            _child: child,
        }
    }

    /// Invokes the function with `event` and returns its response; panics on an
    /// error answer or none in time.
    pub async fn invoke(&self, event: Value) -> Value {
        let id = self.runtime.invoke(event, INVOCATION);
        match self.runtime.answer(&id, INVOCATION).await {
            Some(Answer::Response(response)) => response,
            Some(Answer::Error(error)) => panic!("the function answered an error: {error}"),
            None => panic!(
                "no answer in time (init error: {:?})",
                self.runtime.init_error()
            ),
        }
    }
}

/// Runs `webhooks-<name>` with `env` until it exits by itself (bounded): its status
/// code and everything it printed. For start-up failures.
pub async fn run_to_exit(name: &str, env: &[(&str, &str)], moto: &Moto) -> (Option<i32>, String) {
    let runtime = RuntimeApi::start().await;
    let mut command = command(name, &runtime, env, moto);
    let output = tokio::time::timeout(INVOCATION, command.output())
        .await
        .expect("the function exits by itself")
        .expect("the function's binary runs");
    let mut printed = String::from_utf8_lossy(&output.stdout).into_owned();
    printed.push_str(&String::from_utf8_lossy(&output.stderr));
    assert!(
        runtime.first_poll().is_none(),
        "it asked for work: {printed}"
    );
    (output.status.code(), printed)
}

/// `webhooks-<name>` with the Lambda environment pointed at `runtime`, the emulator's
/// endpoint and dummy credentials, and `env` (the function's configuration).
fn command(name: &str, runtime: &RuntimeApi, env: &[(&str, &str)], moto: &Moto) -> Command {
    let mut command = Command::new(binary(&format!("webhooks-{name}")));
    command
        .env_remove("AWS_PROFILE")
        .env_remove("RUST_LOG")
        .envs(lambda_env(runtime, name))
        .env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().map(|(k, v)| (*k, *v)))
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

/// An SQS event as the event source mapping of queue `queue` (its name) hands it to a
/// function: one record per body, `m-{n}` / `r-{n}` its message id and receipt, first
/// received.
pub fn sqs_batch(queue: &str, bodies: &[String]) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(n, body)| {
            serde_json::json!({
                "messageId": format!("m-{n}"),
                "receiptHandle": format!("r-{n}"),
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795867200000"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": format!("arn:aws:sqs:us-east-1:123456789012:{queue}"),
                "awsRegion": "us-east-1",
            })
        })
        .collect();
    serde_json::json!({ "Records": records })
}

/// A fixture from `tests/fixtures/`, with placeholders (`{{NAME}}`, always inside a
/// JSON string) replaced by JSON-escaped values.
pub fn fixture(path: &str, replacements: &[(&str, &str)]) -> Value {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path);
    let mut text =
        std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    for (placeholder, value) in replacements {
        let escaped = serde_json::to_string(value).expect("a string");
        text = text.replace(placeholder, &escaped[1..escaped.len() - 1]);
    }
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// An API Gateway v2 (payload 2.0) response: status, headers, body as JSON (Null when empty).
pub fn http_answer(response: &Value) -> (u16, Value, Value) {
    let status = response["statusCode"].as_u64().unwrap_or(0) as u16;
    let body = response["body"].as_str().unwrap_or("");
    let json = serde_json::from_str(body).unwrap_or(Value::Null);
    (status, response["headers"].clone(), json)
}
