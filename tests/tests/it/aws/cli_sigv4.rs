//! The CLI's `--auth sigv4` against an independent verifier: a loopback server
//! (`tests/sigv4/verify_server.py`, run with the repository's .venv Python, where
//! botocore comes with moto) that recomputes each request's signature with botocore's
//! `SigV4Auth` and the same fixed test credentials, and refuses any mismatch with 403.
//! No emulator is needed, only the venv `scripts/moto.sh install` makes.

use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use webhooks_tests::functions;

const VERIFIER: &str = "tests/sigv4/verify_server.py";
const ACCESS_KEY: &str = "AKIDEXAMPLETESTONLY";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYTESTONLY";
const SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLE/test+token==";
const REGION: &str = "eu-west-1";
const STEP: Duration = Duration::from_secs(30);

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The verifier, running; killed when dropped.
struct Verifier {
    api: String,
    lines: Lines<BufReader<ChildStdout>>,
    _child: Child,
}

impl Verifier {
    /// Starts the verifier expecting the test credentials (and `session_token`).
    async fn start(session_token: Option<&str>) -> Self {
        let python = repo_root().join(".venv/bin/python");
        assert!(
            python.exists(),
            "{} is missing: run `scripts/moto.sh install` (it installs moto and botocore there)",
            python.display()
        );
        let mut command = Command::new(&python);
        command
            .arg(VERIFIER)
            .current_dir(repo_root())
            .env("VERIFY_ACCESS_KEY", ACCESS_KEY)
            .env("VERIFY_SECRET_KEY", SECRET_KEY)
            .env("VERIFY_SESSION_TOKEN", session_token.unwrap_or_default())
            .env("VERIFY_REGION", REGION)
            .env("VERIFY_SERVICE", "execute-api")
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().expect("the verifier starts");
        let stdout = child.stdout.take().expect("the verifier's stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(STEP, lines.next_line())
            .await
            .expect("the verifier listens within 30 s")
            .expect("the verifier's first line")
            .expect("the verifier prints its port");
        let port = first
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
        Self {
            api: format!("http://127.0.0.1:{port}"),
            lines,
            _child: child,
        }
    }

    /// The verifier's record of the next request it checked.
    async fn next_request(&mut self) -> Value {
        let line = tokio::time::timeout(STEP, self.lines.next_line())
            .await
            .expect("a request within 30 s")
            .expect("the verifier's output")
            .expect("a line per request");
        serde_json::from_str(&line).expect("a JSON line")
    }
}

/// `webhooks ARGS` with the fixed test credentials (`session_token` too, when given)
/// and no other source of AWS settings: no profile files, no instance metadata (the
/// test reaches nothing but loopback).
fn webhooks(args: &[&str], credentials: bool, session_token: Option<&str>) -> Command {
    let mut command = Command::new(functions::binary("webhooks"));
    command
        .args(args)
        .env_remove("WEBHOOKS_API")
        .env_remove("WEBHOOKS_API_TOKEN")
        .env_remove("WEBHOOKS_API_AUTH")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    if credentials {
        command
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY);
    }
    if let Some(token) = session_token {
        command.env("AWS_SESSION_TOKEN", token);
    }
    command
}

/// Runs a command to its end, within [`STEP`].
async fn finish(mut command: Command) -> Output {
    tokio::time::timeout(STEP, command.output())
        .await
        .expect("webhooks finished within 30 s")
        .expect("webhooks runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_success(output: &Output) -> String {
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "exit {}\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        text(&output.stderr)
    );
    stdout
}

#[tokio::test]
async fn logs_signs_its_get_and_query_so_that_botocore_verifies_it() {
    // GIVEN a SigV4 verifier and the test credentials
    let mut verifier = Verifier::start(None).await;

    // WHEN `webhooks logs` calls it with --auth sigv4 and an explicit region
    let output = finish(webhooks(
        &[
            "logs",
            "wh_1",
            "--outcome",
            "failed",
            "--api",
            &verifier.api,
            "--auth",
            "sigv4",
            "--region",
            REGION,
        ],
        true,
        None,
    ))
    .await;

    // THEN botocore's signature matched the CLI's, query string included
    assert_success(&output);
    let request = verifier.next_request().await;
    assert_eq!(request["verified"], true, "{request}");
    assert_eq!(request["method"], "GET");
    assert_eq!(
        request["target"],
        "/webhooks/wh_1/logs?limit=50&outcome=failed"
    );
}

