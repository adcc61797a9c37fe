//! The system benchmark's table: `webhooks serve` on SQLite against the svix-server
//! reference and the naive sender, one column per shape.

use std::fmt::Write as _;

use super::format::{micros, ratio, spread, verdict};
use super::{Report, ShapeResults, TARGET_FACTOR};
use crate::naive::NaiveRun;
use crate::stats::{self, Summary};
use crate::system::{thousands, SystemRun};

impl Report {
    pub(super) fn system_table(&self, out: &mut String) {
        let _ = writeln!(out, "## System benchmark: `webhooks serve` on SQLite\n");
        let runs = self.shapes.first().map_or(0, |s| s.runs.len());
        let _ = write!(out, "| {runs} runs per shape |");
        for s in &self.shapes {
            let _ = write!(out, " {} |", s.shape.describe());
        }
        let _ = write!(out, "\n|---|");
        for _ in &self.shapes {
            let _ = write!(out, "---:|");
        }
        let _ = writeln!(out);
        let naive_rate = Summary::of(&self.naive.iter().map(NaiveRun::rate).collect::<Vec<_>>());
        let naive_cpu = Summary::of(
            &self
                .naive
                .iter()
                .map(NaiveRun::cpu_us_per_delivery)
                .collect::<Vec<_>>(),
        );
        let row = |out: &mut String, label: &str, cell: &dyn Fn(&ShapeResults) -> String| {
            let _ = write!(out, "| {label} |");
            for s in &self.shapes {
                let _ = write!(out, " {} |", cell(s));
            }
            let _ = writeln!(out);
        };
        row(out, "deliveries per run", &|s| {
            thousands(s.shape.deliveries() as f64)
        });
        row(out, "**deliveries/s, ours**", &|s| {
            spread(s.summary(SystemRun::rate), thousands)
        });
        row(out, "deliveries/s, svix-server reference", &|s| {
            thousands(s.reference.rate)
        });
        row(
            out,
            &format!("ours ÷ reference (target ≥ {TARGET_FACTOR:.0}×)"),
            &|s| match s.summary(SystemRun::rate) {
                Some(ours) => {
                    let r = ours.median / s.reference.rate;
                    format!("{} — {}", ratio(r), verdict(r >= TARGET_FACTOR))
                }
                None => "—".to_owned(),
            },
        );
        row(
            out,
            "**CPU µs per delivery, ours** (service process, user + system)",
            &|s| spread(s.summary(SystemRun::cpu_us_per_delivery), micros),
        );
        row(
            out,
            "CPU µs per delivery, reference (server + Postgres + Redis)",
            &|s| thousands(s.reference.cpu_us),
        );
        row(
            out,
            &format!("reference ÷ ours (target ≥ {TARGET_FACTOR:.0}×)"),
            &|s| match s.summary(SystemRun::cpu_us_per_delivery) {
                Some(ours) => {
                    let r = s.reference.cpu_us / ours.median;
                    format!(
                        "{} — {} (≤ {} µs)",
                        ratio(r),
                        verdict(r >= TARGET_FACTOR),
                        micros(s.reference.cpu_us / TARGET_FACTOR)
                    )
                }
                None => "—".to_owned(),
            },
        );
        row(
            out,
            "naive sender deliveries/s (one at a time, new connection each)",
            &|_| spread(naive_rate, thousands),
        );
        row(
            out,
            "ours ÷ naive",
            &|s| match (s.summary(SystemRun::rate), naive_rate) {
                (Some(ours), Some(naive)) => ratio(ours.median / naive.median),
                _ => "—".to_owned(),
            },
        );
        row(out, "naive sender CPU µs per delivery", &|_| {
            spread(naive_cpu, micros)
        });
        row(out, "`POST /events` accepted/s", &|s| {
            let events = s.shape.events;
            spread(s.summary(|r| r.ingest_rate(events)), thousands)
        });
        row(out, "receiver CPU, cores used", &|s| {
            spread(s.summary(SystemRun::receiver_cores), |v| format!("{v:.3}"))
        });
        row(out, "receiver CPU µs per delivery", &|s| {
            spread(
                s.summary(|r| stats::micros_each(r.receiver_cpu, r.deliveries)),
                micros,
            )
        });
        row(out, "service peak RSS", &|s| {
            spread(
                s.summary(|r| r.peak_rss_kib.map_or(f64::NAN, |k| k as f64 / 1024.0)),
                |v| format!("{v:.0} MiB"),
            )
        });
        row(out, "service log output per delivery", &|s| {
            spread(s.summary(|r| r.log_bytes_per_delivery), |v| {
                format!("{v:.0} B")
            })
        });
        row(out, "duplicate deliveries seen", &|s| {
            s.runs.iter().map(|r| r.duplicates).sum::<u64>().to_string()
        });
        let _ = writeln!(out);
    }
}
