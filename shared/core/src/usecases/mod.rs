//! The use cases, each written against the ports it needs: fan-out and delivery, the
//! admin's changes to webhooks, the connection test, and writing the delivery log.

pub mod admin;
pub mod connection;
pub mod custom_headers;
pub mod delivery;
pub mod log_writer;
pub mod recover;
pub mod signing_secrets;
