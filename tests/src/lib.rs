//! Shared pieces of the cross-crate tests: the port conformance suites every adapter
//! runs, a local-service harness, a loopback receiver, the moto emulator fixture, and
//! a fake Lambda runtime API to run the functions' real binaries.

pub mod conformance;
pub mod functions;
pub mod harness;
pub mod moto;
pub mod receiver;
pub mod runtime_api;
