//! Delivery metrics as CloudWatch Embedded Metric Format (EMF) lines: deliveries by
//! outcome and delivery latency, and the webhooks the service disabled
//! (`WebhooksDisabled`). The delivery function collects them per batch and
//! prints them to stdout, where the Lambda log agent turns them into metrics.
//!
//! Every metric of a deployment carries the dimension [`STACK_DIMENSION`] = its stack's
//! name, so two stacks in one account (staging and prod) write different series:
//! `Deliveries` and `DeliveryLatency` by (`Stack`, `Outcome`); metrics without an
//! outcome (`WebhooksDisabled`) by `Stack` alone, in the same namespace.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde_json::{json, Value};

use crate::domain::delivery_log::{DeliveryLogRecord, Outcome};
use crate::domain::ids::WebhookId;
use crate::domain::time::Timestamp;

pub use crate::ports::DeliveryObserver;

/// EMF allows at most 100 values per metric in one line.
const MAX_VALUES: usize = 100;

/// The dimension that names the deployment (the stack) a metric comes from.
pub const STACK_DIMENSION: &str = "Stack";

/// Collects one batch's attempts; `flush` renders and forgets them.
#[derive(Default)]
pub struct EmfMetrics {
    namespace: String,
    stack: String,
    by_outcome: Mutex<BTreeMap<&'static str, Vec<u64>>>,
    disabled: AtomicUsize,
}

impl EmfMetrics {
    /// Metrics in `namespace`, each with the dimension `Stack` = `stack`.
    pub fn new(namespace: impl Into<String>, stack: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            stack: stack.into(),
            by_outcome: Mutex::default(),
            disabled: AtomicUsize::new(0),
        }
    }

    /// The EMF lines of everything observed since the last flush.
    pub fn flush(&self, now: Timestamp) -> Vec<String> {
        let taken = std::mem::take(&mut *self.by_outcome.lock().unwrap_or_else(|e| e.into_inner()));
        let mut lines = Vec::new();
        for (outcome, latencies) in taken {
            for chunk in latencies.chunks(MAX_VALUES) {
                lines.push(self.line(now, outcome, chunk).to_string());
            }
        }
        let disabled = self.disabled.swap(0, Ordering::Relaxed);
        if disabled > 0 {
            lines.push(self.disabled_line(now, disabled).to_string());
        }
        lines
    }

    fn disabled_line(&self, now: Timestamp, count: usize) -> Value {
        json!({
            "_aws": {
                "Timestamp": now.unix_millis(),
                "CloudWatchMetrics": [{
                    "Namespace": self.namespace,
                    "Dimensions": [[STACK_DIMENSION]],
                    "Metrics": [{"Name": "WebhooksDisabled", "Unit": "Count"}]
                }]
            },
            STACK_DIMENSION: self.stack,
            "WebhooksDisabled": count,
        })
    }

    fn line(&self, now: Timestamp, outcome: &str, latencies: &[u64]) -> Value {
        json!({
            "_aws": {
                "Timestamp": now.unix_millis(),
                "CloudWatchMetrics": [{
                    "Namespace": self.namespace,
                    "Dimensions": [[STACK_DIMENSION, "Outcome"]],
                    "Metrics": [
                        {"Name": "Deliveries", "Unit": "Count"},
                        {"Name": "DeliveryLatency", "Unit": "Milliseconds"}
                    ]
                }]
            },
            STACK_DIMENSION: self.stack,
            "Outcome": outcome,
            "Deliveries": latencies.len(),
            "DeliveryLatency": latencies,
        })
    }
}

impl DeliveryObserver for EmfMetrics {
    fn attempted(&self, record: &DeliveryLogRecord) {
        let outcome: &'static str = Outcome::as_str(record.outcome);
        self.by_outcome
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(outcome)
            .or_default()
            .push(record.elapsed_ms.unwrap_or(0));
    }

