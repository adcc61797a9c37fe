//! The cross-crate integration tests, one binary so the AWS SDK links once.
//!
//! The modules under `aws` need the moto emulator (`AWS_ENDPOINT_URL`, see
//! `webhooks_tests::moto`): run them under `scripts/moto.sh run -- cargo test ...` or
//! `make test`. Everything else runs without it: `cargo test -p webhooks-tests --test
//! it -- --skip aws::` (what `make check` runs).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed step panics

mod api_contract;
mod api_openapi;
mod api_problems;
mod api_races;
mod api_rate_limit;
mod api_recover;
mod api_stats;
mod aws;
mod conformance_memory;
mod conformance_sqlite;
mod custom_headers;
mod delivery_flow;
mod infra_access;
mod infra_deployment;
mod infra_operations;
mod infra_template;
mod isolation_local;
mod queue_batches;
mod rate_limit_local;
mod readme;
