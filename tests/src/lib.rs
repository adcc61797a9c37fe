//! Shared pieces of the cross-crate tests: the port conformance suites every adapter
//! runs, a local-service harness, a loopback receiver, the moto emulator fixture, and
//! a fake Lambda runtime API to run the functions' real binaries.
//!
//! Test support only: a failed setup step panics with its reason, like a test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod conformance;
pub mod functions;
pub mod harness;
pub mod moto;
pub mod receiver;
pub mod runtime_api;
