//! `webhooks dlq list` and `webhooks dlq redrive` against the emulator: a DLQ holding
//! refused bodies (written by the service's own `SqsDeadLetters`, with its `reason`
//! attribute) and messages SQS moved there, beside the source queue whose redrive
//! policy names it.

use std::process::Output;
use std::time::Duration;

use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName};
use serde_json::Value;
use tokio::process::Command;
use webhooks_aws::{SqsDeadLetters, REASON_ATTRIBUTE};
use webhooks_core::ports::DeadLetters;
use webhooks_tests::functions;
use webhooks_tests::moto::{unique, Moto};

const REFUSED_BODY: &str = "{\"type\": \"report.publish_status\", \"client_id\": ";
const REFUSED_REASON: &str = "not valid JSON: EOF while parsing an object";
const PLAIN_BODY: &str =
    "{\"type\": \"report.publish_status\", \"client_id\": \"acme\", \"data\": {}}";

/// A source queue whose redrive policy names a new DLQ: (source URL, DLQ URL).
async fn source_and_dlq(moto: &Moto) -> (String, String) {
    let dlq = moto.create_queue("dlq").await;
    let arn = moto.queue_arn(&dlq).await;
    let policy = serde_json::json!({"deadLetterTargetArn": arn, "maxReceiveCount": "5"});
    let source = moto
        .clients
        .sqs
        .create_queue()
        .queue_name(unique("events"))
        .attributes(QueueAttributeName::RedrivePolicy, policy.to_string())
        .send()
        .await
        .expect("create the source queue")
        .queue_url
        .expect("a queue URL");
    (source, dlq)
}

/// Puts a refused body (as the delivery function does) and a plain message with a
/// `trace` attribute (as SQS moves one after five receives) on `dlq`.
async fn fill(moto: &Moto, dlq: &str) {
    SqsDeadLetters::new(moto.clients.sqs.clone(), dlq)
        .reject(REFUSED_BODY, REFUSED_REASON)
        .await
        .expect("a refused body in the DLQ");
    let trace = MessageAttributeValue::builder()
        .data_type("String")
        .string_value("t-42")
        .build()
        .expect("an attribute");
    moto.clients
        .sqs
        .send_message()
        .queue_url(dlq)
        .message_body(PLAIN_BODY)
        .message_attributes("trace", trace)
        .send()
        .await
        .expect("a plain message in the DLQ");
}

/// `webhooks dlq ARGS...` against the emulator, within 60 s.
async fn webhooks_dlq(moto: &Moto, args: &[&str]) -> Output {
    let mut command = Command::new(functions::binary("webhooks"));
    command
        .arg("dlq")
        .args(args)
        .env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("webhooks dlq finished within 60 s")
        .expect("webhooks runs")
}

fn stdout_of_success(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "exit {}\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test]
async fn list_shows_each_message_with_its_reason_and_removes_none() {
    // GIVEN a DLQ with a refused body and a plain message
    let moto = Moto::connect().await;
    let (_, dlq) = source_and_dlq(&moto).await;
    fill(&moto, &dlq).await;

    // WHEN it is listed, as text and as JSON
    let text = stdout_of_success(&webhooks_dlq(&moto, &["list", "--queue-url", &dlq]).await);
    let json =
        stdout_of_success(&webhooks_dlq(&moto, &["list", "--queue-url", &dlq, "--json"]).await);

    // THEN each message is a line, the refused one with its reason
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let refused = lines
        .iter()
        .find(|l| l.contains("reason: "))
        .expect("a line with a reason");
    assert!(
        refused.contains(&format!("reason: {REFUSED_REASON}")),
        "{refused}"
    );
    assert!(refused.contains("receives 1"), "{refused}");
    let objects: Vec<Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), 2, "{json}");
    let reasons: Vec<&Value> = objects.iter().map(|o| &o["reason"]).collect();
    assert!(reasons.contains(&&Value::from(REFUSED_REASON)), "{json}");
    assert!(reasons.contains(&&Value::Null), "{json}");
    // AND both messages are still there, visible
    assert_eq!(moto.queue_counts(&dlq).await, (2, 0));
}

