//! The delivery function on the AWS adapters against moto: the real `webhooks-delivery`
//! release binary, driven through the fake runtime API, gets one SQS batch of
//! [`BATCH_EVENTS`] events whose type has [`FAN_OUT`] enabled, signed webhooks in
//! DynamoDB (secrets in Secrets Manager) pointing at the loopback receiver. Timed from
//! the invocation handed out until the receiver holds every delivery and the
//! invocation is answered; the function's own metrics (EMF lines on stdout) must
//! count every delivery as succeeded.
//!
//! Each process gets a first (cold) invocation — its secrets cache is empty — then
//! warm ones; the two are reported apart.

use std::time::{Duration, Instant};

use aws_sdk_sqs::error::DisplayErrorContext;
use serde_json::{json, Value};
use webhooks_aws::{DynamoWebhookStore, SecretsManagerStore};
use webhooks_core::domain::ids::{EventId, WebhookId};
use webhooks_core::domain::time::{Clock, SystemClock};
use webhooks_core::domain::webhook::{ClientScope, Webhook};
use webhooks_core::ports::{SecretWriter, WebhookRegistry};
use webhooks_tests::functions::fixture;
use webhooks_tests::runtime_api::Answer;

use crate::fixtures::{CLIENT, EVENT_TYPE, SECRET};
use crate::http::Conn;
use crate::lambda::{binary, FunctionProcess, Stack};
use crate::proc::{cpu_time, peak_rss_kib};
use crate::stats;
use crate::system::Receiver;
use crate::Result;

/// Events per SQS batch (the event source mapping's batch size on AWS).
pub const BATCH_EVENTS: usize = 10;
/// Enabled webhooks of the batch's event type.
pub const FAN_OUT: usize = 100;
/// The invocation's deadline, as Lambda's timeout would set it.
const BUDGET: Duration = Duration::from_secs(300);
/// The longest the driver waits for one batch.
const PATIENCE: Duration = Duration::from_secs(300);
/// How often the logs queue is emptied while a batch runs.
const PURGE_EVERY: Duration = Duration::from_millis(50);
/// How long deliveries may trail the invocation's answer.
const GRACE: Duration = Duration::from_secs(10);

/// One invocation.
#[derive(Clone, Copy, Debug)]
pub struct BatchRun {
    pub deliveries: u64,
    /// Invocation handed out → every delivery received and the invocation answered.
    pub wall: Duration,
    /// The function process's user + system time over the invocation.
    pub function_cpu: Duration,
    /// Moto's user + system time over the invocation, when its pid is known.
    pub moto_cpu: Option<Duration>,
    /// The function's peak RSS (`VmHWM`) so far, after the invocation.
    pub peak_rss_kib: Option<u64>,
    /// Deliveries the receiver saw more than once.
    pub duplicates: u64,
}

impl BatchRun {
    pub fn wall_ms(&self) -> f64 {
        self.wall.as_secs_f64() * 1e3
    }

    pub fn rate(&self) -> f64 {
        stats::per_second(self.deliveries, self.wall)
    }

    pub fn function_cpu_ms(&self) -> f64 {
        self.function_cpu.as_secs_f64() * 1e3
    }

    pub fn function_cpu_us_per_delivery(&self) -> f64 {
        stats::micros_each(self.function_cpu, self.deliveries)
    }

    /// NaN when moto's CPU was not measured.
    pub fn moto_cpu_ms(&self) -> f64 {
        self.moto_cpu
            .map_or(f64::NAN, |cpu| cpu.as_secs_f64() * 1e3)
    }

    pub fn peak_rss_mib(&self) -> f64 {
        self.peak_rss_kib
            .map_or(f64::NAN, |kib| kib as f64 / 1024.0)
    }
}

/// Every invocation, cold and warm, and the init of each process.
#[derive(Clone, Debug, Default)]
pub struct DeliveryResults {
    pub cold: Vec<BatchRun>,
    pub warm: Vec<BatchRun>,
    /// Spawn → first request for work, per process.
    pub init: Vec<Duration>,
    /// Whether moto's CPU was measured (`MOTO_PID` set).
    pub moto_measured: bool,
}

/// Puts `count` webhooks ([`FAN_OUT`] in the delivery benchmark) in the stack's table,
/// each with [`SECRET`].
pub async fn create_webhooks(
    stack: &Stack,
    receiver: std::net::SocketAddr,
    count: usize,
) -> Result<()> {
    for i in 0..count {
        put_webhook(
            stack,
            &format!("bench {i}"),
            &format!("http://{receiver}/hook/{i}"),
        )
        .await?;
    }
    Ok(())
}

