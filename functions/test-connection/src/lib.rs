//! The test-connection function: `POST /webhooks/test` and `POST /webhooks/{id}/test`.

use std::sync::Arc;

use axum::Router;
use webhooks_aws::config::{self, TimeoutUse};
use webhooks_aws::{AwsClients, DynamoWebhookStore, ModeSecretStore};
use webhooks_core::config::{ConfigError, Env, OutboundConfig};
use webhooks_core::domain::time::Clock;
use webhooks_core::http::test_connection::{self, ConnectionContext, ConnectionState};
use webhooks_core::outbound::{GuardedSender, SendError};
use webhooks_core::usecases::connection::ProbeSettings;

/// What the test-connection function reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub webhooks_table: String,
    /// `SECRETS_MODE` and what its mode needs.
    pub secrets_mode: config::SecretsMode,
    /// `DELIVERY_TIMEOUT_MS` (checked against `FUNCTION_TIMEOUT_SECONDS`),
    /// `WEBHOOKS_ALLOW_NETS`, `WEBHOOKS_REQUIRE_HTTPS`.
    pub outbound: OutboundConfig,
}

impl Config {
    /// Refuses a `DELIVERY_TIMEOUT_MS` that does not fit in the function's
    /// `FUNCTION_TIMEOUT_SECONDS` (`TimeoutUse::ConnectionTest`).
    pub fn from_env(env: &dyn Env) -> Result<Self, ConfigError> {
        let read = Self {
            webhooks_table: config::webhooks_table(env)?,
            secrets_mode: config::secrets_mode(env)?,
            // The Lambda functions open no private network unless told to.
            outbound: OutboundConfig::from_env(env, "")?,
        };
        TimeoutUse::ConnectionTest.check_env(env, read.outbound.timeout)?;
        Ok(read)
    }
}

/// The router the function serves.
pub fn app(
    clients: &AwsClients,
    config: &Config,
    clock: Arc<dyn Clock>,
) -> Result<Router, SendError> {
    Ok(test_connection::router(ConnectionState::new(
        ConnectionContext {
            webhooks: Arc::new(DynamoWebhookStore::new(
                clients.dynamodb.clone(),
                &config.webhooks_table,
            )),
            secrets: Arc::new(ModeSecretStore::new(clients, &config.secrets_mode, None)),
            clock,
            sender: GuardedSender::new(config.outbound.policy.clone())?,
            settings: ProbeSettings {
                limit: config.outbound.timeout,
                ..ProbeSettings::default()
            },
        },
    )))
}
