//! The log-writer function: delivery-log records from the logs queue into the
//! delivery-logs table, answered with the records SQS should retry.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use webhooks_aws::{config, AwsClients, DynamoLogStore};
use webhooks_core::config::{log_retention, ConfigError, Env};
use webhooks_core::domain::time::Timestamp;
use webhooks_core::ports::LogAppender;
use webhooks_core::usecases::log_writer::write_batch;

/// What the log-writer function reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub delivery_logs_table: String,
    /// `LOG_RETENTION_DAYS`: sets each record's `expires_at`.
    pub retention: std::time::Duration,
}

impl Config {
    pub fn from_env(env: &dyn Env) -> Result<Self, ConfigError> {
        Ok(Self {
            delivery_logs_table: config::delivery_logs_table(env)?,
            retention: log_retention(env)?,
        })
    }
}

pub struct LogWriter {
    store: Arc<dyn LogAppender>,
}

impl LogWriter {
    /// The function on any log appender (the unit tests use an in-memory one).
    pub fn with_store(store: Arc<dyn LogAppender>) -> Self {
        Self { store }
    }

    /// The function on the delivery-logs table.
    pub fn new(clients: &AwsClients, config: &Config) -> Self {
        Self::with_store(Arc::new(DynamoLogStore::new(
            clients.dynamodb.clone(),
            &config.delivery_logs_table,
            config.retention,
        )))
    }

    pub async fn handle(&self, event: SqsEvent, now: Timestamp) -> SqsBatchResponse {
        let records = webhooks_lambda::queue_messages(event, now);
        webhooks_lambda::batch_response(write_batch(self.store.as_ref(), records).await)
    }
}

#[cfg(test)]
mod tests;
