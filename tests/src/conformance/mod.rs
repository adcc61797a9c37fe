//! Conformance suites of the core's ports: what every adapter must do, embedded
//! (SQLite) or AWS (DynamoDB, Secrets Manager, SQS) alike. The cases know nothing of
//! any storage technology; they take the port as a trait object.
//!
//! Each case makes its own ids (and, where it lists, its own event type or webhook),
//! so the cases also hold on a store that already holds other data; a fresh store per
//! case is still the simplest way to run them.
//!
//! A runner expands one `#[tokio::test]` per case with the suite's macro, given an
//! expression (evaluated once per test, `.await` allowed) whose value dereferences to
//! the port:
//!
//! ```text
//! mod webhook_store {
//!     webhooks_tests::webhook_store_conformance!(fresh_sqlite().await.webhooks);
//! }
//! ```

pub mod log_store;
pub mod secret_headers;
pub mod secret_store;
pub mod sinks;
pub mod stats_store;
pub mod subscribers;
pub mod support;
pub mod task_queue;
pub mod webhook_store;

/// Expands to one `#[tokio::test]` per listed case of `$suite`, each calling
/// `$crate::conformance::$suite::$case(&*store)` on a fresh `$store`.
#[macro_export]
macro_rules! conformance_tests {
    ($suite:ident, $store:expr, [$($case:ident),+ $(,)?]) => {
        $(
            #[tokio::test]
            async fn $case() {
                let store = $store;
                $crate::conformance::$suite::$case(&*store).await;
            }
        )+
    };
}
