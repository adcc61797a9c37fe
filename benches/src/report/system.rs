//! The system benchmark's table: `webhooks serve` on SQLite against the svix-server
//! reference and the limit reference, one column per shape.

use std::fmt::Write as _;

use super::format::{micros, ratio, spread, verdict};
use super::{Report, ShapeResults, TARGET_FACTOR};
use crate::limit::LimitRun;
use crate::stats;
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
            "**deliveries/s, limit** (the same signed requests, keep-alive, nothing else)",
            &|s| spread(s.limit_summary(LimitRun::rate), thousands),
        );
        row(out, "**ours ÷ limit**", &|s| match s.ratio_to_limit() {
            Some(r) => match s.limit_goal() {
                Some(goal) => format!(
                    "**{}** — {} (goal ≥ {})",
                    ratio(r),
                    verdict(r >= goal),
                    ratio(goal)
                ),
                None => format!("**{}**", ratio(r)),
            },
            None => "not measured".to_owned(),
        });
        row(
            out,
            "**CPU µs per request, limit** (its process, user + system)",
            &|s| spread(s.limit_summary(LimitRun::cpu_us_per_request), micros),
        );
        row(
            out,
            "keep-alive connections of the limit (the service's cap toward one receiver)",
            &|s| s.limit_connections.to_string(),
        );
        row(
            out,
            "connections the service opened to the receiver",
            &|s| spread(s.summary(|r| r.connections as f64), thousands),
        );
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
        row(out, "duplicate deliveries seen (ours / limit)", &|s| {
            format!(
                "{} / {}",
                s.runs.iter().map(|r| r.duplicates).sum::<u64>(),
                s.limit.iter().map(|r| r.duplicates).sum::<u64>()
            )
        });
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "The limit: the same signed requests as the service sends (the core's \
             `delivery_request`), sent over as many keep-alive connections as the service may \
             have open toward the receiver, one request at a time each, with no queue, no \
             store and no log (`bench limit`, a process of its own; see How it is measured).\n"
        );
    }
}
