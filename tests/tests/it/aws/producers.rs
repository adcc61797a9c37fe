//! The producers against the emulator: docs/producers.md's Python snippet
//! (examples/produce/python/send_event.py, run with the repository's .venv Python;
//! boto3 comes with moto) and `webhooks send --queue-url`. What each puts on a queue is
//! an event the delivery function accepts. (The Rust snippet is tested in its own
//! crate, examples/produce/rust.)

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use tokio::process::Command;
use webhooks_core::domain::event::Event;
use webhooks_core::domain::ids::EventId;
use webhooks_core::domain::time::Timestamp;
use webhooks_tests::functions;
use webhooks_tests::moto::Moto;

const SNIPPET: &str = "examples/produce/python/send_event.py";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `.venv/bin/python` with `args`, in the repository root, pointed at the emulator
/// with the fixture's credentials and region. Waits at most 60 s.
async fn python(moto: &Moto, args: &[&str], queue_url: &str) -> Output {
    let root = repo_root();
    let python = root.join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `scripts/moto.sh install` (it installs moto and boto3 there)",
        python.display()
    );
    let mut command = Command::new(&python);
    command
        .args(args)
        .current_dir(&root)
        .env("EVENTS_QUEUE_URL", queue_url)
        .env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        // The fixture's region; boto3 reads AWS_DEFAULT_REGION, not AWS_REGION.
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .unwrap_or_else(|_| panic!("python {args:?} did not finish in 60 s"))
        .unwrap_or_else(|e| panic!("run {}: {e}", python.display()))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The stdout of a producer that must have succeeded.
fn stdout_of_success(what: &str, output: &Output) -> String {
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "{what} exited with {}\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        text(&output.stderr)
    );
    stdout
}

/// The queue's only message: its SQS id, and the event the service reads from it
/// (`evt_` + a new ULID standing in for an absent id, as on the service's side).
async fn only_event(moto: &Moto, queue_url: &str) -> (String, Event) {
    let messages = tokio::time::timeout(Duration::from_secs(10), moto.receive(queue_url, 1))
        .await
        .expect("a receive within 10 s");
    assert_eq!(messages.len(), 1, "{messages:?}");
    let message = &messages[0];
    let body = message.body().expect("a body");
    let event = Event::parse(
        body.as_bytes(),
        EventId::generate,
        Timestamp::from_unix_millis(0),
    )
    .unwrap_or_else(|rejection| panic!("the service refuses {body}: {rejection}"));
    assert_eq!(moto.queue_counts(queue_url).await, (0, 0), "nothing else");
    (message.message_id().unwrap_or_default().to_owned(), event)
}

/// The event both producers send in these tests.
fn assert_is_the_published_report(event: &Event) {
    assert_eq!(event.event_type, "report.publish_status");
    assert_eq!(event.client_id, "acme");
    assert_eq!(
        event.data,
        serde_json::json!({"report_id": "r-42", "status": "published"})
    );
}

#[tokio::test]
async fn the_python_snippet_sends_an_event_the_service_accepts() {
    let moto = Moto::connect().await;
    let queue_url = moto.create_queue("events").await;

    let output = python(&moto, &[SNIPPET], &queue_url).await;

    let stdout = stdout_of_success(SNIPPET, &output);
    let (message_id, event) = only_event(&moto, &queue_url).await;
    assert_eq!(stdout.trim(), message_id, "it prints the message id");
    assert_is_the_published_report(&event);
}

#[tokio::test]
async fn the_python_snippet_refuses_an_event_over_256_kib_without_sending() {
    let moto = Moto::connect().await;
    let queue_url = moto.create_queue("events").await;
    let script = r#"
import os, sys
sys.path.insert(0, "examples/produce/python")
from send_event import send_event
try:
    send_event(os.environ["EVENTS_QUEUE_URL"], "report.publish_status", "acme",
               {"blob": "x" * (256 * 1024)})
except ValueError as error:
    print(error)
else:
    sys.exit("no ValueError")
"#;

    let output = python(&moto, &["-c", script], &queue_url).await;

    let stdout = stdout_of_success("the script", &output);
    assert!(stdout.contains("256 KiB"), "{stdout}");
    assert_eq!(moto.queue_counts(&queue_url).await, (0, 0), "nothing sent");
}

/// `webhooks send --queue-url QUEUE args...` against the emulator, with the fixture's
/// credentials and region. Waits at most 60 s.
async fn webhooks_send(moto: &Moto, queue_url: &str, args: &[&str]) -> Output {
    let mut command = Command::new(functions::binary("webhooks"));
    command
        .arg("send")
        .args(["--queue-url", queue_url])
        .args(args)
        .env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("WEBHOOKS_API")
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("webhooks send finished within 60 s")
        .expect("webhooks runs")
}

#[tokio::test]
async fn webhooks_send_puts_an_event_the_service_accepts_on_the_queue() {
    // Given an events queue
    let moto = Moto::connect().await;
    let queue_url = moto.create_queue("events").await;

    // When the CLI sends an event to it
    let output = webhooks_send(
        &moto,
        &queue_url,
        &[
            "--type",
            "report.publish_status",
            "--client",
            "acme",
            "--data",
            r#"{"report_id": "r-42", "status": "published"}"#,
        ],
    )
    .await;

    // Then the queue holds that event, as the service reads it, under the id printed
    // (an id the service had to make up would not match) and with the send time
    let stdout = stdout_of_success("webhooks send", &output);
    let (_, event) = only_event(&moto, &queue_url).await;
    assert_eq!(stdout.trim(), format!("queued {}", event.id));
    assert_is_the_published_report(&event);
    assert!(
        event.occurred_at > Timestamp::from_unix_millis(0),
        "the send time"
    );
}

#[tokio::test]
async fn webhooks_send_refuses_an_unknown_type_without_sending() {
    // Given an events queue
    let moto = Moto::connect().await;
    let queue_url = moto.create_queue("events").await;

    // When the CLI is asked to send an event of a type the service does not know
    let output = webhooks_send(
        &moto,
        &queue_url,
        &["--type", "report.unknown", "--client", "acme"],
    )
    .await;

    // Then it says which flag is wrong in one line, exits 2 and sends nothing
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr:\n{stderr}");
    assert!(
        stderr.starts_with("error: --type: unknown event type \"report.unknown\""),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert_eq!(moto.queue_counts(&queue_url).await, (0, 0), "nothing sent");
}
