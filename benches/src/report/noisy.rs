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
    intro(&mut out, results);
    let _ = writeln!(
        out,
        "| backend, shape | run | received | latency p50 | latency p99 | completion | \
         ÷ quiet (goal ≤ {GOAL}) | ÷ busy | hanging / failing got | attempts by outcome | \
         duplicates |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"
    );
    let paced = format!(
        "`webhooks serve`, paced ({} events/s)",
        thousands(f64::from(results.paced_rate))
    );
    let backends = [
        ("`webhooks serve`, burst", results.local.as_ref()),
        (paced.as_str(), results.local_paced.as_ref()),
        (
            "Lambda (delivery function on moto)",
            results.lambda.as_ref(),
        ),
    ];
    for (label, pair) in backends {
        match pair {
            Some(pair) => pair_rows(&mut out, label, pair),
            None => {
                let _ = writeln!(out, "| {label} | not measured | | | | | | | | | |");
            }
        }
    }
    if let Some(pair) = results.lambda.as_ref() {
        let _ = writeln!(
            out,
            "\nLambda, latency from the invocation that carried the event (p50 / p99); \
             invocations (batches of {BATCH_EVENTS}) / records handed back; the function's \
             AWS requests (counted by a proxy in front of moto), per attempt (every \
             webhook's) and by action:"
        );
        for (name, run) in runs(pair) {
            let at = |p| NoisyRun::percentile(&run.batch_latencies, p).map_or("—".to_owned(), time);
            let _ = writeln!(
                out,
                "- {name}: {} / {}; {} / {}; {}",
                at(0.5),
                at(0.99),
                run.invocations,
                run.handed_back,
                aws_requests(run)
            );
        }
    }
    method(&mut out, results);
    out
}

/// What the shape is.
fn intro(out: &mut String, results: &NoisyResults) {
    let timeout_s = DELIVERY_TIMEOUT_MS.parse::<f64>().unwrap_or(f64::NAN) / 1e3;
    let _ = writeln!(
        out,
        "One event type, {} events ({}), and a **healthy** webhook (a loopback receiver \
         answering 200 at once). **Quiet**: the healthy webhook alone; **busy** (the \
         control): beside two more healthy webhooks; **noisy**: beside a **hanging** one \
         (accepts the connection, answers only after {:.0} s, past the {timeout_s:.0} s \
         delivery timeout, `DELIVERY_TIMEOUT_MS={DELIVERY_TIMEOUT_MS}`) and a **failing** \
         one (answers 500 at once). Every figure is the healthy webhook's; one run each. \
         Load average at start: {}; the shape took {:.0} s.\n",
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
}

/// The runs of a pair that were made, by name.
fn runs(pair: &Pair) -> impl Iterator<Item = (&'static str, &NoisyRun)> {
    [
        ("quiet", Some(&pair.quiet)),
        ("busy", pair.busy.as_ref()),
        ("noisy", Some(&pair.noisy)),
    ]
    .into_iter()
    .filter_map(|(name, run)| Some((name, run?)))
}

/// One backend's rows: quiet, busy, noisy.
fn pair_rows(out: &mut String, label: &str, pair: &Pair) {
    for (name, run) in runs(pair) {
        let noisy = name == "noisy";
        let over_quiet = if !noisy {
            "—".to_owned()
        } else {
            match pair.ratio() {
                Some(r) if pair.exact() => format!("**{}** — {}", ratio(r), verdict(pair.met())),
                Some(r) => format!("**> {}** — not met", ratio(r)),
                None => "— (quiet incomplete)".to_owned(),
            }
        };
        let over_busy = match (noisy, pair.control_ratio()) {
            (true, Some(r)) => ratio(r),
            _ => "—".to_owned(),
        };
        let completion = match run.completion {
            Some(completion) => format!("**{}**", time(completion)),
            None => format!("> {} (not all delivered)", time(run.elapsed)),
        };
        let bad = if noisy {
            format!("{} / {}", run.hanging_requests, run.failing_requests)
        } else {
            "—".to_owned()
        };
        let _ = writeln!(
            out,
            "| {label} | {name} | {} of {} | {} | {} | {completion} | {over_quiet} | {over_busy} \
             | {bad} | {} | {} |",
            thousands(run.delivered as f64),
            thousands(run.events as f64),
            time_cell(NoisyRun::percentile(&run.latencies, 0.5), run),
            time_cell(NoisyRun::percentile(&run.latencies, 0.99), run),
            outcomes(run),
            run.duplicates,
        );
    }
}

/// How it is measured.
fn method(out: &mut String, results: &NoisyResults) {
    let _ = writeln!(
        out,
        "\n- Latency: serve, from the `202` of the event's `POST /events`; Lambda, from the \
         start of the run (the first invocation handed out), so its p50 is about half the \
         completion time. Completion: first event sent → last healthy delivery received.\n\
         - `webhooks serve`: the binary of this build on a fresh SQLite file per run, as in \
         the system benchmark, with `DELIVERY_TIMEOUT_MS={DELIVERY_TIMEOUT_MS}` and loopback \
         allowed (`WEBHOOKS_ALLOW_NETS=127.0.0.0/8,::1/128`, its default); the webhooks \
         registered through the API, the events posted by keep-alive connections: **burst**, \
         as fast as the connections go (about 10,000 deliveries a second, all the two cores \
         give, so two more webhooks' work slows the healthy one by their share of the cores; \
         the busy control shows how much); **paced**, event n posted n ÷ {} s after the \
         start, inside what the machine sends, so what is left is the neighbours' own \
         effect. The service retries the failed deliveries on its schedule (first retry \
         after about 5 s) during the run.\n\
         - Lambda: `webhooks-delivery` on moto through the fake runtime API, a fresh stack and \
         process per run; the events handed to it in SQS batches of {BATCH_EVENTS}, one \
         invocation at a time (each as soon as the previous is answered; {} s deadline as \
         deployed), records handed back going out again, until every healthy delivery \
         arrived or {:.0} s passed. The logs and retry queues are purged every 50 ms (moto's \
         `SendMessage` slows with a queue's depth): the retries the bad neighbours cause are \
         not handed back to the function, as they would be on AWS (more noise, not less).\n\
         - The receivers run in the driver process, each on a thread of its own, and each \
         webhook on its own port; the hanging receiver's held requests are cut when a run \
         ends.\n",
        thousands(f64::from(results.paced_rate.max(1))),
        crate::noisy::lambda::BUDGET.as_secs(),
        results.bound.as_secs_f64(),
    );
}

/// `1,234 AWS requests, 1.50 per attempt (dynamodb Query 40, …)`.
fn aws_requests(run: &NoisyRun) -> String {
    let total = crate::aws_requests::total(&run.aws_requests);
    if total == 0 {
        return "AWS requests not counted".to_owned();
    }
    let attempts: u64 = run.outcomes.iter().map(|(_, n)| n).sum();
    let by_action = run
        .aws_requests
        .iter()
        .map(|((service, action), n)| format!("{service} {action} {}", thousands(*n as f64)))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{} AWS requests, {:.2} per attempt ({by_action})",
        thousands(total as f64),
        total as f64 / attempts.max(1) as f64
    )
}

