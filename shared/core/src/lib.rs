//! The core of the webhooks service: domain types, validation, the event catalogue,
//! signing, the retry schedule, the ports, and the use cases (HTTP API, fan-out and
//! delivery). It knows no storage technology: adapters implement [`ports`].

pub mod admin;
pub mod api;
pub mod catalogue;
pub mod config;
pub mod connection;
pub mod delivery;
pub mod event;
pub mod ids;
pub mod log;
pub mod log_writer;
pub mod metrics;
pub mod outbound;
pub mod ports;
pub mod retry;
pub mod signing;
pub mod task;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod time;
pub mod webhook;
