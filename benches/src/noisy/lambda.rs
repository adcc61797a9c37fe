//! The noisy-neighbour shape on the delivery function: its release binary on the AWS
//! adapters against moto (a fresh stack per run: tables, queues, secrets), driven
//! through the fake runtime API. The events go to it as the events queue's event
//! source mapping would hand them: SQS batches of [`BATCH_EVENTS`], one invocation at
//! a time on one process, each batch as soon as the previous one is answered; records
//! it hands back go out again in a later batch. It keeps invoking until every healthy
//! delivery arrived, or the bound passed, or the invocations ran out.
//!
//! A healthy delivery's latency runs from the start of the run (the first invocation
//! handed out), and also from the invocation that carried its event.
//!
//! The driver purges the logs and the retry queue every [`PURGE_EVERY`] (moto's cost of
//! a `SendMessage` grows with the queue's depth, see [`crate::aws_delivery`]): the
//! retries the bad neighbours cause are not fed back to the function.

use std::collections::VecDeque;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use webhooks_tests::runtime_api::Answer;

use super::receivers::{Behaviour, ReceiverThread};
use super::{Config, Neighbours, NoisyRun, DELIVERY_TIMEOUT_MS};
use crate::aws_delivery::{event_records, purge_queue, put_webhook, BATCH_EVENTS};
use crate::aws_requests::CountingProxy;
use crate::lambda::{binary, FunctionProcess, Stack};
use crate::Result;

/// Each invocation's deadline: the delivery function's `Timeout` in
/// `infra/template.yaml`.
pub const BUDGET: Duration = Duration::from_secs(60);
/// The longest the function may take to ask for its first invocation.
const INIT_PATIENCE: Duration = Duration::from_secs(30);
/// How often the logs and retry queues are emptied while the run goes on.
pub const PURGE_EVERY: Duration = Duration::from_millis(50);
/// How long healthy deliveries may trail the last answer once every record is done.
const GRACE: Duration = Duration::from_secs(10);
/// The outcomes of the function's EMF metrics.
const OUTCOMES: [&str; 6] = [
    "succeeded",
    "retrying",
    "exhausted",
    "failed",
    "rejected",
    "disabled",
];

