//! `cargo bench -p webhooks-bench`: the micro-benchmarks of `webhooks_bench::micro`
//! with criterion's command line and default times. `make bench` runs the same
//! benchmarks through `bench micro` instead, from the one release build.

use criterion::{criterion_group, criterion_main};

criterion_group!(benches, webhooks_bench::micro::all);
criterion_main!(benches);