/// Attempts by outcome, every webhook's.
fn outcomes(run: &NoisyRun) -> String {
    if run.outcomes.is_empty() {
        return "none".to_owned();
    }
    run.outcomes
        .iter()
        .map(|(outcome, n)| format!("{outcome} {}", thousands(*n as f64)))
        .collect::<Vec<_>>()
        .join(", ")
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
            aws_requests: Default::default(),
        }
    }

    #[test]
    fn the_section_gives_both_backends_and_the_verdicts() {
        let results = NoisyResults {
            events: 4,
            bound: Duration::from_secs(300),
            local: Some(Pair {
                quiet: run(Some(100), 4),
                busy: None,
                noisy: run(Some(110), 4),
            }),
            local_paced: None,
            paced_rate: 1_000,
            lambda: Some(Pair {
                quiet: run(Some(1_000), 4),
                busy: None,
                noisy: run(None, 2),
            }),
            load_at_start: "1.0".into(),
            took_secs: 9.0,
        };
        let markdown = section(Some(&results));
        assert!(markdown.starts_with("## Noisy neighbour\n"), "{markdown}");
        assert!(markdown.contains("4 events (default 400)"), "{markdown}");
        assert!(
            markdown.contains("| `webhooks serve`, burst | noisy | 4 of 4 | **2.0 ms** | **4.0 ms** | **110 ms** | **1.10×** — met | — |"),
            "{markdown}"
        );
        assert!(
            markdown.contains("| Lambda (delivery function on moto) | noisy | 2 of 4 |"),
            "{markdown}"
        );
        assert!(
            markdown.contains("> 300.0 s (not all delivered) | **> 300×** — not met"),
            "{markdown}"
        );
        assert!(
            markdown.contains("| `webhooks serve`, paced (1,000 events/s) | not measured |"),
            "{markdown}"
        );
        assert!(markdown.contains("(of the 2 received)"), "{markdown}");
        assert!(section(None).contains("Not measured"));
    }
}