    fn webhook_disabled(&self, _webhook: &WebhookId) {
        self.disabled.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{DeliveryId, EventId};

    fn record(outcome: Outcome, elapsed_ms: u64) -> DeliveryLogRecord {
        DeliveryLogRecord {
            delivery_id: DeliveryId::from_trusted("dlv_1"),
            webhook_id: WebhookId::from_trusted("wh_1"),
            event_id: EventId::from_trusted("evt_1"),
            event: "report.publish_status".into(),
            client_id: "acme".into(),
            attempt: 1,
            outcome,
            status_code: Some(200),
            elapsed_ms: Some(elapsed_ms),
            error: None,
            response_excerpt: None,
            at: Timestamp::from_unix_millis(0),
            next_attempt_at: None,
        }
    }

    #[test]
    fn one_line_per_outcome_with_counts_and_latencies() {
        // GIVEN metrics of the stack webhooks-prod that saw three attempts
        let metrics = EmfMetrics::new("Webhooks", "webhooks-prod");
        metrics.attempted(&record(Outcome::Succeeded, 12));
        metrics.attempted(&record(Outcome::Succeeded, 30));
        metrics.attempted(&record(Outcome::Retrying, 5000));
        // WHEN they are flushed
        let lines = metrics.flush(Timestamp::from_unix_millis(1_000));
        // THEN there is one line per outcome, with its count and latencies
        assert_eq!(lines.len(), 2);
        let retrying: Value = serde_json::from_str(&lines[0]).unwrap();
        let succeeded: Value = serde_json::from_str(&lines[1]).unwrap();
        assert_eq!(succeeded["Outcome"], "succeeded");
        assert_eq!(succeeded["Deliveries"], 2);
        assert_eq!(succeeded["DeliveryLatency"], json!([12, 30]));
        assert_eq!(retrying["Deliveries"], 1);
        assert_eq!(
            succeeded["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "Webhooks"
        );
        assert_eq!(succeeded["_aws"]["Timestamp"], 1000);
        // AND each line's series is the stack's: Stack is a dimension with its value
        assert_eq!(
            succeeded["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Stack", "Outcome"]])
        );
        assert_eq!(succeeded["Stack"], "webhooks-prod");
        assert_eq!(retrying["Stack"], "webhooks-prod");
        // AND a second flush has nothing left
        assert!(metrics.flush(Timestamp::from_unix_millis(2_000)).is_empty());
    }

    #[test]
    fn each_disabling_counts_in_one_webhooks_disabled_line() {
        // GIVEN two webhooks disabled in one batch
        let metrics = EmfMetrics::new("Webhooks", "webhooks-prod");
        metrics.webhook_disabled(&WebhookId::from_trusted("wh_1"));
        metrics.webhook_disabled(&WebhookId::from_trusted("wh_2"));
        // WHEN flushed THEN one line counts both, and the next flush has none
        let lines = metrics.flush(Timestamp::from_unix_millis(0));
        assert_eq!(lines.len(), 1);
        let line: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(line["WebhooksDisabled"], 2);
        // (the series of the stack, as the template's alarm reads it)
        assert_eq!(line["Stack"], "webhooks-prod");
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Stack"]])
        );
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"],
            "WebhooksDisabled"
        );
        assert!(metrics.flush(Timestamp::from_unix_millis(1)).is_empty());
    }

    #[test]
    fn more_than_100_values_split_into_lines() {
        // GIVEN 250 attempts of one outcome
        let metrics = EmfMetrics::new("Webhooks", "webhooks-prod");
        for i in 0..250 {
            metrics.attempted(&record(Outcome::Succeeded, i));
        }
        // WHEN they are flushed, THEN they take three lines of at most 100 values
        let lines = metrics.flush(Timestamp::from_unix_millis(0));
        let counts: Vec<u64> = lines
            .iter()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["Deliveries"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(counts, [100, 100, 50]);
    }
}