/// Puts one enabled webhook of [`EVENT_TYPE`] for all clients in the stack's table,
/// with [`SECRET`] in Secrets Manager.
pub async fn put_webhook(stack: &Stack, name: &str, url: &str) -> Result<()> {
    let webhooks =
        DynamoWebhookStore::new(stack.moto.clients.dynamodb.clone(), &stack.webhooks_table);
    let secrets =
        SecretsManagerStore::new(stack.moto.clients.secrets.clone(), &stack.secret_prefix);
    let now = SystemClock.now();
    let id = WebhookId::generate();
    let secret_ref = secrets
        .put(&id, SECRET, now)
        .await
        .map_err(|e| format!("storing a secret in moto: {e}"))?;
    let webhook = Webhook {
        id,
        name: name.to_owned(),
        url: url.to_owned(),
        event: EVENT_TYPE.to_owned(),
        clients: ClientScope::all(),
        enabled: true,
        secret_ref: Some(secret_ref),
        disabled_reason: None,
        version: 1,
        created_at: now,
        updated_at: now,
        failing_since: None,
        rate_limit_per_second: None,
        header_names: Vec::new(),
    };
    webhooks
        .insert(&webhook)
        .await
        .map_err(|e| format!("putting a webhook in moto: {e}"))?;
    Ok(())
}

/// An SQS event of [`BATCH_EVENTS`] new events, shaped like `tests/fixtures/sqs/event.json`.
pub fn batch() -> Value {
    json!({ "Records": event_records(0..BATCH_EVENTS) })
}

/// SQS records of new events, one per number `k` (its `data.report_id` is `r-k`),
/// shaped like those of `tests/fixtures/sqs/event.json`.
pub fn event_records(numbers: impl IntoIterator<Item = usize>) -> Vec<Value> {
    let template = fixture("sqs/event.json", &[])["Records"][0].clone();
    let sent = SystemClock.now().unix_millis().to_string();
    numbers
        .into_iter()
        .map(|k| {
            let event_id = EventId::generate();
            let message_id = format!("bench-{}-{k}", event_id.as_str());
            let mut record = template.clone();
            record["messageId"] = json!(message_id);
            record["receiptHandle"] = json!(format!("receipt-{message_id}"));
            record["body"] = json!(json!({
                "id": event_id.as_str(),
                "type": EVENT_TYPE,
                "client_id": CLIENT,
                "data": {"report_id": format!("r-{k:06}"), "status": "published"},
            })
            .to_string());
            record["attributes"]["SentTimestamp"] = json!(sent);
            record["attributes"]["ApproximateFirstReceiveTimestamp"] = json!(sent);
            record
        })
        .collect()
}

/// `processes` delivery processes, each with one cold invocation and `warm` warm ones.
pub async fn run(
    functions: &std::path::Path,
    stack: &Stack,
    receiver: &Receiver,
    processes: usize,
    warm: usize,
) -> Result<DeliveryResults> {
    let path = binary(functions, "delivery")?;
    let env = stack.env();
    let mut results = DeliveryResults {
        moto_measured: stack.moto_pid.is_some(),
        ..DeliveryResults::default()
    };
    let mut waiter = Conn::open(receiver.addr).await?;
    for process in 1..=processes {
        let mut function = FunctionProcess::spawn(&path, "delivery", &env).await?;
        results.init.push(function.wait_init(PATIENCE).await?);
        for invocation in 0..=warm {
            let measured = invoke(&function, stack, receiver, &mut waiter, FAN_OUT)
                .await
                .map_err(|e| format!("{e}; the function's output: {}", function.output()))?;
            eprintln!(
                "aws delivery process {process}/{processes} {}: {:>7.0} ms  {:>6.0} deliveries/s  \
                 function CPU {:>5.0} ms  moto CPU {:>6.0} ms  peak RSS {:.0} MiB",
                if invocation == 0 { "cold" } else { "warm" },
                measured.wall_ms(),
                measured.rate(),
                measured.function_cpu_ms(),
                measured.moto_cpu_ms(),
                measured.peak_rss_mib(),
            );
            if invocation == 0 {
                results.cold.push(measured);
            } else {
                results.warm.push(measured);
            }
        }
        function.stop().await?;
    }
    Ok(results)
}

