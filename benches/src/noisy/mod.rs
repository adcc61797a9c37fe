//! The noisy-neighbour shape, on both backends: one event type with a healthy webhook
//! (a loopback receiver answering 200 at once), a hanging one (answers only after
//! [`HANG`], well past the delivery timeout) and a failing one (500 at once). Each
//! backend runs twice: the healthy webhook alone ("quiet"), then with the two bad
//! neighbours ("noisy"); what is reported is the healthy webhook's delivery latency
//! and the completion time (first event sent → last healthy delivery received), and
//! the ratio of the two completion times (goal ≤ [`GOAL`]).
//!
//! - [`local`]: `webhooks serve` on SQLite, events posted to `POST /events`.
//! - [`lambda`]: the delivery function on moto, handed the events in SQS batches of
//!   10 through the fake runtime API, one invocation at a time.

pub mod lambda;
pub mod local;
pub mod receivers;

use std::path::{Path, PathBuf};
use std::time::Duration;

use receivers::Behaviour;
pub use receivers::HANG;

use crate::Result;

/// Events per run unless told otherwise.
pub const DEFAULT_EVENTS: usize = 400;
/// The delivery timeout both backends get (`DELIVERY_TIMEOUT_MS`).
pub const DELIVERY_TIMEOUT_MS: &str = "5000";
/// The paced serve shape's events a second unless told otherwise: well inside what
/// the machine sends (the burst runs at about 10,000 deliveries a second), so what it
/// measures is the neighbours' effect, not the cores' share.
pub const DEFAULT_PACED_RATE: u32 = 1_000;
/// The longest one run waits for its healthy deliveries unless told otherwise.
pub const DEFAULT_BOUND: Duration = Duration::from_secs(300);
/// The goal: noisy completion time ÷ quiet completion time at most this.
pub const GOAL: f64 = 1.2;

/// Whether the bad neighbours are there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Neighbours {
    /// The healthy webhook alone.
    Quiet,
    /// Beside two more healthy webhooks: the control, the cost of two more webhooks'
    /// work on the same cores without anything misbehaving.
    Busy,
    /// Beside a hanging and a failing webhook.
    Noisy,
}

impl Neighbours {
    pub fn name(self) -> &'static str {
        match self {
            Neighbours::Quiet => "quiet",
            Neighbours::Busy => "busy",
            Neighbours::Noisy => "noisy",
        }
    }

    /// Starts the two neighbours' receivers (none when quiet): the bad ones, or
    /// healthy ones for the control, each noting arrivals of `events` events.
    pub fn start_receivers(
        self,
        events: usize,
    ) -> Result<Option<(receivers::ReceiverThread, receivers::ReceiverThread)>> {
        let (first, second) = match self {
            Neighbours::Quiet => return Ok(None),
            Neighbours::Busy => (Behaviour::Healthy, Behaviour::Healthy),
            Neighbours::Noisy => (Behaviour::Hanging, Behaviour::Failing),
        };
        Ok(Some((
            receivers::ReceiverThread::start(first, events)?,
            receivers::ReceiverThread::start(second, events)?,
        )))
    }
}

/// One run, as the healthy webhook saw it.
#[derive(Clone, Debug)]
pub struct NoisyRun {
    pub events: usize,
    /// Events the healthy receiver got a delivery of.
    pub delivered: usize,
    /// Each received event's latency: serve, from its `POST /events` answered; Lambda,
    /// from the start of the run (the first invocation handed out).
    pub latencies: Vec<Duration>,
    /// Lambda only: each received event's latency from the invocation that carried it.
    pub batch_latencies: Vec<Duration>,
    /// First event sent → last healthy delivery; `None` when not all came in the bound.
    pub completion: Option<Duration>,
    /// First event sent → the run ended (the bound when incomplete).
    pub elapsed: Duration,
    /// Healthy deliveries of an event already delivered.
    pub duplicates: u64,
    /// Requests the hanging and the failing receivers got.
    pub hanging_requests: u64,
    pub failing_requests: u64,
    /// Attempts by outcome: serve's delivery log; the function's EMF metrics.
    pub outcomes: Vec<(String, u64)>,
    /// Lambda only: invocations made, and records handed back for retry.
    pub invocations: usize,
    pub handed_back: usize,
    /// Lambda only: the function's AWS requests over the run, by service and action.
    pub aws_requests: crate::aws_requests::Counts,
}

