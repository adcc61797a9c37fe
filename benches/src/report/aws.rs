//! The AWS section: the delivery handler's batches on moto, cold and warm, and the
//! Lambda binaries' sizes, init times and memory.

use std::fmt::Write as _;

use super::format::{mebibytes, micros, millis, spread};
use super::Report;
use crate::aws_delivery::{BatchRun, BATCH_EVENTS, FAN_OUT};
use crate::stats::Summary;
use crate::system::thousands;

impl Report {
    pub(super) fn aws_section(&self, out: &mut String) {
        let _ = writeln!(out, "## AWS: delivery handler on moto, Lambda binaries\n");
        let Some(aws) = &self.aws else {
            let _ = writeln!(
                out,
                "Not measured in this run (`bench system` without `--functions`; `make bench` \
                 runs it under `scripts/moto.sh run` with the functions' binaries).\n"
            );
            return;
        };
        let d = &aws.delivery;
        let _ = writeln!(
            out,
            "### `webhooks-delivery` on the AWS adapters against moto: one SQS batch of {} \
             events × fan-out {} = {} deliveries\n",
            BATCH_EVENTS,
            FAN_OUT,
            thousands((BATCH_EVENTS * FAN_OUT) as f64)
        );
        let _ = writeln!(
            out,
            "| {} processes | cold: a process's first invocation ({} runs) | warm: later \
             invocations ({} runs) |\n|---|---:|---:|",
            d.init.len(),
            d.cold.len(),
            d.warm.len()
        );
        let of = |runs: &[BatchRun], measure: fn(&BatchRun) -> f64| {
            Summary::of(&runs.iter().map(measure).collect::<Vec<_>>())
        };
        let row = |out: &mut String,
                   label: &str,
                   measure: fn(&BatchRun) -> f64,
                   format: &dyn Fn(f64) -> String| {
            let _ = writeln!(
                out,
                "| {label} | {} | {} |",
                spread(of(&d.cold, measure), format),
                spread(of(&d.warm, measure), format)
            );
        };
        row(out, "**wall time per batch**", BatchRun::wall_ms, &millis);
        row(out, "deliveries/s", BatchRun::rate, &thousands);
        row(
            out,
            "function CPU per batch (user + system)",
            BatchRun::function_cpu_ms,
            &millis,
        );
        row(
            out,
            "**function CPU µs per delivery**",
            BatchRun::function_cpu_us_per_delivery,
            &micros,
        );
        row(
            out,
            "moto CPU per batch (apart: the emulator, purges included)",
            BatchRun::moto_cpu_ms,
            &millis,
        );
        row(
            out,
            "**function peak RSS** (`VmHWM` after the invocation)",
            BatchRun::peak_rss_mib,
            &|v| format!("{v:.0} MiB"),
        );
        let duplicates = |runs: &[BatchRun]| runs.iter().map(|r| r.duplicates).sum::<u64>();
        let _ = writeln!(
            out,
            "| duplicate deliveries seen | {} | {} |",
            duplicates(&d.cold),
            duplicates(&d.warm)
        );
        let init = Summary::of(
            &d.init
                .iter()
                .map(|i| i.as_secs_f64() * 1e3)
                .collect::<Vec<_>>(),
        );
        let _ = writeln!(
            out,
            "| process init (spawn → first `/next`) | {} | — |\n",
            spread(init, millis)
        );
        if !d.moto_measured {
            let _ = writeln!(
                out,
                "Moto's CPU was not measured (`MOTO_PID` unset: run under `scripts/moto.sh run`).\n"
            );
        }

        out.push_str(&super::aws_cost::section(&aws.requests));
        if !aws.fanout.is_empty() {
            out.push_str(&crate::fanout_reads::section(&aws.fanout));
        }

        let _ = writeln!(out, "### Lambda binaries\n");
        let _ = writeln!(
            out,
            "| function | stripped binary | gzipped (`gzip -6`, ≈ its zip) | **init: spawn → \
             first `/next`** ({} spawns) | RSS at first `/next` |\n|---|---:|---:|---:|---:|",
            aws.init_spawns
        );
        for f in &aws.functions {
            let init = Summary::of(
                &f.init
                    .iter()
                    .map(|i| i.as_secs_f64() * 1e3)
                    .collect::<Vec<_>>(),
            );
            let rss = Summary::of(
                &f.rss_kib
                    .iter()
                    .map(|&k| k as f64 / 1024.0)
                    .collect::<Vec<_>>(),
            );
            let _ = writeln!(
                out,
                "| `webhooks-{}` | {} | {} | {} | {} |",
                f.name,
                mebibytes(f.size_bytes),
                f.gzip_bytes
                    .map_or_else(|| "gzip missing".to_owned(), mebibytes),
                spread(init, millis),
                spread(rss, |v| format!("{v:.1} MiB"))
            );
        }
        let _ = writeln!(out);
    }
}
