//! The core of the webhooks service. Its tree is the architecture:
//!
//! - [`domain`]: types and rules without I/O (webhook, event, task, delivery log,
//!   catalogue, retry schedule, signing, ids, time);
//! - [`ports`]: the traits the use cases are written against; adapters live in
//!   `shared/local` (SQLite) and `shared/aws` (DynamoDB, SQS, Secrets Manager);
//! - [`usecases`]: delivery, admin, connection test, log writing;
//! - [`http`]: the HTTP API on top of the use cases (handlers, problems, OpenAPI);
//! - [`outbound`]: the guarded HTTP client that talks to receivers;
//! - [`config`] and [`metrics`]: configuration read at start, delivery metrics.
//!
//! It knows no storage technology.

pub mod config;
pub mod domain;
pub mod http;
pub mod metrics;
pub mod outbound;
pub mod ports;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod usecases;