impl NoisyRun {
    pub fn complete(&self) -> bool {
        self.completion.is_some()
    }

    /// The `p`-quantile (0–1, nearest rank) of `latencies`, `None` when empty.
    pub fn percentile(latencies: &[Duration], p: f64) -> Option<Duration> {
        let mut sorted = latencies.to_vec();
        sorted.sort();
        let rank = (p * sorted.len() as f64).ceil() as usize;
        sorted.get(rank.clamp(1, sorted.len().max(1)) - 1).copied()
    }

    /// The completion time, or the time the run lasted when it did not complete.
    pub fn completion_or_elapsed(&self) -> Duration {
        self.completion.unwrap_or(self.elapsed)
    }
}

/// The quiet and the noisy run of one backend, and the busy control when it ran.
#[derive(Clone, Debug)]
pub struct Pair {
    pub quiet: NoisyRun,
    pub busy: Option<NoisyRun>,
    pub noisy: NoisyRun,
}

impl Pair {
    /// Noisy ÷ quiet completion time; when the noisy run did not complete, a lower
    /// bound (its length ÷ the quiet completion). `None` when the quiet run did not.
    pub fn ratio(&self) -> Option<f64> {
        let quiet = self.quiet.completion?.as_secs_f64();
        (quiet > 0.0).then(|| self.noisy.completion_or_elapsed().as_secs_f64() / quiet)
    }

    /// True when [`Pair::ratio`] is exact (both runs completed).
    pub fn exact(&self) -> bool {
        self.quiet.complete() && self.noisy.complete()
    }

    pub fn met(&self) -> bool {
        self.exact() && self.ratio().is_some_and(|r| r <= GOAL)
    }

    /// Noisy ÷ busy completion time: what the bad neighbours cost beyond two more
    /// webhooks' share of the machine. `None` without a complete busy run.
    pub fn control_ratio(&self) -> Option<f64> {
        let busy = self.busy.as_ref()?.completion?.as_secs_f64();
        (busy > 0.0).then(|| self.noisy.completion_or_elapsed().as_secs_f64() / busy)
    }
}

/// Both backends' pairs (a backend not run is `None`).
#[derive(Clone, Debug)]
pub struct NoisyResults {
    pub events: usize,
    pub bound: Duration,
    /// Serve with the events posted as fast as the connections go.
    pub local: Option<Pair>,
    /// Serve with the events posted at `paced_rate` a second.
    pub local_paced: Option<Pair>,
    pub paced_rate: u32,
    pub lambda: Option<Pair>,
    /// `/proc/loadavg` when the shape started.
    pub load_at_start: String,
    pub took_secs: f64,
}

impl NoisyResults {
    /// The machine-readable figures: `noisy.local_ratio` (serve, paced),
    /// `noisy.local_burst_ratio`, `noisy.lambda_ratio` (a lower bound when `*_complete`
    /// is false; `null` when not measured), and the `*_control_ratio`s (noisy ÷ busy).
    pub fn json(&self) -> serde_json::Value {
        let ratio = |pair: &Option<Pair>| pair.as_ref().and_then(Pair::ratio);
        let control = |pair: &Option<Pair>| pair.as_ref().and_then(Pair::control_ratio);
        let complete = |pair: &Option<Pair>| pair.as_ref().map(Pair::exact);
        serde_json::json!({
            "noisy": {
                "events": self.events,
                "goal": GOAL,
                "paced_rate_per_s": self.paced_rate,
                "local_ratio": ratio(&self.local_paced),
                "local_complete": complete(&self.local_paced),
                "local_burst_ratio": ratio(&self.local),
                "local_burst_control_ratio": control(&self.local),
                "local_burst_complete": complete(&self.local),
                "lambda_ratio": ratio(&self.lambda),
                "lambda_control_ratio": control(&self.lambda),
                "lambda_complete": complete(&self.lambda),
            }
        })
    }
}