#[tokio::test]
async fn send_signs_its_body_and_the_session_token() {
    // GIVEN a verifier expecting temporary credentials
    let mut verifier = Verifier::start(Some(SESSION_TOKEN)).await;

    // WHEN `webhooks send --api` posts an event with SigV4 and a session token
    let output = finish(webhooks(
        &[
            "send",
            "--type",
            "report.publish_status",
            "--client",
            "acme",
            "--data",
            r#"{"report_id": "r 42/ü"}"#,
            "--api",
            &verifier.api,
            "--auth",
            "sigv4",
            "--region",
            REGION,
        ],
        true,
        Some(SESSION_TOKEN),
    ))
    .await;

    // THEN the signature over the body verified and X-Amz-Security-Token was sent signed
    assert_eq!(assert_success(&output).trim(), "queued evt_signed");
    let request = verifier.next_request().await;
    assert_eq!(request["verified"], true, "{request}");
    assert_eq!(request["security_token"], true);
    assert!(
        request["body"].as_str().unwrap().contains("r 42/ü"),
        "{request}"
    );
}

#[tokio::test]
async fn test_signs_its_post_with_the_mode_and_region_from_the_environment() {
    // GIVEN a verifier
    let mut verifier = Verifier::start(None).await;

    // WHEN `webhooks test` asks for a connection test, SigV4 chosen by
    // WEBHOOKS_API_AUTH and the region by AWS_REGION
    let mut command = webhooks(
        &["test", "https://receiver.example/", "--api", &verifier.api],
        true,
        None,
    );
    command
        .env("WEBHOOKS_API_AUTH", "sigv4")
        .env("AWS_REGION", REGION);
    let output = finish(command).await;

    // THEN it verified
    assert_success(&output);
    let request = verifier.next_request().await;
    assert_eq!(request["verified"], true, "{request}");
    assert_eq!(request["target"], "/webhooks/test");
}

#[tokio::test]
async fn a_signature_for_another_region_is_refused_with_one_line_and_exit_1() {
    // GIVEN a verifier for eu-west-1
    let mut verifier = Verifier::start(None).await;
    let args = [
        "logs",
        "wh_1",
        "--api",
        &verifier.api,
        "--auth",
        "sigv4",
        "--region",
        "us-east-1",
    ];

    // WHEN the CLI signs for us-east-1
    let output = finish(webhooks(&args, true, None)).await;

    // THEN the verifier refused it and the CLI says so on one line, exit 1
    let request = verifier.next_request().await;
    assert_eq!(request["verified"], false, "{request}");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("error: Forbidden (403): "), "{stderr}");
    assert!(stderr.contains("check the AWS credentials"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

#[tokio::test]
async fn sigv4_without_credentials_is_one_line_and_exit_1_before_any_request() {
    // GIVEN no AWS credentials anywhere
    let verifier = Verifier::start(None).await;

    // WHEN SigV4 is asked for
    let output = finish(webhooks(
        &[
            "logs",
            "wh_1",
            "--api",
            &verifier.api,
            "--auth",
            "sigv4",
            "--region",
            REGION,
        ],
        false,
        None,
    ))
    .await;

    // THEN one line says so and the exit code is 1
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: --auth sigv4: no AWS credentials found"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

#[tokio::test]
async fn a_bad_auth_value_or_a_missing_region_is_one_line_and_exit_2() {
    // GIVEN the test credentials, WHEN --auth is not a mode, or SigV4 has no region
    let bad_auth = finish(webhooks(
        &[
            "logs",
            "wh_1",
            "--api",
            "http://127.0.0.1:9",
            "--auth",
            "iam",
        ],
        true,
        None,
    ))
    .await;
    let no_region = finish(webhooks(
        &[
            "logs",
            "wh_1",
            "--api",
            "http://127.0.0.1:9",
            "--auth",
            "sigv4",
        ],
        true,
        None,
    ))
    .await;

    // THEN each is a one-line usage error naming its flag
    for (output, start) in [
        (
            &bad_auth,
            "error: --auth: \"iam\" is not one of sigv4, bearer, none",
        ),
        (&no_region, "error: --region: "),
    ] {
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.starts_with(start), "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    }
}
