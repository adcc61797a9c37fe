//! The AWS section's "requests per delivery" part: what the delivery function calls
//! at fan-out 1, 10 and 100, by action, and what that costs at list prices.

use std::fmt::Write as _;

use crate::aws_cost::{RequestsRun, WARM};
use crate::aws_delivery::BATCH_EVENTS;
use crate::aws_requests::{total, Counts};

/// The subsection, from the runs (none: not measured).
pub fn section(runs: &[RequestsRun]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### AWS requests per delivery (delivery function)\n");
    if runs.is_empty() {
        let _ = writeln!(out, "Not measured in this run.\n");
        return out;
    }
    let _ = writeln!(
        out,
        "Counted by a proxy between the function and moto: one batch of {BATCH_EVENTS} new \
         events per invocation, every webhook of the type enabled and signed, a fresh stack \
         per fan-out; cold is a new process's first invocation, warm the next {WARM}. The \
         cost is the function's own calls at list prices (us-east-1: SQS $0.40 per million \
         requests, DynamoDB on demand $0.125 per million read units — charged here on the \
         response bytes, 8 KB a unit — and $0.625 per million write units, Secrets Manager \
         $0.05 per 10,000 calls, KMS $0.03 per 10,000); the rest of a delivery's cost (the \
         producer's send, the event source mappings, the log-writer's writes, Lambda \
         duration) is in [docs/cost.md](docs/cost.md).\n"
    );
    let _ = writeln!(
        out,
        "| fan-out | requests per delivery, warm | cold | warm, by action (per delivery) | \
         warm cost per million deliveries |\n|---:|---:|---:|---|---:|"
    );
    for run in runs {
        let deliveries = run.deliveries() as f64 * run.warm_invocations.max(1) as f64;
        let costs = run.warm_cost_per_million();
        let cost_total: f64 = costs.iter().map(|(_, c)| c).sum();
        let cost_parts = costs
            .iter()
            .filter(|(_, c)| *c > 0.0)
            .map(|(service, c)| format!("{service} ${c:.3}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            out,
            "| {} | **{:.3}** | {:.3} | {} | **${cost_total:.3}** ({cost_parts}) |",
            run.fan_out,
            run.warm_per_delivery(),
            run.cold_per_delivery(),
            by_action(&run.warm.requests, deliveries),
        );
    }
    let _ = writeln!(out);
    out
}

/// `dynamodb Query 0.100, sqs SendMessageBatch 0.105`.
fn by_action(counts: &Counts, deliveries: f64) -> String {
    if total(counts) == 0 {
        return "none".to_owned();
    }
    counts
        .iter()
        .map(|((service, action), n)| {
            format!("{service} {action} {:.3}", *n as f64 / deliveries.max(1.0))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws_requests::Tallies;

    #[test]
    fn a_fan_out_row_gives_requests_per_delivery_and_the_cost() {
        // GIVEN fan-out 10 with 3 warm invocations: 300 deliveries, 30 Queries, 30 sends
        let key = |s: &str, a: &str| (s.to_owned(), a.to_owned());
        let warm = Tallies {
            requests: Counts::from([
                (key("dynamodb", "Query"), 30),
                (key("sqs", "SendMessageBatch"), 30),
            ]),
            response_bytes: Counts::new(),
        };
        let run = RequestsRun {
            fan_out: 10,
            cold: Tallies::default(),
            warm,
            warm_invocations: 3,
        };
        // WHEN the section is written
        let markdown = section(&[run]);
        // THEN the row says 0.2 requests per delivery, split by action
        assert!(
            markdown.contains(
                "| 10 | **0.200** | 0.000 | dynamodb Query 0.100, sqs SendMessageBatch 0.100 |"
            ),
            "{markdown}"
        );
        assert!(section(&[]).contains("Not measured"));
    }
}
