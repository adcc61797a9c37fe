//! The "Noisy neighbour" section: the healthy webhook's latency and completion time,
//! alone and beside a hanging and a failing webhook, on both backends.

use std::fmt::Write as _;
use std::time::Duration;

use super::format::{millis, ratio, verdict};
use super::Report;
use crate::aws_delivery::BATCH_EVENTS;
use crate::noisy::{NoisyResults, NoisyRun, Pair, DEFAULT_EVENTS, DELIVERY_TIMEOUT_MS, GOAL, HANG};
use crate::system::thousands;

/// The section's heading.
pub const HEADING: &str = "## Noisy neighbour";

impl Report {
    pub(super) fn noisy_section(&self, out: &mut String) {
        out.push_str(&section(self.noisy.as_ref()));
    }
}

/// One column: a backend's quiet or noisy run.
struct Column<'a> {
    run: Option<&'a NoisyRun>,
    /// The pair, in the noisy column only (for the ratio).
    pair: Option<&'a Pair>,
    lambda: bool,
}

/// The section, on its own (`bench noisy` prints it; `bench system` puts it in the
/// report).
pub fn section(results: Option<&NoisyResults>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{HEADING}\n");
    let Some(results) = results else {
        let _ = writeln!(
            out,
            "Not measured in this run (`NOISY=0`, or `bench system --noisy-events 0`).\n"
        );
        return out;
    };
    let timeout_s = DELIVERY_TIMEOUT_MS.parse::<f64>().unwrap_or(f64::NAN) / 1e3;
    let _ = writeln!(
        out,
        "One event type, {} events ({}), three webhooks: \
         **healthy** (a loopback receiver answering 200 at once), **hanging** (accepts the \
         connection, answers only after {:.0} s, past the {timeout_s:.0} s delivery timeout, \
         `DELIVERY_TIMEOUT_MS={DELIVERY_TIMEOUT_MS}`) and **failing** (answers 500 at once). \
         **Quiet**: the healthy webhook alone; **noisy**: with the two others. One run each; \
         every figure is the healthy webhook's. Load average at start: {}; the shape took \
         {:.0} s.\n",
        thousands(results.events as f64),
        if results.events == DEFAULT_EVENTS {
            "the default".to_owned()
        } else {
            format!("default {DEFAULT_EVENTS}")
        },
        HANG.as_secs_f64(),
        results.load_at_start,
        results.took_secs,
    );
    let mut columns = Vec::new();
    columns.extend(pair_columns(results.local.as_ref(), false));
    columns.extend(pair_columns(results.lambda.as_ref(), true));
    let _ = writeln!(
        out,
        "| healthy webhook | `webhooks serve` quiet | `webhooks serve` noisy | Lambda quiet | \
         Lambda noisy |\n|---|---:|---:|---:|---:|"
    );
    let bound = results.bound;
    let row = |out: &mut String, label: &str, cell: &dyn Fn(&Column<'_>, &NoisyRun) -> String| {
        let cells: Vec<String> = columns
            .iter()
            .map(|column| match column.run {
                Some(run) => cell(column, run),
                None => "not measured".to_owned(),
            })
            .collect();
        let _ = writeln!(out, "| {label} | {} |", cells.join(" | "));
    };
    row(&mut out, "deliveries received", &|_, run| {
        format!(
            "{} of {}",
            thousands(run.delivered as f64),
            thousands(run.events as f64)
        )
    });
    for (label, p) in [("p50", 0.5), ("p99", 0.99)] {
        row(
            &mut out,
            &format!("**delivery latency {label}** (serve: from `POST /events` answered; Lambda: from the start of the run)"),
            &|_, run| time_cell(NoisyRun::percentile(&run.latencies, p), run),
        );
    }
    row(
        &mut out,
        "**completion**: first event sent → last healthy delivery received",
        &|_, run| match run.completion {
            Some(completion) => format!("**{}**", time(completion)),
            None => format!("> {} (not all delivered)", time(run.elapsed)),
        },
    );
    row(
        &mut out,
        &format!("**noisy ÷ quiet, completion** (goal ≤ {GOAL})"),
        &|column, _| match column.pair {
            None => "—".to_owned(),
            Some(pair) => match pair.ratio() {
                Some(r) if pair.exact() => format!("**{}** — {}", ratio(r), verdict(pair.met())),
                Some(r) => format!("**> {}** — not met", ratio(r)),
                None => "— (the quiet run did not complete)".to_owned(),
            },
        },
    );
    row(
        &mut out,
        "Lambda: latency from the invocation that carried the event, p50 / p99",
        &|column, run| {
            if !column.lambda {
                return "—".to_owned();
            }
            let at = |p| NoisyRun::percentile(&run.batch_latencies, p).map_or("—".to_owned(), time);
            format!("{} / {}", at(0.5), at(0.99))
        },
    );
    row(
        &mut out,
        &format!("Lambda: invocations (batches of {BATCH_EVENTS}) / records handed back"),
        &|column, run| {
            if column.lambda {
                format!("{} / {}", run.invocations, run.handed_back)
            } else {
                "—".to_owned()
            }
        },
    );
    row(
        &mut out,
        "requests the hanging / failing receivers got",
        &|_, run| {
            if run.hanging_requests + run.failing_requests == 0 {
                "—".to_owned()
            } else {
                format!("{} / {}", run.hanging_requests, run.failing_requests)
            }
        },
    );
    row(
        &mut out,
        "attempts by outcome, all webhooks (serve: delivery log; Lambda: the function's metrics)",
        &|_, run| {
            if run.outcomes.is_empty() {
                return "none".to_owned();
            }
            run.outcomes
                .iter()
                .map(|(outcome, n)| format!("{outcome} {}", thousands(*n as f64)))
                .collect::<Vec<_>>()
                .join(", ")
        },
    );
    row(&mut out, "duplicate healthy deliveries", &|_, run| {
        run.duplicates.to_string()
    });
    let _ = writeln!(
        out,
        "\n- `webhooks serve`: the binary of this build on a fresh SQLite file per run, as in \
         the system benchmark, with `DELIVERY_TIMEOUT_MS={DELIVERY_TIMEOUT_MS}` and loopback \
         allowed (`WEBHOOKS_ALLOW_NETS=127.0.0.0/8,::1/128`, its default); the webhooks \
         registered through the API, the events posted by keep-alive connections. A \
         delivery's latency runs from the `202` of its event's `POST /events`. The service \
         retries the failed deliveries on its schedule (first retry after about 5 s) \
         during the run.\n\
         - Lambda: `webhooks-delivery` on moto through the fake runtime API, a fresh stack and \
         process per run; the events handed to it in SQS batches of {BATCH_EVENTS}, one \
         invocation at a time (each as soon as the previous is answered; {} s deadline as \
         deployed), records handed back going out again, until every healthy delivery \
         arrived or {:.0} s passed. A delivery's latency runs from the start of the run (the \
         first invocation handed out), so its p50 is about half the completion time; the row \
         below gives it from the event's own invocation. The logs and retry queues are purged \
         every 50 ms (moto's `SendMessage` slows with a queue's depth): the retries the bad \
         neighbours cause are not handed back to the function, as they would be on AWS (more \
         noise, not less).\n\
         - The receivers run in the driver process, each on a thread of its own, and each \
         webhook on its own port; the hanging receiver's held requests are cut when a run \
         ends.\n\
         - AWS requests per delivery: not measured. The bench does not count the function's \
         AWS calls (the request recorder of `tests/src/moto.rs` is an SDK interceptor, so \
         it sees only the calling process's requests, not the function process's).\n",
        crate::noisy::lambda::BUDGET.as_secs(),
        bound.as_secs_f64(),
    );
    out
}

