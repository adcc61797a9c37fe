//! Helpers shared by the CLI's integration tests: run the `webhooks` binary with a
//! clean environment and bounded time, read its output line by line, find free ports.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed step panics
#![allow(dead_code)] // each test binary uses a different part of this module

use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader, Lines};
use tokio::process::{Child, Command};

/// No single step of a test waits longer than this.
pub const STEP: Duration = Duration::from_secs(15);

/// `webhooks ARGS...`, not influenced by the caller's `WEBHOOKS_*` variables.
pub fn webhooks<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut command = Command::new(env!("CARGO_BIN_EXE_webhooks"));
    command
        .args(args)
        .env_remove("WEBHOOKS_API")
        .env_remove("WEBHOOKS_API_TOKEN")
        .env_remove("WEBHOOKS_API_AUTH")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Runs a command to its end, within [`STEP`].
pub async fn finish(mut command: Command) -> Output {
    tokio::time::timeout(STEP, command.output())
        .await
        .expect("the webhooks command did not finish in time")
        .expect("the webhooks binary runs")
}

/// A loopback address nothing listens on (bound, then released).
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// Reads a child's output line by line, each read bounded by [`STEP`].
pub struct LineReader<R> {
    lines: Lines<BufReader<R>>,
    /// Everything read so far, for failure messages.
    pub seen: Vec<String>,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    pub fn new(reader: R) -> Self {
        Self {
            lines: BufReader::new(reader).lines(),
            seen: Vec::new(),
        }
    }

    /// What is left to read, past the lines already read.
    pub fn into_inner(self) -> BufReader<R> {
        self.lines.into_inner()
    }

    pub async fn next_line(&mut self) -> String {
        let line = tokio::time::timeout(STEP, self.lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("no output in time; so far: {:#?}", self.seen))
            .expect("output is readable")
            .unwrap_or_else(|| panic!("the output ended; so far: {:#?}", self.seen));
        self.seen.push(line.clone());
        line
    }

    /// Reads until a line satisfies `found`, and returns it.
    pub async fn until(&mut self, found: impl Fn(&str) -> bool) -> String {
        loop {
            let line = self.next_line().await;
            if found(&line) {
                return line;
            }
        }
    }

    /// Reads lines up to (not including) the next empty line.
    pub async fn block(&mut self) -> Vec<String> {
        let mut block = Vec::new();
        loop {
            let line = self.next_line().await;
            if line.is_empty() {
                if block.is_empty() {
                    continue;
                }
                return block;
            }
            block.push(line);
        }
    }
}

/// The address in a `listening on http://ADDR ...` line.
pub fn listening_url(line: &str) -> String {
    let start = line.find("http://").expect("the banner names the URL");
    line[start..].split_whitespace().next().unwrap().to_owned()
}

/// Asks a child to stop as Ctrl-C would, and waits (bounded) for its exit status.
pub async fn interrupt(child: &mut Child) -> std::process::ExitStatus {
    let pid = child.id().expect("the child is running").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    tokio::time::timeout(STEP, child.wait())
        .await
        .expect("the child stops after Ctrl-C")
        .expect("the child's status is readable")
}
