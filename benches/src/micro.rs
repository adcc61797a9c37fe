//! The criterion micro-benchmarks of the per-delivery pure work — signing (both
//! schemes, 1 KiB and 64 KiB bodies), event parsing + validation, fan-out matching
//! over 10,000 webhooks — and the reader of their results for the report.
//!
//! They run in-process from `bench micro` (what `make bench` does: one release build
//! for everything) and from `cargo bench -p webhooks-bench` (`benches/micro.rs`).

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput as CriterionThroughput};
use webhooks_core::domain::event::Event;
use webhooks_core::domain::ids::EventId;
use webhooks_core::domain::signing::{self, SigningSecrets};
use webhooks_core::domain::time::Timestamp;

use crate::fixtures::{self, CLIENT, EVENT_TYPE, SECRET, WHSEC_SECRET};

/// Every micro-benchmark.
pub fn all(c: &mut Criterion) {
    signing(c);
    event_parse(c);
    fan_out(c);
}

/// Runs every micro-benchmark with short times, results under `dir`.
pub fn run(dir: &Path, warm_up: Duration, measurement: Duration) {
    let mut criterion = Criterion::default()
        .warm_up_time(warm_up)
        .measurement_time(measurement)
        .without_plots()
        .output_directory(dir);
    all(&mut criterion);
    criterion.final_summary();
}

const SIZES: [(usize, &str); 2] = [(1024, "1KiB"), (64 * 1024, "64KiB")];
const MSG_ID: &str = "dlv_dab7993b26b910920b9004048bbad7c2";
const TIMESTAMP: i64 = 1_795_000_000;

pub fn signing(c: &mut Criterion) {
    let mut group = c.benchmark_group("signing");
    for (size, label) in SIZES {
        let body = fixtures::body_of_size(size);
        group.throughput(CriterionThroughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("hmac_hex", label), &body, |b, body| {
            b.iter(|| signing::hmac_hex(black_box(SECRET), black_box(body)));
        });
        group.bench_with_input(
            BenchmarkId::new("standard_whsec", label),
            &body,
            |b, body| {
                b.iter(|| {
                    signing::standard_signature(
                        black_box(WHSEC_SECRET),
                        MSG_ID,
                        TIMESTAMP,
                        black_box(body),
                    )
                });
            },
        );
        let secrets = SigningSecrets {
            current: SECRET.to_owned(),
            previous: None,
        };
        group.bench_with_input(BenchmarkId::new("both_headers", label), &body, |b, body| {
            b.iter(|| signing::signature_headers(&secrets, MSG_ID, TIMESTAMP, black_box(body)));
        });
    }
    group.finish();
}

pub fn event_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("event");
    let body = fixtures::event_body(42);
    let at = Timestamp::from_unix_millis(1_795_000_000_000);
    group.throughput(CriterionThroughput::Elements(1));
    group.bench_function("parse_validate", |b| {
        b.iter(|| Event::parse(black_box(&body), || EventId::from_trusted("evt_bench"), at));
    });
    group.finish();
}

pub fn fan_out(c: &mut Criterion) {
    let mut group = c.benchmark_group("fanout");
    let webhooks = fixtures::webhooks(10_000);
    group.throughput(CriterionThroughput::Elements(webhooks.len() as u64));
    group.bench_function("wants_10000", |b| {
        b.iter(|| {
            black_box(&webhooks)
                .iter()
                .filter(|w| w.wants(black_box(EVENT_TYPE), black_box(CLIENT)))
                .count()
        });
    });
    group.finish();
}

/// One micro-benchmark's result.
#[derive(Clone, Debug, PartialEq)]
pub struct MicroResult {
    /// `group/function/parameter`.
    pub id: String,
    /// Median time per iteration, nanoseconds, with criterion's 95 % interval.
    pub median_ns: f64,
    pub low_ns: f64,
    pub high_ns: f64,
    /// Bytes or elements per iteration, when the benchmark declared them.
    pub throughput: Option<Throughput>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Throughput {
    Bytes(u64),
    Elements(u64),
}

/// Every result under `dir` (criterion's output directory), sorted by id.
pub fn read_results(dir: &Path) -> Vec<MicroResult> {
    let mut found = Vec::new();
    collect(dir, &mut found);
    found.sort_by(|a, b| a.id.cmp(&b.id));
    found
}

fn collect(dir: &Path, found: &mut Vec<MicroResult>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|name| name == "new") {
            if let Some(result) = read_one(&path) {
                found.push(result);
            }
        } else if path
            .file_name()
            .is_none_or(|name| name != "base" && name != "change")
        {
            collect(&path, found);
        }
    }
}

fn read_one(dir: &Path) -> Option<MicroResult> {
    let read = |name: &str| -> Option<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).ok()?).ok()
    };
    let benchmark = read("benchmark.json")?;
    let estimates = read("estimates.json")?;
    let median = &estimates["median"];
    let throughput = match &benchmark["throughput"] {
        serde_json::Value::Object(map) => map.iter().find_map(|(kind, n)| {
            let n = n.as_u64()?;
            match kind.as_str() {
                "Bytes" | "BytesDecimal" => Some(Throughput::Bytes(n)),
                "Elements" => Some(Throughput::Elements(n)),
                _ => None,
            }
        }),
        _ => None,
    };
    Some(MicroResult {
        id: benchmark["full_id"].as_str()?.to_owned(),
        median_ns: median["point_estimate"].as_f64()?,
        low_ns: median["confidence_interval"]["lower_bound"].as_f64()?,
        high_ns: median["confidence_interval"]["upper_bound"].as_f64()?,
        throughput,
    })
}

/// `1234.5` ns → `1.23 µs`.
pub fn format_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

impl MicroResult {
    /// MiB/s or elements/s at the median.
    pub fn rate(&self) -> Option<String> {
        let per_second = 1e9 / self.median_ns;
        match self.throughput? {
            Throughput::Bytes(n) => Some(format!(
                "{:.0} MiB/s",
                n as f64 * per_second / 1024.0 / 1024.0
            )),
            Throughput::Elements(n) => Some(format!(
                "{} elements/s",
                crate::system::thousands(n as f64 * per_second)
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_read_from_criterions_files() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("signing/hmac_hex/1KiB/new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(
            new.join("benchmark.json"),
            r#"{"full_id":"signing/hmac_hex/1KiB","throughput":{"Bytes":1024}}"#,
        )
        .unwrap();
        std::fs::write(
            new.join("estimates.json"),
            r#"{"median":{"point_estimate":1500.0,"confidence_interval":{"lower_bound":1400.0,"upper_bound":1600.0}}}"#,
        )
        .unwrap();
        let results = read_results(dir.path());
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].id, "signing/hmac_hex/1KiB");
        assert_eq!(format_ns(results[0].median_ns), "1.50 µs");
        assert_eq!(results[0].rate().as_deref(), Some("651 MiB/s"));
    }
}
