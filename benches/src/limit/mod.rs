//! The limit reference: how fast the service's own requests can go to the bench
//! receiver when nothing else is done. The same signed requests as `webhooks serve`
//! sends (built by the core's `delivery_request`, both signatures), one per delivery
//! of the shape, sent over as many keep-alive connections as the service may have
//! open toward one receiver, one request at a time on each; no queue, no store, no
//! log. It runs as a process of its own (`bench limit`, [`client`]), so that its CPU
//! is read as the service's is: `/proc/PID/stat`, user + system of every thread.

pub mod client;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{ChildStdout, Command};
use webhooks_core::config::DEFAULT_MAX_IN_FLIGHT_PER_WEBHOOK;
use webhooks_core::usecases::delivery::MAX_REQUESTS_IN_FLIGHT;

use crate::http::Conn;
use crate::proc::cpu_time;
use crate::stats;
use crate::system::{Receiver, Shape};
use crate::Result;

/// The longest one run of the limit may take, set-up included.
const PATIENCE: Duration = Duration::from_secs(300);

/// What one run of the limit reference measured.
#[derive(Clone, Copy, Debug)]
pub struct LimitRun {
    pub deliveries: u64,
    /// First request sent → last response read.
    pub wall: Duration,
    /// The sender process's user + system time over the same span.
    pub cpu: Duration,
    /// Connections the receiver saw it open.
    pub connections: u64,
    /// Deliveries the receiver saw more than once.
    pub duplicates: u64,
}

impl LimitRun {
    pub fn rate(&self) -> f64 {
        stats::per_second(self.deliveries, self.wall)
    }

    pub fn cpu_us_per_request(&self) -> f64 {
        stats::micros_each(self.cpu, self.deliveries)
    }
}

/// The connections `webhooks serve` may have open toward one receiver in `shape`
/// (every webhook of a shape points at the one receiver): a request in flight holds
/// one, and with its default settings it has at most `MAX_IN_FLIGHT_PER_WEBHOOK` (8)
/// requests in flight per webhook and `MAX_REQUESTS_IN_FLIGHT` (512) in all.
pub fn service_connections(shape: Shape) -> usize {
    shape
        .webhooks
        .saturating_mul(DEFAULT_MAX_IN_FLIGHT_PER_WEBHOOK)
        .clamp(1, MAX_REQUESTS_IN_FLIGHT)
}

/// One run: starts `exe limit` against `receiver`, lets it open its connections and
/// build its fixtures, then reads its CPU time around the sending alone.
pub async fn run_once(
    exe: &Path,
    receiver: &Receiver,
    shape: Shape,
    connections: usize,
) -> Result<LimitRun> {
    receiver.reset().await?;
    let mut waiter = Conn::open(receiver.addr).await?;
    let mut child = Command::new(exe)
        .arg("limit")
        .arg("--receiver")
        .arg(receiver.addr.to_string())
        .arg("--shape")
        .arg(shape.name)
        .arg("--connections")
        .arg(connections.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().ok_or("bench limit exited at once")?;
    let mut stdin = child.stdin.take().ok_or("no stdin for bench limit")?;
    let mut lines =
        BufReader::new(child.stdout.take().ok_or("no stdout from bench limit")?).lines();
    expect(&mut lines, client::READY).await?;
    let cpu_before = cpu_time(pid)?;
    stdin.write_all(b"go\n").await?;
    stdin.flush().await?;
    let done = expect(&mut lines, client::DONE).await?;
    let cpu = cpu_time(pid)?.saturating_sub(cpu_before);
    let wall = client::parse_done(&done)
        .ok_or_else(|| format!("bench limit said {done:?}, not `{} NANOS`", client::DONE))?;
    let deliveries = shape.deliveries();
    let tally = Receiver::tally(&mut waiter, deliveries, Duration::from_secs(10)).await?;
    // Closing its stdin ends it.
    drop(stdin);
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .map_err(|_| "bench limit did not exit within 10 s of its stdin closing")??;
    if !status.success() {
        return Err(format!("bench limit exited with {status}").into());
    }
    Ok(LimitRun {
        deliveries,
        wall,
        cpu,
        // The waiter is the driver's.
        connections: tally.connections.saturating_sub(1),
        duplicates: tally.count.saturating_sub(tally.distinct),
    })
}

/// The next line of the sender, which must start with `word`.
async fn expect(lines: &mut Lines<BufReader<ChildStdout>>, word: &str) -> Result<String> {
    let line = tokio::time::timeout(PATIENCE, lines.next_line())
        .await
        .map_err(|_| format!("bench limit did not say {word:?} within {PATIENCE:?}"))??
        .ok_or_else(|| format!("bench limit exited before saying {word:?} (see its stderr)"))?;
    if line.split_whitespace().next() == Some(word) {
        Ok(line)
    } else {
        Err(format!("bench limit said {line:?}, expected {word:?}").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::{SHAPE_A, SHAPE_B};

    #[test]
    fn the_limit_opens_as_many_connections_as_the_service_may_have_in_flight() {
        // GIVEN the service's default caps: 8 requests in flight per webhook, 512 in all
        // WHEN the limit's connection count is taken for each shape
        // THEN one webhook gets its lane's 8, and 100 webhooks the overall 512
        assert_eq!(service_connections(SHAPE_A), 8);
        assert_eq!(service_connections(SHAPE_B), 512);
    }

    #[test]
    fn a_run_gives_its_rate_and_cpu_per_request() {
        // GIVEN 5,000 requests in 0.5 s with 0.1 s of CPU
        let run = LimitRun {
            deliveries: 5_000,
            wall: Duration::from_millis(500),
            cpu: Duration::from_millis(100),
            connections: 8,
            duplicates: 0,
        };
        // WHEN its figures are read
        // THEN 10,000 requests/s and 20 µs each
        assert_eq!(run.rate(), 10_000.0);
        assert_eq!(run.cpu_us_per_request(), 20.0);
    }
}
