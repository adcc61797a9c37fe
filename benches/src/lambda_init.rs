//! Each Lambda function's release binary: its size on disk (stripped, as the release
//! profile builds it), gzipped (about what a Lambda zip holds), and its init time:
//! from the spawn to its first `GET /runtime/invocation/next` on the fake runtime
//! API, with the configuration it has on AWS (pointed at moto). No invocation.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::lambda::{binary, FunctionProcess, Stack, FUNCTIONS};
use crate::proc::peak_rss_kib;
use crate::Result;

/// The longest one init may take before the run fails.
const PATIENCE: Duration = Duration::from_secs(30);

/// What was measured of one function.
#[derive(Clone, Debug)]
pub struct FunctionInit {
    pub name: &'static str,
    pub size_bytes: u64,
    /// `gzip -6` of the binary; `None` when gzip is missing.
    pub gzip_bytes: Option<u64>,
    /// Spawn → first request for work, one per spawn.
    pub init: Vec<Duration>,
    /// Peak RSS (`VmHWM`) at the first request for work, one per spawn.
    pub rss_kib: Vec<u64>,
}

/// Measures every function, `spawns` times each; the spawns take turns across the
/// functions so a burst of other load skews one spawn of each rather than all of one.
pub async fn measure(dir: &Path, stack: &Stack, spawns: usize) -> Result<Vec<FunctionInit>> {
    let mut results = Vec::new();
    for name in FUNCTIONS {
        let path = binary(dir, name)?;
        results.push(FunctionInit {
            name,
            size_bytes: std::fs::metadata(&path)?.len(),
            gzip_bytes: gzip_size(&path),
            init: Vec::new(),
            rss_kib: Vec::new(),
        });
    }
    let env = stack.env();
    for spawn in 1..=spawns {
        for result in &mut results {
            let path = binary(dir, result.name)?;
            let mut function = FunctionProcess::spawn(&path, result.name, &env).await?;
            let init = function
                .wait_init(PATIENCE)
                .await
                .map_err(|e| format!("webhooks-{}: {e}", result.name))?;
            if let Some(kib) = peak_rss_kib(function.pid) {
                result.rss_kib.push(kib);
            }
            function.stop().await?;
            result.init.push(init);
            eprintln!(
                "init {spawn}/{spawns} webhooks-{}: {:.1} ms",
                result.name,
                init.as_secs_f64() * 1e3
            );
        }
    }
    Ok(results)
}

/// The size of `gzip -6 -c FILE` (zip's default deflate level), by counting its output.
fn gzip_size(path: &Path) -> Option<u64> {
    let output = Command::new("gzip")
        .arg("-6")
        .arg("-c")
        .arg(path)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then_some(output.stdout.len() as u64)
}
