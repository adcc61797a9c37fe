//! The log-writer function: delivery-log records from the logs queue into the
//! delivery-logs table, then added to the webhooks' stats (in the same table); a
//! record the table can never take goes to the logs DLQ with its reason, and the
//! answer lists the records SQS should retry.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use webhooks_aws::{config, AwsClients, DynamoLogStore, DynamoStatsStore, SqsDeadLetters};
use webhooks_core::config::{log_retention, ConfigError, Env};
use webhooks_core::domain::time::Timestamp;
use webhooks_core::ports::{DeadLetters, LogAppender, StatsRecorder};
use webhooks_core::usecases::log_writer::write_batch;

/// What the log-writer function reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub delivery_logs_table: String,
    /// `LOGS_DLQ_URL`: where records the table can never take go, with their reason.
    pub logs_dlq_url: String,
    /// `LOG_RETENTION_DAYS`: sets each record's `expires_at`.
    pub retention: std::time::Duration,
}

impl Config {
    pub fn from_env(env: &dyn Env) -> Result<Self, ConfigError> {
        Ok(Self {
            delivery_logs_table: config::delivery_logs_table(env)?,
            logs_dlq_url: config::logs_dlq_url(env)?,
            retention: log_retention(env)?,
        })
    }
}

pub struct LogWriter {
    store: Arc<dyn LogAppender>,
    stats: Arc<dyn StatsRecorder>,
    dead_letters: Arc<dyn DeadLetters>,
}

impl LogWriter {
    /// The function on any log appender, stats and dead letters (the unit tests use
    /// in-memory ones).
    pub fn with_ports(
        store: Arc<dyn LogAppender>,
        stats: Arc<dyn StatsRecorder>,
        dead_letters: Arc<dyn DeadLetters>,
    ) -> Self {
        Self {
            store,
            stats,
            dead_letters,
        }
    }

    /// The function on the delivery-logs table and the logs DLQ.
    pub fn new(clients: &AwsClients, config: &Config) -> Self {
        Self::with_ports(
            Arc::new(DynamoLogStore::new(
                clients.dynamodb.clone(),
                &config.delivery_logs_table,
                config.retention,
            )),
            Arc::new(DynamoStatsStore::new(
                clients.dynamodb.clone(),
                &config.delivery_logs_table,
            )),
            Arc::new(SqsDeadLetters::new(
                clients.sqs.clone(),
                &config.logs_dlq_url,
            )),
        )
    }

    pub async fn handle(&self, event: SqsEvent, now: Timestamp) -> SqsBatchResponse {
        let records = webhooks_lambda::queue_messages(event, now);
        let failed = write_batch(
            self.store.as_ref(),
            self.stats.as_ref(),
            self.dead_letters.as_ref(),
            records,
        )
        .await;
        webhooks_lambda::batch_response(failed)
    }
}

#[cfg(test)]
mod tests;
