//! Test doubles of every port and the fixtures tests build on: in-memory adapters
//! (`memory`), a scripted sender and a manual clock (`fakes`), and ready-made
//! webhooks and events (`fixtures`). Compiled for core's own tests and, behind the
//! `testing` feature, for other crates' tests.

pub mod fakes;
pub mod fixtures;
pub mod memory;
pub mod memory_stats;

use std::sync::{Mutex, MutexGuard};

/// A lock that a panicking test elsewhere cannot poison for the others.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