/// One batch on a waiting function process, whose event type has `fan_out` webhooks.
/// Meanwhile the logs queue is purged every
/// [`PURGE_EVERY`], standing in for the log-writer's event source mapping that drains
/// it on AWS: moto 5.2.5 counts a queue's messages on every `SendMessage` (and its
/// `ReceiveMessage` is dearer still), so a queue left to fill would add an emulator
/// cost growing with its depth to every figure.
pub async fn invoke(
    function: &FunctionProcess,
    stack: &Stack,
    receiver: &Receiver,
    waiter: &mut Conn,
    fan_out: usize,
) -> Result<BatchRun> {
    let deliveries = (BATCH_EVENTS * fan_out) as u64;
    let event = batch();
    receiver.reset().await?;
    purge_logs(stack).await?;
    let succeeded_before = function.emf_count("Deliveries", "succeeded");
    let function_before = cpu_time(function.pid)?;
    let moto_before = stack.moto_pid.map(cpu_time).transpose()?;
    let started = Instant::now();
    let request = function.api.invoke(event, BUDGET);
    // Once the invocation is answered, the receiver gets a grace period for the rest
    // (a function that gave up must not keep the driver waiting for its patience).
    let (answered_tx, answered_rx) = tokio::sync::oneshot::channel::<()>();
    let arrived = async {
        let wait = Receiver::wait(waiter, deliveries, PATIENCE);
        let grace = async {
            let _ = answered_rx.await;
            tokio::time::sleep(GRACE).await;
        };
        tokio::select! {
            tally = wait => Ok::<_, crate::BoxError>((tally?, Instant::now())),
            () = grace => Err(format!(
                "the receiver did not get {deliveries} deliveries within {GRACE:?} of the answer"
            )
            .into()),
        }
    };
    let answered = async {
        let answer = function.api.answer(&request, PATIENCE).await;
        let _ = answered_tx.send(());
        answer
    };
    let purging = async {
        loop {
            tokio::time::sleep(PURGE_EVERY).await;
            if let Err(error) = purge_logs(stack).await {
                return error;
            }
        }
    };
    let (arrived, answer) = tokio::select! {
        both = async { tokio::join!(arrived, answered) } => both,
        error = purging => return Err(error),
    };
    let function_cpu = cpu_time(function.pid)?.saturating_sub(function_before);
    let moto_cpu = match (stack.moto_pid, moto_before) {
        (Some(pid), Some(before)) => Some(cpu_time(pid)?.saturating_sub(before)),
        _ => None,
    };
    match answer {
        Some(Answer::Response(response)) => {
            let failures = response["batchItemFailures"].as_array().map_or(0, Vec::len);
            if failures > 0 {
                return Err(format!("{failures} records handed back for retry: {response}").into());
            }
        }
        Some(Answer::Error(error)) => {
            return Err(format!("the function answered an error: {error}").into())
        }
        None => return Err("the invocation was not answered in time".into()),
    }
    let ((count, distinct), arrived_at) = arrived?;
    let answered_at = function
        .api
        .answered_at(&request)
        .ok_or("the invocation's answer has no time")?;
    let succeeded = function
        .emf_count("Deliveries", "succeeded")
        .saturating_sub(succeeded_before);
    if succeeded < deliveries {
        return Err(format!(
            "the function's metrics count {succeeded} of {deliveries} deliveries as succeeded"
        )
        .into());
    }
    Ok(BatchRun {
        deliveries,
        wall: arrived_at
            .max(answered_at)
            .saturating_duration_since(started),
        function_cpu,
        moto_cpu,
        peak_rss_kib: peak_rss_kib(function.pid),
        duplicates: count.saturating_sub(distinct),
    })
}

/// Empties the logs queue (moto's `PurgeQueue` is cheap, and with
/// `MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR=false` allowed more than once a minute).
async fn purge_logs(stack: &Stack) -> Result<()> {
    purge_queue(stack, &stack.logs_queue).await
}

/// Empties one of the stack's queues (see [`purge_logs`]).
pub async fn purge_queue(stack: &Stack, queue_url: &str) -> Result<()> {
    stack
        .moto
        .clients
        .sqs
        .purge_queue()
        .queue_url(queue_url)
        .send()
        .await
        .map_err(|e| {
            format!(
                "purging {queue_url}: {} (start moto with \
                 MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR=false, as scripts/bench.sh does)",
                DisplayErrorContext(&e)
            )
        })?;
    Ok(())
}
