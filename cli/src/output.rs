//! Writing results to stdout: flushed at once (people and tests read it through
//! pipes), and a reader that went away (`| head`) ends the command quietly.

use std::io::{ErrorKind, Write};

use crate::error::CliError;

/// Writes `text` to stdout and flushes it.
pub fn emit(text: &str) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| match e.kind() {
            ErrorKind::BrokenPipe => CliError::StdoutClosed,
            _ => CliError::runtime(format!("cannot write to stdout: {e}")),
        })
}