impl NoisyResults {
    /// Writes [`NoisyResults::json`] to `path` when there is one.
    pub fn write_json(&self, path: Option<&Path>) -> Result<()> {
        if let Some(path) = path {
            let text = serde_json::to_string_pretty(&self.json())?;
            std::fs::write(path, text + "\n")
                .map_err(|e| format!("writing {}: {e}", path.display()))?;
            eprintln!("figures written to {}", path.display());
        }
        Ok(())
    }
}

/// What to run.
#[derive(Clone, Debug)]
pub struct Config {
    /// The `webhooks` binary (`serve`); `None` skips the serve backend.
    pub webhooks: Option<PathBuf>,
    /// The functions' directory (`webhooks-delivery`); `None` skips Lambda.
    pub functions: Option<PathBuf>,
    pub events: usize,
    /// Connections posting the events to serve.
    pub connections: usize,
    /// The paced serve shape's events a second (0: not run).
    pub paced_rate: u32,
    pub bound: Duration,
}

/// Which backends `bench noisy` runs, as (serve, lambda): the ones named (`serve`,
/// `lambda`), or by default serve, and Lambda when the functions are given.
pub fn backends(names: Option<&[String]>, have_functions: bool) -> Result<(bool, bool)> {
    let Some(names) = names else {
        return Ok((true, have_functions));
    };
    let (mut serve, mut lambda) = (false, false);
    for name in names.iter().map(|b| b.trim().to_ascii_lowercase()) {
        match name.as_str() {
            "serve" => serve = true,
            "lambda" => lambda = true,
            "" => {}
            other => return Err(format!("unknown backend {other:?} (serve or lambda)").into()),
        }
    }
    if lambda && !have_functions {
        return Err("the lambda backend needs --functions DIR".into());
    }
    Ok((serve, lambda))
}

/// Runs the quiet then the noisy run of each backend asked for.
pub async fn run(config: &Config) -> Result<NoisyResults> {
    let started = std::time::Instant::now();
    let load_at_start = std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned());
    let paced = (config.paced_rate > 0).then_some(config.paced_rate);
    let serve = config.webhooks.as_deref();
    let functions = config.functions.as_deref();
    let local = match serve {
        Some(binary) => Some(triple("serve", |n| local::run(binary, config, n, None)).await?),
        None => None,
    };
    let local_paced = match (serve, paced) {
        (Some(binary), Some(rate)) => {
            Some(triple("serve paced", |n| local::run(binary, config, n, Some(rate))).await?)
        }
        _ => None,
    };
    let lambda = match functions {
        Some(dir) => Some(triple("Lambda", |n| lambda::run(dir, config, n)).await?),
        None => None,
    };
    Ok(NoisyResults {
        events: config.events,
        bound: config.bound,
        local,
        local_paced,
        paced_rate: config.paced_rate,
        lambda,
        load_at_start,
        took_secs: started.elapsed().as_secs_f64(),
    })
}

