//! `BENCHMARKS.json`: the report's headline figures (medians) for programs comparing
//! runs. A figure this build does not measure is `null`, never a guess.

use serde_json::{json, Value};

use super::{Report, ShapeResults};
use crate::aws_delivery::BatchRun;
use crate::limit::LimitRun;
use crate::stats::Summary;
use crate::system::{SystemRun, SHAPE_A, SHAPE_B};

/// The fan-out whose warm requests per delivery are the headline figure.
const HEADLINE_FAN_OUT: usize = 10;

impl Report {
    pub fn json(&self) -> Value {
        let shape = |name: &str| {
            let results = self.shapes.iter().find(|s| s.shape.name == name);
            json!({
                "deliveries_per_s": median(results, SystemRun::rate),
                "cpu_us_per_delivery": median(results, SystemRun::cpu_us_per_delivery),
                "ratio_to_limit": results.and_then(ShapeResults::ratio_to_limit),
                "limit_deliveries_per_s": limit_median(results, LimitRun::rate),
                "limit_cpu_us_per_request": limit_median(results, LimitRun::cpu_us_per_request),
            })
        };
        // The limit differs per shape; the headline one is B's, whose goal is a
        // fraction of it.
        let limit_b = self.shapes.iter().find(|s| s.shape.name == SHAPE_B.name);
        let noisy = self.noisy.as_ref().map(|n| n.json()["noisy"].clone());
        let aws = self.aws.as_ref();
        let warm_cpu = aws.and_then(|a| batch_median(&a.delivery.warm));
        let cold_cpu = aws.and_then(|a| batch_median(&a.delivery.cold));
        let init_ms_max = aws.and_then(|a| {
            a.functions
                .iter()
                .flat_map(|f| f.init.iter())
                .map(|d| d.as_secs_f64() * 1e3)
                .reduce(f64::max)
        });
        let requests = aws.and_then(|a| {
            a.requests
                .iter()
                .find(|r| r.fan_out == HEADLINE_FAN_OUT)
                .map(|r| r.warm_per_delivery())
        });
        let max_mib = aws.and_then(|a| {
            a.functions
                .iter()
                .map(|f| f.size_bytes as f64 / (1024.0 * 1024.0))
                .reduce(f64::max)
        });
        // Fan-out's read on the largest table after the backfill.
        let fanout = aws.and_then(|a| {
            a.fanout
                .iter()
                .filter(|f| f.path.starts_with("after"))
                .max_by_key(|f| f.webhooks_of_type)
                .map(|f| {
                    json!({
                        "webhooks_of_type": f.webhooks_of_type,
                        "read_units_per_event": f.read_units,
                        "cpu_ms_per_event": f.cpu_ms,
                    })
                })
        });
        json!({
            "profile": self.build.profile,
            "machine": {"cores": self.machine.cores},
            "system": {
                "a": shape(SHAPE_A.name),
                "b": shape(SHAPE_B.name),
                "limit": {
                    "deliveries_per_s": limit_median(limit_b, LimitRun::rate),
                    "cpu_us_per_request": limit_median(limit_b, LimitRun::cpu_us_per_request),
                },
            },
            "noisy": noisy.unwrap_or(Value::Null),
            "lambda": {
                "warm_cpu_us_per_delivery": warm_cpu,
                "cold_cpu_us_per_delivery": cold_cpu,
                "init_ms_max": init_ms_max,
                "aws_requests_per_delivery": requests,
                "aws_requests_fan_out": HEADLINE_FAN_OUT,
                "fanout_read": fanout,
            },
            "binary": {"max_mib": max_mib},
        })
    }
}

fn median(results: Option<&ShapeResults>, measure: fn(&SystemRun) -> f64) -> Option<f64> {
    results.and_then(|r| r.summary(measure)).map(|s| s.median)
}

fn limit_median(results: Option<&ShapeResults>, measure: fn(&LimitRun) -> f64) -> Option<f64> {
    results
        .and_then(|r| r.limit_summary(measure))
        .map(|s| s.median)
}

fn batch_median(runs: &[BatchRun]) -> Option<f64> {
    Summary::of(
        &runs
            .iter()
            .map(BatchRun::function_cpu_us_per_delivery)
            .collect::<Vec<_>>(),
    )
    .map(|s| s.median)
}
