//! The delivery function: SQS batches from the events queue (events to fan out) and
//! the retry queue (delivery tasks), answered with the records SQS should retry.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use webhooks_aws::config::{self, TimeoutUse};
use webhooks_aws::limits::MAX_BATCH_ENTRIES;
use webhooks_aws::{
    AwsClients, CachedSecrets, DynamoWebhookStore, HandBack, InFlightCount, ModeSecretStore,
    SqsDeadLetters, SqsHandBack, SqsLogSink, SqsTaskQueue, DEFAULT_CACHE_TTL,
};
use webhooks_core::config::{max_in_flight_per_webhook, ConfigError, Env, OutboundConfig};
use webhooks_core::domain::retry::handed_back_visibility;
use webhooks_core::domain::time::Clock;
use webhooks_core::metrics::EmfMetrics;
use webhooks_core::outbound::{GuardedSender, SendError};
use webhooks_core::ports::DeadLetters;
use webhooks_core::usecases::delivery::batch::process_batch;
use webhooks_core::usecases::delivery::hold::{hold_visibility, may_hold};
use webhooks_core::usecases::delivery::{
    CachedSubscribers, DeliveryPorts, DeliverySettings, Dispatcher, GroupedLogSink,
    GroupedTaskQueue,
};

/// The CloudWatch namespace of the delivery metrics; each stack's series are told
/// apart by their `Stack` dimension (`METRICS_STACK`).
pub const METRICS_NAMESPACE: &str = "Webhooks";

/// How long a log record or a task waits for others to share its call. It delays only
/// the invocation's answer, never a delivery (the lane's permit is given back before
/// the record is written). Measured by `bench noisy` (Lambda quiet, 400 events in
/// batches of 10): 5 ms sent 400 records in 146 `SendMessageBatch` calls (2.7 each),
/// 25 ms in 42 (9.5 each), and the run got faster (1.76 s → 1.43 s).
const SEND_GROUP_LINGER: Duration = Duration::from_millis(25);

/// What the delivery function reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub webhooks_table: String,
    pub retry_queue_url: String,
    pub logs_queue_url: String,
    pub events_dlq_url: String,
    /// `SECRETS_MODE` and what its mode needs.
    pub secrets_mode: config::SecretsMode,
    /// `DELIVERY_TIMEOUT_MS` (checked against `FUNCTION_TIMEOUT_SECONDS`),
    /// `WEBHOOKS_ALLOW_NETS`, `WEBHOOKS_REQUIRE_HTTPS`.
    pub outbound: OutboundConfig,
    /// `MAX_IN_FLIGHT_PER_WEBHOOK`.
    pub max_in_flight_per_webhook: usize,
    /// `METRICS_STACK`: the `Stack` dimension of the metrics.
    pub metrics_stack: String,
}

impl Config {
    /// Refuses a `DELIVERY_TIMEOUT_MS` that does not fit in the function's
    /// `FUNCTION_TIMEOUT_SECONDS` (`TimeoutUse::Delivery`).
    pub fn from_env(env: &dyn Env) -> Result<Self, ConfigError> {
        let read = Self {
            webhooks_table: config::webhooks_table(env)?,
            retry_queue_url: config::retry_queue_url(env)?,
            logs_queue_url: config::logs_queue_url(env)?,
            events_dlq_url: config::events_dlq_url(env)?,
            secrets_mode: config::secrets_mode(env)?,
            // The Lambda functions open no private network unless told to.
            outbound: OutboundConfig::from_env(env, "")?,
            max_in_flight_per_webhook: max_in_flight_per_webhook(env)?,
            metrics_stack: config::metrics_stack(env)?,
        };
        TimeoutUse::Delivery.check_env(env, read.outbound.timeout)?;
        Ok(read)
    }
}

/// Everything an invocation needs, built once per process.
pub struct Delivery {
    dispatcher: Dispatcher,
    dead_letters: Arc<dyn DeadLetters>,
    metrics: Arc<EmfMetrics>,
    clock: Arc<dyn Clock>,
    /// Asks SQS to deliver handed-back records again soon, or to keep early tasks
    /// hidden until they are due, and how many the retry queue has in flight (on AWS;
    /// none in tests, which hold nothing).
    hand_back: Option<(SqsHandBack, InFlightCount)>,
}