/// The quiet, busy and noisy runs of one backend, one after the other.
async fn triple<F, Fut>(backend: &str, run: F) -> Result<Pair>
where
    F: Fn(Neighbours) -> Fut,
    Fut: std::future::Future<Output = Result<NoisyRun>>,
{
    let mut runs = Vec::with_capacity(3);
    for neighbours in [Neighbours::Quiet, Neighbours::Busy, Neighbours::Noisy] {
        let run = run(neighbours)
            .await
            .map_err(|e| format!("noisy neighbour, {backend} {}: {e}", neighbours.name()))?;
        eprintln!(
            "noisy neighbour, {backend} {}: {}",
            neighbours.name(),
            summary(&run)
        );
        runs.push(run);
    }
    let mut runs = runs.into_iter();
    match (runs.next(), runs.next(), runs.next()) {
        (Some(quiet), busy, Some(noisy)) => Ok(Pair { quiet, busy, noisy }),
        _ => Err(format!("noisy neighbour, {backend}: a run is missing").into()),
    }
}

/// One line for the terminal.
fn summary(run: &NoisyRun) -> String {
    let ms = |d: Option<Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1e3);
    format!(
        "{}/{} healthy deliveries; p50 {:.1} ms, p99 {:.1} ms; completion {}; \
         hanging got {}, failing got {} requests; attempts {:?}",
        run.delivered,
        run.events,
        ms(NoisyRun::percentile(&run.latencies, 0.5)),
        ms(NoisyRun::percentile(&run.latencies, 0.99)),
        run.completion.map_or_else(
            || format!("none within {:.0} s", run.elapsed.as_secs_f64()),
            |c| format!("{:.1} ms", c.as_secs_f64() * 1e3)
        ),
        run.hanging_requests,
        run.failing_requests,
        run.outcomes,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(completion: Option<u64>, elapsed: u64) -> NoisyRun {
        NoisyRun {
            events: 4,
            delivered: 4,
            latencies: Vec::new(),
            batch_latencies: Vec::new(),
            completion: completion.map(Duration::from_millis),
            elapsed: Duration::from_millis(elapsed),
            duplicates: 0,
            hanging_requests: 0,
            failing_requests: 0,
            outcomes: Vec::new(),
            invocations: 0,
            handed_back: 0,
            aws_requests: Default::default(),
        }
    }

    #[test]
    fn backends_default_to_serve_and_lambda_with_the_functions() {
        assert_eq!(backends(None, false).unwrap(), (true, false));
        assert_eq!(backends(None, true).unwrap(), (true, true));
        let lambda = ["lambda".to_owned()];
        assert_eq!(backends(Some(&lambda), true).unwrap(), (false, true));
        assert!(backends(Some(&lambda), false).is_err());
        assert!(backends(Some(&["ec2".to_owned()]), true).is_err());
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let latencies: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        assert_eq!(
            NoisyRun::percentile(&latencies, 0.5),
            Some(Duration::from_millis(50))
        );
        assert_eq!(
            NoisyRun::percentile(&latencies, 0.99),
            Some(Duration::from_millis(99))
        );
        assert_eq!(NoisyRun::percentile(&[], 0.5), None);
    }

    #[test]
    fn the_ratio_is_a_lower_bound_when_the_noisy_run_did_not_complete() {
        let pair = Pair {
            quiet: run(Some(100), 100),
            busy: None,
            noisy: run(Some(110), 110),
        };
        assert!(pair.exact() && pair.met());
        let pair = Pair {
            quiet: run(Some(100), 100),
            busy: None,
            noisy: run(None, 3_000),
        };
        assert_eq!(pair.ratio(), Some(30.0));
        assert!(!pair.exact() && !pair.met());
        let results = NoisyResults {
            events: 4,
            bound: DEFAULT_BOUND,
            local: Some(pair),
            local_paced: None,
            paced_rate: 0,
            lambda: None,
            load_at_start: String::new(),
            took_secs: 1.0,
        };
        let json = results.json();
        assert_eq!(json["noisy"]["local_burst_ratio"], 30.0);
        assert_eq!(json["noisy"]["local_burst_complete"], false);
        assert!(json["noisy"]["local_ratio"].is_null());
        assert!(json["noisy"]["lambda_ratio"].is_null());
    }
}
