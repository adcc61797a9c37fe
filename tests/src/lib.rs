//! Shared pieces of the cross-crate tests: the port conformance suites every adapter
//! runs, a local-service harness, and a loopback receiver.

pub mod conformance;
pub mod harness;
pub mod receiver;
