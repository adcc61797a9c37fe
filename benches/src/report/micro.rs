//! The criterion micro-benchmarks' table and what each benchmark measures.

use std::fmt::Write as _;

use super::Report;
use crate::micro::format_ns;

impl Report {
    pub(super) fn micro_table(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "## Micro-benchmarks (criterion, `benches/benches/micro.rs`)\n"
        );
        if self.micro.is_empty() {
            let _ = writeln!(
                out,
                "Not measured in this run (no criterion results found; `make bench` runs them first).\n"
            );
            return;
        }
        let _ = writeln!(
            out,
            "| benchmark | median time (95 % interval) | throughput |"
        );
        let _ = writeln!(out, "|---|---:|---:|");
        for result in &self.micro {
            let _ = writeln!(
                out,
                "| `{}` | **{}** ({}–{}) | {} |",
                result.id,
                format_ns(result.median_ns),
                format_ns(result.low_ns),
                format_ns(result.high_ns),
                result.rate().unwrap_or_default()
            );
        }
        let _ = writeln!(
            out,
            "\n`signing/*`: `hmac_hex` is `X-Authorization-HMAC-256`, `standard_whsec` one Standard \
             Webhooks `v1,` signature with a `whsec_` key, `both_headers` every signature header of \
             a delivery. `event/parse_validate`: `Event::parse` of a 110-byte producer event. \
             `fanout/wants_10000`: `Webhook::wants` over 10,000 webhooks (3 event types, half \
             scoped to client lists).\n"
        );
    }
}
