//! Test connection: the checks of one connection test against a URL (`probe`) and the
//! report they make (`report`). A failing endpoint is a failed check, never an error.
//! The HTTP routes that run it are in `crate::http::test_connection`.

mod probe;
mod report;

pub use probe::{probe, ProbeSettings, ProbeTarget};
pub use report::{Check, CheckName, CheckStatus, ConnectionReport};
