//! AWS requests per delivery: the delivery function's release binary on moto, behind
//! the counting proxy ([`crate::aws_requests`]), at fan-out 1, 10 and 100 (one event
//! type with that many webhooks, each with a secret), one cold invocation then warm
//! ones, each a batch of [`BATCH_EVENTS`] new events. What the function calls, per
//! delivery and by action, and what it costs at list prices ([`Prices`]).

use crate::aws_delivery::{create_webhooks, invoke, BATCH_EVENTS};
use crate::aws_requests::{since, total, CountingProxy, Counts, Tallies};
use crate::http::Conn;
use crate::lambda::{binary, FunctionProcess, Stack};
use crate::system::Receiver;
use crate::Result;

/// The fan-outs measured.
pub const FAN_OUTS: [usize; 3] = [1, 10, 100];
/// Warm invocations per fan-out.
pub const WARM: usize = 3;
/// How long the driver waits for the function to start.
const INIT_PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// List prices, us-east-1, as published in 2026 (USD): what the cost lines use.
pub struct Prices;

impl Prices {
    /// SQS standard queue, per request (a `SendMessageBatch` of up to 10 entries and
    /// 64 KiB is one request).
    pub const SQS_REQUEST: f64 = 0.40 / 1e6;
    /// DynamoDB on demand, per read request unit (4 KB strongly consistent, 8 KB
    /// eventually consistent).
    pub const DYNAMODB_READ_UNIT: f64 = 0.125 / 1e6;
    /// DynamoDB on demand, per write request unit (1 KB).
    pub const DYNAMODB_WRITE_UNIT: f64 = 0.625 / 1e6;
    /// Secrets Manager, per API call.
    pub const SECRETS_CALL: f64 = 0.05 / 1e4;
    /// KMS, per API call.
    pub const KMS_CALL: f64 = 0.03 / 1e4;
    /// Secrets Manager, per secret and month.
    pub const SECRET_MONTH: f64 = 0.40;
}

/// One fan-out's invocations.
#[derive(Clone, Debug)]
pub struct RequestsRun {
    pub fan_out: usize,
    /// The cold invocation's tallies.
    pub cold: Tallies,
    /// The warm invocations' tallies, summed.
    pub warm: Tallies,
    pub warm_invocations: usize,
}

impl RequestsRun {
    /// Deliveries of one invocation.
    pub fn deliveries(&self) -> u64 {
        (BATCH_EVENTS * self.fan_out) as u64
    }

    /// Warm requests per delivery.
    pub fn warm_per_delivery(&self) -> f64 {
        total(&self.warm.requests) as f64 / self.warm_deliveries()
    }

    /// Cold requests per delivery.
    pub fn cold_per_delivery(&self) -> f64 {
        total(&self.cold.requests) as f64 / self.deliveries().max(1) as f64
    }

    fn warm_deliveries(&self) -> f64 {
        (self.deliveries() * self.warm_invocations.max(1) as u64) as f64
    }

    /// What the warm invocations' calls cost per million deliveries, by service.
    pub fn warm_cost_per_million(&self) -> Vec<(&'static str, f64)> {
        cost_per_million(&self.warm, self.warm_deliveries())
    }
}

/// `tallies`' cost per million of `deliveries`, by service: SQS and Secrets Manager
/// and KMS by request, DynamoDB reads by response bytes (eventually consistent,
/// 8 KB a unit, at least one a call), DynamoDB writes at one unit a call (the
/// function writes only small items: `failing_since`, health).
pub fn cost_per_million(tallies: &Tallies, deliveries: f64) -> Vec<(&'static str, f64)> {
    let mut sqs = 0.0;
    let mut dynamodb = 0.0;
    let mut secrets = 0.0;
    let mut kms = 0.0;
    for ((service, action), n) in &tallies.requests {
        let n = *n as f64;
        let bytes = tallies
            .response_bytes
            .get(&(service.clone(), action.clone()))
            .copied()
            .unwrap_or(0) as f64;
        match service.as_str() {
            "sqs" => sqs += n * Prices::SQS_REQUEST,
            "dynamodb" if is_read(action) => {
                let units = (bytes / 8192.0).max(n);
                dynamodb += units * Prices::DYNAMODB_READ_UNIT;
            }
            "dynamodb" => dynamodb += n * Prices::DYNAMODB_WRITE_UNIT,
            "secretsmanager" => secrets += n * Prices::SECRETS_CALL,
            "kms" => kms += n * Prices::KMS_CALL,
            _ => {}
        }
    }
    let per_million = 1e6 / deliveries.max(1.0);
    [
        ("SQS", sqs),
        ("DynamoDB", dynamodb),
        ("Secrets Manager", secrets),
        ("KMS", kms),
    ]
    .into_iter()
    .map(|(service, cost)| (service, cost * per_million))
    .collect()
}

