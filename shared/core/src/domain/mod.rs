//! The domain: what a webhook, an event, a delivery task and a delivery-log record
//! are, and the rules that need no I/O (the event catalogue, the retry schedule,
//! signing, ids and time).

pub mod catalogue;
pub mod custom_headers;
pub mod delivery_log;
pub mod event;
pub mod health;
pub mod ids;
pub mod retry;
pub mod secret;
pub mod secret_entry;
pub mod signing;
pub mod subscription;
pub mod task;
pub mod time;
pub mod webhook;
