//! The AWS side of `make bench`: the four Lambda functions' release binaries run as
//! processes against the fake runtime API of `webhooks-tests` and the moto emulator
//! (`scripts/moto.sh run`), on a stack of their own (tables, queues, a secret prefix).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};
use webhooks_tests::moto::Moto;
use webhooks_tests::runtime_api::{lambda_env, RuntimeApi};

use crate::Result;

/// The four functions, as `webhooks-<name>` binaries and Lambda function names.
pub const FUNCTIONS: [&str; 4] = ["api", "test-connection", "delivery", "log-writer"];

/// The variable `scripts/moto.sh run` sets to moto's process id (for its CPU time).
pub const MOTO_PID_VAR: &str = "MOTO_PID";

/// What every function of one benchmark is configured with: the emulator and the
/// resources they read and write.
pub struct Stack {
    pub moto: Moto,
    /// Moto's process, when `scripts/moto.sh` said which it is.
    pub moto_pid: Option<u32>,
    pub webhooks_table: String,
    pub logs_table: String,
    pub retry_queue: String,
    pub logs_queue: String,
    pub events_dlq: String,
    pub logs_dlq: String,
    pub secret_prefix: String,
}

impl Stack {
    /// Connects to the emulator named by `AWS_ENDPOINT_URL` and creates the tables,
    /// queues and secret prefix.
    pub async fn create() -> Result<Stack> {
        if std::env::var_os("AWS_ENDPOINT_URL").is_none_or(|v| v.is_empty()) {
            return Err("AWS_ENDPOINT_URL is not set: run the AWS part under \
                        `scripts/moto.sh run -- ...` (scripts/bench.sh does)"
                .into());
        }
        let moto = Moto::connect().await;
        let moto_pid = std::env::var(MOTO_PID_VAR)
            .ok()
            .and_then(|pid| pid.trim().parse().ok());
        Ok(Stack {
            webhooks_table: moto.create_webhooks_table().await,
            logs_table: moto.create_delivery_logs_table().await,
            retry_queue: moto.create_queue("bench-retry").await,
            logs_queue: moto.create_queue("bench-logs").await,
            events_dlq: moto.create_queue("bench-events-dlq").await,
            logs_dlq: moto.create_queue("bench-logs-dlq").await,
            secret_prefix: moto.secret_prefix(),
            moto,
            moto_pid,
        })
    }

    /// The configuration of every function at once (each reads what it needs), with
    /// loopback receivers allowed over plain HTTP.
    pub fn env(&self) -> Vec<(String, String)> {
        self.env_via(&self.moto.endpoint)
    }

    /// [`Stack::env`], with the AWS requests sent to `endpoint` (a
    /// [`CountingProxy`](crate::aws_requests::CountingProxy) in front of the emulator).
    pub fn env_via(&self, endpoint: &str) -> Vec<(String, String)> {
        [
            ("WEBHOOKS_TABLE", self.webhooks_table.as_str()),
            ("DELIVERY_LOGS_TABLE", &self.logs_table),
            ("RETRY_QUEUE_URL", &self.retry_queue),
            ("LOGS_QUEUE_URL", &self.logs_queue),
            ("EVENTS_DLQ_URL", &self.events_dlq),
            ("LOGS_DLQ_URL", &self.logs_dlq),
            ("METRICS_STACK", "webhooks-bench"),
            ("SECRET_PREFIX", &self.secret_prefix),
            ("WEBHOOKS_ALLOW_NETS", "127.0.0.0/8"),
            ("WEBHOOKS_REQUIRE_HTTPS", "false"),
            ("AWS_ENDPOINT_URL", endpoint),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }
}

/// `DIR/webhooks-<name>`, which must exist.
pub fn binary(dir: &Path, name: &str) -> Result<PathBuf> {
    let path = dir.join(format!("webhooks-{name}"));
    if !path.is_file() {
        return Err(format!(
            "{} not found; build the functions first (make bench builds them)",
            path.display()
        )
        .into());
    }
    Ok(path)
}

/// One function process, polling a runtime API of its own; killed when dropped.
pub struct FunctionProcess {
    child: Child,
    pub pid: u32,
    pub api: RuntimeApi,
    /// Just before the spawn.
    pub spawned: Instant,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl FunctionProcess {
    /// Spawns `binary` as the Lambda function `name` with `env`; stdout and stderr go
    /// to a file, shown when something goes wrong.
    pub async fn spawn(binary: &Path, name: &str, env: &[(String, String)]) -> Result<Self> {
        let api = RuntimeApi::start().await;
        let dir = tempfile::tempdir()?;
        let log = dir.path().join("function.log");
        let out = std::fs::File::create(&log)?;
        let err = out.try_clone()?;
        let mut command = Command::new(binary);
        command
            .env_remove("AWS_PROFILE")
            .env_remove("RUST_LOG")
            .envs(lambda_env(&api, name))
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true);
        let spawned = Instant::now();
        let child = command
            .spawn()
            .map_err(|e| format!("starting {}: {e}", binary.display()))?;
        let pid = child.id().ok_or("the function exited at once")?;
        Ok(FunctionProcess {
            child,
            pid,
            api,
            spawned,
            log,
            _dir: dir,
        })
    }

