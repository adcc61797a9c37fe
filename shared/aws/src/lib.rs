//! The AWS adapters of the core's ports: webhooks and the delivery log in DynamoDB,
//! signing secrets in Secrets Manager, the retry queue, the logs queue and the events
//! DLQ in SQS, and the producer's side of the events queue (`webhooks send
//! --queue-url`). Item shapes are part of the contract (DESIGN.md, "DynamoDB and SQS");
//! the mapping lives here, never in the core.
//!
//! Clients are built once per process with [`sdk::load`] (or [`sdk::loader`] for
//! extra settings) and shared by every adapter. `AWS_ENDPOINT_URL` points them all at
//! an emulator; there is no "is local" branch.

pub mod config;
mod error;
mod events_queue;
mod expr;
pub mod limits;
mod logs;
mod paging;
mod queues;
pub mod sdk;
mod secrets;
mod webhooks;

pub use config::AwsConfig;
pub use error::AwsError;
pub use events_queue::SqsEventSink;
pub use logs::DynamoLogStore;
pub use queues::{BatchFailure, SqsDeadLetters, SqsLogSink, SqsTaskQueue, REASON_ATTRIBUTE};
pub use sdk::AwsClients;
pub use secrets::{
    CachedSecrets, SecretLoader, SecretsManagerStore, StoredSecret, DEFAULT_CACHE_TTL,
    RECOVERY_WINDOW_DAYS,
};
pub use webhooks::{DynamoWebhookStore, EVENT_INDEX};