/// A backend's quiet and noisy columns.
fn pair_columns(pair: Option<&Pair>, lambda: bool) -> [Column<'_>; 2] {
    [
        Column {
            run: pair.map(|p| &p.quiet),
            pair: None,
            lambda,
        },
        Column {
            run: pair.map(|p| &p.noisy),
            pair,
            lambda,
        },
    ]
}

/// `85.0 ms`, `1,234 ms` under 10 s; `12.3 s` above.
fn time(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1e3;
    if ms < 10_000.0 {
        millis(ms)
    } else {
        format!("{:.1} s", ms / 1e3)
    }
}

/// A latency, and how many of the events it is of when not all came.
fn time_cell(duration: Option<Duration>, run: &NoisyRun) -> String {
    match duration {
        None => "—".to_owned(),
        Some(d) if run.delivered < run.events => {
            format!("**{}** (of the {} received)", time(d), run.delivered)
        }
        Some(d) => format!("**{}**", time(d)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(completion_ms: Option<u64>, delivered: usize) -> NoisyRun {
        NoisyRun {
            events: 4,
            delivered,
            latencies: (1..=delivered as u64).map(Duration::from_millis).collect(),
            batch_latencies: vec![Duration::from_millis(2)],
            completion: completion_ms.map(Duration::from_millis),
            elapsed: Duration::from_millis(completion_ms.unwrap_or(300_000)),
            duplicates: 0,
            hanging_requests: 4,
            failing_requests: 8,
            outcomes: vec![("succeeded".into(), 4), ("retrying".into(), 8)],
            invocations: 1,
            handed_back: 0,
        }
    }

    #[test]
    fn the_section_gives_both_backends_and_the_verdicts() {
        let results = NoisyResults {
            events: 4,
            bound: Duration::from_secs(300),
            local: Some(Pair {
                quiet: run(Some(100), 4),
                noisy: run(Some(110), 4),
            }),
            lambda: Some(Pair {
                quiet: run(Some(1_000), 4),
                noisy: run(None, 2),
            }),
            load_at_start: "1.0".into(),
            took_secs: 9.0,
        };
        let markdown = section(Some(&results));
        assert!(markdown.starts_with("## Noisy neighbour\n"), "{markdown}");
        assert!(markdown.contains("4 events (default 400)"), "{markdown}");
        assert!(
            markdown.contains("| **noisy ÷ quiet, completion** (goal ≤ 1.2) | — | **1.10×** — met | — | **> 300×** — not met |"),
            "{markdown}"
        );
        assert!(
            markdown.contains("| **completion**: first event sent → last healthy delivery received | **100 ms** | **110 ms** | **1,000 ms** | > 300.0 s (not all delivered) |"),
            "{markdown}"
        );
        assert!(markdown.contains("(of the 2 received)"), "{markdown}");
        assert!(section(None).contains("Not measured"));
    }
}
