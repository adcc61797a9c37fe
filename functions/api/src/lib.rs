//! The api function: every HTTP API route but the connection tests, on DynamoDB,
//! SQS (redeliveries) and Secrets Manager or KMS (`SECRETS_MODE`).

use std::sync::Arc;

use axum::Router;

use webhooks_aws::{
    config, AwsClients, DynamoLogReader, DynamoStatsStore, DynamoWebhookStore, ModeSecretStore,
    SqsTaskQueue,
};
use webhooks_core::config::{outbound_policy, ConfigError, Env};
use webhooks_core::domain::time::Clock;
use webhooks_core::http::{self as api, ApiContext, ApiState};
use webhooks_core::outbound::OutboundPolicy;

/// What the api function reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub webhooks_table: String,
    pub delivery_logs_table: String,
    pub retry_queue_url: String,
    /// `SECRETS_MODE` and what its mode needs (`SECRET_PREFIX`, or the KMS key and
    /// the secrets table).
    pub secrets_mode: config::SecretsMode,
    /// The `webhooks:stack` tag of the secrets it creates (`SECRETS_STACK_TAG`).
    pub secrets_stack_tag: Option<String>,
    /// Validates webhook URLs as deliveries will (`WEBHOOKS_ALLOW_NETS`, `WEBHOOKS_REQUIRE_HTTPS`).
    pub policy: OutboundPolicy,
}

impl Config {
    pub fn from_env(env: &dyn Env) -> Result<Self, ConfigError> {
        Ok(Self {
            webhooks_table: config::webhooks_table(env)?,
            delivery_logs_table: config::delivery_logs_table(env)?,
            retry_queue_url: config::retry_queue_url(env)?,
            secrets_mode: config::secrets_mode(env)?,
            secrets_stack_tag: config::secrets_stack_tag(env)?,
            // The Lambda functions open no private network unless told to.
            policy: outbound_policy(env, "")?,
        })
    }
}

/// The router the function serves.
pub fn app(clients: &AwsClients, config: &Config, clock: Arc<dyn Clock>) -> Router {
    api::router(ApiState::new(ApiContext {
        webhooks: Arc::new(DynamoWebhookStore::new(
            clients.dynamodb.clone(),
            &config.webhooks_table,
        )),
        secrets: Arc::new(ModeSecretStore::new(
            clients,
            &config.secrets_mode,
            config.secrets_stack_tag.clone(),
        )),
        logs: Arc::new(DynamoLogReader::new(
            clients.dynamodb.clone(),
            &config.delivery_logs_table,
        )),
        stats: Arc::new(DynamoStatsStore::new(
            clients.dynamodb.clone(),
            &config.delivery_logs_table,
        )),
        queue: Arc::new(SqsTaskQueue::new(
            clients.sqs.clone(),
            &config.retry_queue_url,
            clock.clone(),
        )),
        events: None,
        clock,
        policy: config.policy.clone(),
    }))
}