/// One run on a fresh stack and a fresh function process.
pub async fn run(functions: &Path, config: &Config, neighbours: Neighbours) -> Result<NoisyRun> {
    let path = binary(functions, "delivery")?;
    let events = config.events;
    let stack = Stack::create().await?;
    let healthy = ReceiverThread::start(Behaviour::Healthy, events)?;
    let bad = neighbours.start_receivers(events)?;
    let url =
        |name: &str, receiver: &ReceiverThread| format!("http://{}/hook/{name}", receiver.addr);
    put_webhook(&stack, "noisy healthy", &url("healthy", &healthy)).await?;
    if let Some((first, second)) = &bad {
        put_webhook(&stack, "noisy first neighbour", &url("first", first)).await?;
        put_webhook(&stack, "noisy second neighbour", &url("second", second)).await?;
    }
    let proxy = CountingProxy::start(&stack.moto.endpoint).await?;
    let mut env = stack.env_via(&proxy.endpoint);
    env.push((
        "DELIVERY_TIMEOUT_MS".to_owned(),
        DELIVERY_TIMEOUT_MS.to_owned(),
    ));
    let mut function = FunctionProcess::spawn(&path, "delivery", &env).await?;
    function.wait_init(INIT_PATIENCE).await?;

    let started = Instant::now();
    let deadline = started + config.bound;
    let purging = async {
        loop {
            tokio::time::sleep(PURGE_EVERY).await;
            for queue in [&stack.logs_queue, &stack.retry_queue] {
                if let Err(error) = purge_queue(&stack, queue).await {
                    return error;
                }
            }
        }
    };
    let driven = tokio::select! {
        driven = drive(&function, &healthy, events, deadline) => driven,
        error = purging => Err(error),
    }
    .map_err(|e| format!("{e}; the function's output: {}", function.output()))?;
    let elapsed = started.elapsed();

    let arrivals = healthy.arrivals();
    let latencies = arrivals
        .iter()
        .flatten()
        .map(|at| at.saturating_duration_since(started))
        .collect();
    let batch_latencies = arrivals
        .iter()
        .zip(&driven.handed)
        .filter_map(|(arrived, handed)| {
            Some(
                arrived
                    .as_ref()?
                    .saturating_duration_since(*handed.as_ref()?),
            )
        })
        .collect();
    let last = arrivals.iter().flatten().max().copied();
    let outcomes = OUTCOMES
        .iter()
        .map(|&outcome| {
            (
                outcome.to_owned(),
                function.emf_count("Deliveries", outcome),
            )
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    let (hanging_requests, failing_requests) = bad.as_ref().map_or((0, 0), |(hanging, failing)| {
        (hanging.requests(), failing.requests())
    });
    function.stop().await?;
    let aws_requests = proxy.counts();
    drop(bad);
    Ok(NoisyRun {
        events,
        delivered: healthy.delivered(),
        latencies,
        batch_latencies,
        completion: driven
            .all_came
            .then(|| last.map(|at| at.saturating_duration_since(started)))
            .flatten(),
        elapsed,
        duplicates: healthy.duplicates(),
        hanging_requests,
        failing_requests,
        outcomes,
        invocations: driven.invocations,
        handed_back: driven.handed_back,
        aws_requests,
    })
}

/// What handing the events out did.
struct Driven {
    /// When each event was first handed to the function.
    handed: Vec<Option<Instant>>,
    invocations: usize,
    handed_back: usize,
    /// Every event reached the healthy receiver.
    all_came: bool,
}

/// Hands events `0..events` to the function in batches until the healthy receiver
/// has them all, `deadline` passed, or the invocations ran out.
async fn drive(
    function: &FunctionProcess,
    healthy: &ReceiverThread,
    events: usize,
    deadline: Instant,
) -> Result<Driven> {
    let mut pending: VecDeque<(usize, Value)> =
        event_records(0..events).into_iter().enumerate().collect();
    let max_invocations = events.div_ceil(BATCH_EVENTS) * 3 + 10;
    let mut driven = Driven {
        handed: vec![None; events],
        invocations: 0,
        handed_back: 0,
        all_came: false,
    };
    let mut last_answer = Instant::now();
    while healthy.delivered() < events
        && Instant::now() < deadline
        && driven.invocations < max_invocations
    {
        if pending.is_empty() {
            // Every record is done with: what is missing may still trail the answer.
            driven.all_came = healthy.wait_all((last_answer + GRACE).min(deadline)).await;
            return Ok(driven);
        }
        let batch: Vec<(usize, Value)> = pending.drain(..BATCH_EVENTS.min(pending.len())).collect();
        let now = Instant::now();
        for (n, _) in &batch {
            if let Some(handed) = driven.handed.get_mut(*n) {
                handed.get_or_insert(now);
            }
        }
        let records: Vec<Value> = batch.iter().map(|(_, record)| record.clone()).collect();
        let request = function.api.invoke(json!({ "Records": records }), BUDGET);
        driven.invocations += 1;
        let within = deadline.saturating_duration_since(Instant::now());
        match function.api.answer(&request, within).await {
            Some(Answer::Response(response)) => {
                let failed: Vec<&str> = response["batchItemFailures"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|failure| failure["itemIdentifier"].as_str())
                    .collect();
                for (n, record) in batch {
                    if failed.contains(&record["messageId"].as_str().unwrap_or_default()) {
                        driven.handed_back += 1;
                        pending.push_back((n, record));
                    }
                }
            }
            Some(Answer::Error(error)) => {
                // SQS hands the whole batch out again after an error.
                eprintln!("noisy neighbour: the function answered an error: {error}");
                driven.handed_back += batch.len();
                pending.extend(batch);
            }
            // Not answered within the bound.
            None => break,
        }
        last_answer = Instant::now();
    }
    driven.all_came = healthy.delivered() >= events;
    Ok(driven)
}
