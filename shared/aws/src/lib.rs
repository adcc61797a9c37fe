//! The AWS adapters of the core's ports: webhooks and the delivery log in DynamoDB,
//! signing secrets in Secrets Manager (or sealed under a KMS key in DynamoDB), the retry queue, the logs queue and the events
//! DLQ in SQS, and the producer's side of the events queue (`webhooks send
//! --queue-url`). Item shapes are part of the contract (`docs/storage.md`);
//! the mapping lives here, never in the core.
//!
//! Clients are built once per process with [`sdk::load`] (or [`sdk::loader`] for
//! extra settings) and shared by every adapter. `AWS_ENDPOINT_URL` points them all at
//! an emulator; there is no "is local" branch.

mod batch_send;
pub mod config;
mod dead_letters;
mod error;
mod events_queue;
mod expr;
mod hand_back;
mod in_flight;
mod kms_secrets;
pub mod limits;
mod log_sink;
mod logs;
mod message_size;
pub mod migrate;
mod paging;
mod schema_marker;
pub mod sdk;
mod secret_backend;
mod secret_cache;
mod secrets;
mod stats;
mod subscription_item;
mod subscription_plan;
mod task_queue;
mod webhook_item;
mod webhook_list;
mod webhook_writes;
mod webhooks;

pub use config::AwsConfig;
pub use dead_letters::{SqsDeadLetters, REASON_ATTRIBUTE};
pub use error::AwsError;
pub use events_queue::SqsEventSink;
pub use hand_back::{HandBack, SqsHandBack};
pub use in_flight::InFlightCount;
pub use kms_secrets::{KmsSecretStore, CONTEXT_STACK, CONTEXT_WEBHOOK_ID};
pub use log_sink::{BatchFailure, SqsLogSink};
pub use logs::{DynamoLogReader, DynamoLogStore};
pub use sdk::AwsClients;
pub use secret_backend::ModeSecretStore;
pub use secret_cache::{CachedSecrets, SecretLoader, DEFAULT_CACHE_TTL};
pub use secrets::{SecretsManagerStore, MAX_NAMES_PER_BATCH, RECOVERY_WINDOW_DAYS, STACK_TAG_KEY};
pub use stats::DynamoStatsStore;
pub use subscription_item::{items_of, marker, MARKER_ID, SCHEMA_VERSION, SUBSCRIPTION_INDEX};
pub use subscription_plan::MAX_TRANSACT_ITEMS;
pub use task_queue::SqsTaskQueue;
pub use webhooks::{DynamoWebhookStore, EVENT_INDEX};