#[tokio::test]
async fn redrive_moves_plain_messages_to_the_source_and_leaves_refused_ones() {
    // GIVEN a DLQ with a refused body and a plain message, and its source queue
    let moto = Moto::connect().await;
    let (source, dlq) = source_and_dlq(&moto).await;
    fill(&moto, &dlq).await;

    // WHEN it is redriven, the source found from the redrive policy
    let output = webhooks_dlq(&moto, &["redrive", "--queue-url", &dlq]).await;

    // THEN it says one moved and one was skipped
    let stdout = stdout_of_success(&output);
    assert!(
        stdout.starts_with(&format!("moved 1 to {source}, skipped 1 refused")),
        "{stdout}"
    );
    // AND the source holds the plain message with its attribute, the DLQ the refused one
    let moved = moto.receive_all(&source).await;
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert_eq!(moved[0].body(), Some(PLAIN_BODY));
    let attributes = moved[0].message_attributes().expect("attributes");
    assert_eq!(attributes["trace"].string_value(), Some("t-42"));
    let left = moto.receive_all(&dlq).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].body(), Some(REFUSED_BODY));
}

#[tokio::test]
async fn redrive_with_include_refused_moves_them_too_without_their_reason() {
    // GIVEN a DLQ with a refused body and a plain message
    let moto = Moto::connect().await;
    let (source, dlq) = source_and_dlq(&moto).await;
    fill(&moto, &dlq).await;

    // WHEN it is redriven with --include-refused and --json
    let output = webhooks_dlq(
        &moto,
        &[
            "redrive",
            "--queue-url",
            &dlq,
            "--include-refused",
            "--json",
        ],
    )
    .await;

    // THEN the counts are one object: both moved, none skipped
    let report: Value = serde_json::from_str(stdout_of_success(&output).trim()).unwrap();
    assert_eq!(
        report,
        serde_json::json!({"source": source, "moved": 2, "skipped": 0, "failed": 0,
                           "not_deleted": 0, "complete": true})
    );
    // AND the source holds both, neither with a reason; the DLQ is empty
    let moved = moto.receive_all(&source).await;
    assert_eq!(moved.len(), 2, "{moved:?}");
    for message in &moved {
        let attributes = message.message_attributes();
        assert!(
            attributes.is_none_or(|a| !a.contains_key(REASON_ATTRIBUTE)),
            "{message:?}"
        );
    }
    assert_eq!(moto.queue_counts(&dlq).await, (0, 0));
}

#[tokio::test]
async fn redrive_to_sends_to_the_queue_given_and_without_it_a_dlq_with_no_source_fails() {
    // GIVEN a DLQ no queue's redrive policy names, and another queue
    let moto = Moto::connect().await;
    let dlq = moto.create_queue("dlq").await;
    let other = moto.create_queue("other").await;
    fill(&moto, &dlq).await;

    // WHEN it is redriven without --to, then with --to
    let without = webhooks_dlq(&moto, &["redrive", "--queue-url", &dlq]).await;
    let with_to = webhooks_dlq(&moto, &["redrive", "--queue-url", &dlq, "--to", &other]).await;

    // THEN the first says to give --to (exit 1) and moves nothing; the second moves
    // the plain message to the other queue
    let stderr = String::from_utf8_lossy(&without.stderr);
    assert_eq!(without.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("give --to URL"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    let stdout = stdout_of_success(&with_to);
    assert!(
        stdout.starts_with(&format!("moved 1 to {other}")),
        "{stdout}"
    );
    assert_eq!(moto.queue_counts(&other).await, (1, 0));
    assert_eq!(
        moto.queue_counts(&dlq).await,
        (1, 0),
        "the refused one stays"
    );
}