    /// Waits for the function's first request for work; returns the time from the
    /// spawn to that request (as the runtime API saw it).
    pub async fn wait_init(&mut self, patience: Duration) -> Result<Duration> {
        loop {
            if let Some(at) = self.api.first_poll() {
                return Ok(at.saturating_duration_since(self.spawned));
            }
            if let Some(error) = self.api.init_error() {
                return Err(format!("init error: {error}; output: {}", self.output()).into());
            }
            if let Some(status) = self.child.try_wait()? {
                return Err(
                    format!("the function exited ({status}); output: {}", self.output()).into(),
                );
            }
            if self.spawned.elapsed() > patience {
                return Err(format!(
                    "no request for work within {patience:?}; output: {}",
                    self.output()
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// What the function printed (the last 4 KiB).
    pub fn output(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let mut start = text.len().saturating_sub(4096);
        while !text.is_char_boundary(start) {
            start += 1;
        }
        text[start..].to_owned()
    }

    /// The sum of the metric `name` over the EMF lines (CloudWatch embedded metric
    /// format, on stdout) whose `Outcome` is `outcome`, printed so far.
    pub fn emf_count(&self, name: &str, outcome: &str) -> u64 {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .filter(|line| line.starts_with('{') && line.contains("\"_aws\""))
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|metrics| metrics["Outcome"] == outcome)
            .filter_map(|metrics| metrics[name].as_u64())
            .sum()
    }

    pub async fn stop(mut self) -> Result<()> {
        self.child.kill().await?;
        Ok(())
    }
}

/// The whole AWS part of the report.
#[derive(Clone, Debug)]
pub struct AwsResults {
    pub delivery: crate::aws_delivery::DeliveryResults,
    /// The function's AWS requests per delivery, by fan-out.
    pub requests: Vec<crate::aws_cost::RequestsRun>,
    pub functions: Vec<crate::lambda_init::FunctionInit>,
    /// Fan-out's DynamoDB reads per event, before and after the subscription backfill.
    pub fanout: Vec<crate::fanout_reads::FanoutReads>,
    /// Spawns per function for the init times.
    pub init_spawns: usize,
    /// Wall time of the AWS part, set-up included.
    pub took_secs: f64,
}

/// Fan-out reads measured per table and read path.
const FANOUT_EVENTS: u32 = 20;

/// Creates the stack on moto, runs the delivery benchmark (`processes` processes, one
/// cold and `warm` warm invocations each), then measures every function's binary and
/// init (`spawns` spawns each).
pub async fn measure(
    functions: &Path,
    receiver: &crate::system::Receiver,
    processes: usize,
    warm: usize,
    spawns: usize,
) -> Result<AwsResults> {
    let started = Instant::now();
    for name in FUNCTIONS {
        binary(functions, name)?;
    }
    let stack = Stack::create().await?;
    crate::aws_delivery::create_webhooks(&stack, receiver.addr, crate::aws_delivery::FAN_OUT)
        .await?;
    let delivery = crate::aws_delivery::run(functions, &stack, receiver, processes, warm).await?;
    let requests = crate::aws_cost::measure(functions, receiver).await?;
    let functions = crate::lambda_init::measure(functions, &stack, spawns).await?;
    let fanout = crate::fanout_reads::run(crate::fanout_reads::TABLE_SIZES, FANOUT_EVENTS).await?;
    Ok(AwsResults {
        delivery,
        requests,
        functions,
        fanout,
        init_spawns: spawns,
        took_secs: started.elapsed().as_secs_f64(),
    })
}
