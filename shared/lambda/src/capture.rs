//! For tests: the functions' JSON log lines written to a buffer and read back, one
//! JSON value per line, through the same subscriber the functions use.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use crate::log_format::json_subscriber;

/// A log buffer; clones share it.
#[derive(Clone, Debug, Default)]
pub struct CapturedLogs {
    buffer: Arc<Mutex<Vec<u8>>>,
}

impl CapturedLogs {
    /// The functions' subscriber at the default level (`info`), writing here. Make it
    /// the default of the test's thread with `tracing::subscriber::set_default`.
    pub fn subscriber(&self) -> impl Subscriber + Send + Sync {
        json_subscriber(EnvFilter::new("info"), self.clone())
    }

    /// Every line written so far, each parsed as JSON (a line that is not JSON fails
    /// the test).
    pub fn lines(&self) -> Vec<Value> {
        let text = String::from_utf8(self.buffer.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    }
}

impl io::Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'w> MakeWriter<'w> for CapturedLogs {
    type Writer = CapturedLogs;

    fn make_writer(&'w self) -> Self::Writer {
        self.clone()
    }
}