fn is_read(action: &str) -> bool {
    matches!(
        action,
        "Query" | "GetItem" | "BatchGetItem" | "Scan" | "TransactGetItems"
    )
}

/// Runs every fan-out of [`FAN_OUTS`] on a stack of its own.
pub async fn measure(functions: &std::path::Path, receiver: &Receiver) -> Result<Vec<RequestsRun>> {
    let path = binary(functions, "delivery")?;
    let mut runs = Vec::new();
    let mut waiter = Conn::open(receiver.addr).await?;
    for fan_out in FAN_OUTS {
        let stack = Stack::create().await?;
        create_webhooks(&stack, receiver.addr, fan_out).await?;
        let proxy = CountingProxy::start(&stack.moto.endpoint).await?;
        let env = stack.env_via(&proxy.endpoint);
        let mut function = FunctionProcess::spawn(&path, "delivery", &env).await?;
        function.wait_init(INIT_PATIENCE).await?;
        let mut tallies = Vec::new();
        for _ in 0..=WARM {
            let before = proxy.tallies();
            invoke(&function, &stack, receiver, &mut waiter, fan_out)
                .await
                .map_err(|e| {
                    format!(
                        "fan-out {fan_out}: {e}; the function's output: {}",
                        function.output()
                    )
                })?;
            let after = proxy.tallies();
            tallies.push(Tallies {
                requests: since(&before.requests, &after.requests),
                response_bytes: since(&before.response_bytes, &after.response_bytes),
            });
        }
        function.stop().await?;
        let mut tallies = tallies.into_iter();
        let cold = tallies.next().unwrap_or_default();
        let warm = tallies.fold(Tallies::default(), |sum, one| Tallies {
            requests: add(sum.requests, &one.requests),
            response_bytes: add(sum.response_bytes, &one.response_bytes),
        });
        let run = RequestsRun {
            fan_out,
            cold,
            warm,
            warm_invocations: WARM,
        };
        eprintln!(
            "aws requests, fan-out {fan_out}: {:.3} per delivery warm, {:.3} cold",
            run.warm_per_delivery(),
            run.cold_per_delivery()
        );
        runs.push(run);
    }
    Ok(runs)
}

fn add(mut sum: Counts, more: &Counts) -> Counts {
    for (key, n) in more {
        *sum.entry(key.clone()).or_insert(0) += n;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(service: &str, action: &str) -> (String, String) {
        (service.to_owned(), action.to_owned())
    }

    #[test]
    fn costs_price_reads_by_bytes_and_the_rest_by_request() {
        // GIVEN 10 deliveries' calls: 1 SendMessageBatch, 2 Queries reading 40 KB,
        // 1 GetSecretValue
        let tallies = Tallies {
            requests: Counts::from([
                (key("sqs", "SendMessageBatch"), 1),
                (key("dynamodb", "Query"), 2),
                (key("secretsmanager", "GetSecretValue"), 1),
            ]),
            response_bytes: Counts::from([(key("dynamodb", "Query"), 40_960)]),
        };
        // WHEN priced per million deliveries
        let cost: std::collections::HashMap<_, _> =
            cost_per_million(&tallies, 10.0).into_iter().collect();
        // THEN SQS is 0.1 M requests, DynamoDB 0.5 M read units, Secrets Manager 0.1 M calls
        assert!((cost["SQS"] - 0.04).abs() < 1e-9, "{cost:?}");
        assert!((cost["DynamoDB"] - 0.0625).abs() < 1e-9, "{cost:?}");
        assert!((cost["Secrets Manager"] - 0.5).abs() < 1e-9, "{cost:?}");
        assert_eq!(cost["KMS"], 0.0);
    }
}
