//! Benchmarks of the webhooks service (`make bench`).
//!
//! - `benches/micro.rs`: criterion micro-benchmarks of the hot pure functions
//!   (signing, event parsing, fan-out matching), on the fixtures in [`fixtures`].
//! - the `bench` binary: the system benchmark of `webhooks serve` (a release binary on
//!   a fresh SQLite file per run) fed by 32 keep-alive connections and delivering to a
//!   loopback receiver of ours ([`receiver`], its own process), the limit reference in
//!   the same run ([`limit`]: the service's own signed requests sent over keep-alive
//!   connections with nothing else done, `bench limit`, a process of its own), and the
//!   markdown report ([`report`]) that goes to `BENCHMARKS.md`.
//! - the AWS part of `bench system` (with `--functions`, under `scripts/moto.sh run`):
//!   the delivery function's release binary on the AWS adapters against moto
//!   ([`aws_delivery`]), and each function's binary size and init time
//!   ([`lambda_init`]), all run through the fake runtime API of `webhooks-tests`
//!   ([`lambda`]); the functions' AWS requests counted by a proxy in front of the
//!   emulator ([`aws_requests`]), per delivery at fan-out 1, 10 and 100 and priced
//!   ([`aws_cost`]).
//! - the noisy-neighbour shape ([`noisy`]; `bench noisy`, and part of `bench system`):
//!   a healthy webhook's latency alone and beside a hanging and a failing one, on
//!   `webhooks serve` and on the delivery function.
//!
//! Nothing here is a test: figures are reported, never asserted.

pub mod aws_cost;
pub mod aws_delivery;
pub mod aws_requests;
pub mod fanout_reads;
pub mod fixtures;
pub mod http;
pub mod lambda;
pub mod lambda_init;
pub mod limit;
pub mod machine;
pub mod micro;
pub mod noisy;
pub mod proc;
pub mod receiver;
pub mod report;
pub mod service;
pub mod stats;
pub mod system;

/// Every fallible step of the driver reports a message meant for the terminal.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T, E = BoxError> = std::result::Result<T, E>;