impl Delivery {
    /// The function on any adapters of its ports (the unit tests use in-memory ones),
    /// its metrics dimensioned by `metrics_stack`.
    pub fn with_ports(
        ports: DeliveryPorts,
        settings: DeliverySettings,
        dead_letters: Arc<dyn DeadLetters>,
        metrics_stack: &str,
    ) -> Self {
        let metrics = Arc::new(EmfMetrics::new(METRICS_NAMESPACE, metrics_stack));
        let clock = ports.clock.clone();
        Self {
            dispatcher: Dispatcher::new(ports, settings).with_observer(metrics.clone()),
            dead_letters,
            metrics,
            clock,
            hand_back: None,
        }
    }

    /// The function on AWS: DynamoDB, Secrets Manager or KMS (cached), SQS.
    pub fn new(
        clients: &AwsClients,
        config: &Config,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SendError> {
        let ports = DeliveryPorts {
            // Fan-out's reads are kept about a second per (event type, client),
            // concurrent misses making one read (docs/delivery.md).
            webhooks: Arc::new(CachedSubscribers::new(
                Arc::new(DynamoWebhookStore::new(
                    clients.dynamodb.clone(),
                    &config.webhooks_table,
                )),
                clock.clone(),
            )),
            secrets: Arc::new(CachedSecrets::new(
                ModeSecretStore::new(clients, &config.secrets_mode, None),
                DEFAULT_CACHE_TTL,
            )),
            // Retries and deferrals of one invocation leave in SendMessageBatch calls.
            queue: Arc::new(GroupedTaskQueue::new(
                Arc::new(SqsTaskQueue::new(
                    clients.sqs.clone(),
                    &config.retry_queue_url,
                    clock.clone(),
                )),
                MAX_BATCH_ENTRIES,
                SEND_GROUP_LINGER,
            )),
            // The attempts of a fan-out leave in SendMessageBatch calls of up to 10.
            logs: Arc::new(GroupedLogSink::new(
                Arc::new(SqsLogSink::new(clients.sqs.clone(), &config.logs_queue_url)),
                MAX_BATCH_ENTRIES,
                SEND_GROUP_LINGER,
            )),
            sender: Arc::new(GuardedSender::new(config.outbound.policy.clone())?),
            clock: clock.clone(),
        };
        let settings =
            DeliverySettings::configured(&config.outbound, config.max_in_flight_per_webhook);
        let dead_letters = SqsDeadLetters::new(clients.sqs.clone(), &config.events_dlq_url);
        Ok(Self {
            hand_back: Some((
                SqsHandBack::new(clients.sqs.clone()),
                InFlightCount::new(clients.sqs.clone(), &config.retry_queue_url),
            )),
            ..Self::with_ports(
                ports,
                settings,
                Arc::new(dead_letters),
                &config.metrics_stack,
            )
        })
    }

    /// Processes one batch; deliveries that cannot start before `deadline` (less one
    /// delivery timeout) are queued instead.
    pub async fn handle(&self, event: SqsEvent, deadline: Instant) -> SqsBatchResponse {
        let redeliverable = webhooks_lambda::redeliverable(&event);
        let records = webhooks_lambda::queue_messages(event, self.clock.now());
        let holdable = match &self.hand_back {
            Some((_, in_flight)) => {
                let in_flight = in_flight.get().await;
                redeliverable
                    .iter()
                    .filter(|record| may_hold(record.receive_count, in_flight))
                    .map(|record| record.message_id.clone())
                    .collect()
            }
            None => HashSet::new(),
        };
        let outcome = process_batch(
            &self.dispatcher,
            self.dead_letters.as_ref(),
            records,
            Some(deadline),
            &holdable,
        )
        .await;
        // A record handed back failed for a passing reason: it comes back in seconds,
        // not after the queue's 390 s visibility timeout. A held one comes back when
        // it is due.
        if let Some((hand_back, _)) = &self.hand_back {
            let changes: Vec<HandBack> = redeliverable
                .into_iter()
                .filter_map(|record| {
                    let visible_in = if outcome.retry.contains(&record.message_id) {
                        handed_back_visibility(record.receive_count)
                    } else {
                        let (_, wait) = outcome
                            .held
                            .iter()
                            .find(|(id, _)| *id == record.message_id)?;
                        hold_visibility(*wait)
                    };
                    Some(HandBack {
                        visible_in,
                        queue_arn: record.queue_arn,
                        receipt_handle: record.receipt_handle,
                    })
                })
                .collect();
            if !changes.is_empty() {
                hand_back.hand_back(&changes).await;
            }
        }
        let mut again = outcome.retry;
        again.extend(outcome.held.into_iter().map(|(id, _)| id));
        webhooks_lambda::batch_response(again)
    }

    /// The EMF metric lines of the attempts since the last call.
    pub fn metric_lines(&self) -> Vec<String> {
        self.metrics.flush(self.clock.now())
    }
}

#[cfg(test)]
mod tests;
