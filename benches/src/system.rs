//! The system benchmark: a fresh `webhooks serve` per run, `W` webhooks pointing at
//! the loopback receiver, `E` events posted through `POST /events` by 32 keep-alive
//! connections; timed from the first event sent until the receiver holds all `E × W`
//! deliveries, with the service's CPU time (user + system) over the whole run,
//! including the log writes and queue clean-up that finish after the last delivery.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::fixtures::event_body;
use crate::http::Conn;
use crate::proc::{cpu_time, peak_rss_kib};
use crate::service::Service;
use crate::stats;
use crate::Result;

/// A benchmark shape: events × webhooks.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub name: &'static str,
    pub events: usize,
    pub webhooks: usize,
}

impl Shape {
    pub fn deliveries(&self) -> u64 {
        (self.events * self.webhooks) as u64
    }

    pub fn describe(&self) -> String {
        format!(
            "{}: {} events × {} webhook{}",
            self.name,
            thousands(self.events as f64),
            self.webhooks,
            if self.webhooks == 1 { "" } else { "s" }
        )
    }
}

pub const SHAPE_A: Shape = Shape {
    name: "A",
    events: 5_000,
    webhooks: 1,
};
pub const SHAPE_B: Shape = Shape {
    name: "B",
    events: 100,
    webhooks: 100,
};

impl Shape {
    /// `A` or `B` (any case).
    pub fn named(name: &str) -> Option<Shape> {
        [SHAPE_A, SHAPE_B]
            .into_iter()
            .find(|shape| shape.name.eq_ignore_ascii_case(name.trim()))
    }
}

/// What the receiver counted since its last reset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tally {
    pub count: u64,
    pub distinct: u64,
    /// Connections it accepted, the driver's own (the waiter) included.
    pub connections: u64,
}

/// The receiver process (this binary's `receiver` command).
pub struct Receiver {
    _child: Child,
    pub addr: SocketAddr,
    pub pid: u32,
}

impl Receiver {
    pub async fn start(exe: &Path) -> Result<Receiver> {
        let mut child = Command::new(exe)
            .arg("receiver")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let pid = child.id().ok_or("the receiver exited at once")?;
        let stdout = child.stdout.take().ok_or("no receiver stdout")?;
        let mut line = String::new();
        tokio::time::timeout(
            Duration::from_secs(10),
            BufReader::new(stdout).read_line(&mut line),
        )
        .await
        .map_err(|_| "the receiver did not start")??;
        let addr = line.trim().parse()?;
        Ok(Receiver {
            _child: child,
            addr,
            pid,
        })
    }

    pub async fn reset(&self) -> Result<()> {
        crate::http::once(self.addr, "POST", "/__reset", Bytes::new()).await?;
        Ok(())
    }

    /// Waits until the receiver has `n` deliveries; returns (count, distinct ids).
    pub async fn wait(conn: &mut Conn, n: u64, patience: Duration) -> Result<(u64, u64)> {
        let tally = Self::tally(conn, n, patience).await?;
        Ok((tally.count, tally.distinct))
    }

    /// Waits until the receiver has `n` deliveries; returns its whole tally.
    pub async fn tally(conn: &mut Conn, n: u64, patience: Duration) -> Result<Tally> {
        let (_, body) = tokio::time::timeout(patience, conn.get(&format!("/__wait?n={n}")))
            .await
            .map_err(|_| {
                format!("the receiver did not get {n} deliveries within {patience:?}")
            })??;
        let tally: serde_json::Value = serde_json::from_slice(&body)?;
        let field = |name: &str| tally[name].as_u64().unwrap_or(0);
        Ok(Tally {
            count: field("count"),
            distinct: field("distinct"),
            connections: field("connections"),
        })
    }
}

/// What one run measured.
#[derive(Clone, Copy, Debug)]
pub struct SystemRun {
    pub deliveries: u64,
    /// First event sent → the receiver holds every delivery.
    pub wall: Duration,
    /// First event sent → the last `202 Accepted`.
    pub ingest: Duration,
    /// The service's user + system time over the run.
    pub service_cpu: Duration,
    pub receiver_cpu: Duration,
    pub peak_rss_kib: Option<u64>,
    /// Bytes of log the service wrote to stderr, per delivery.
    pub log_bytes_per_delivery: f64,
    /// Deliveries the receiver saw more than once.
    pub duplicates: u64,
    /// Connections the service opened to the receiver during the run.
    pub connections: u64,
}

impl SystemRun {
    pub fn rate(&self) -> f64 {
        stats::per_second(self.deliveries, self.wall)
    }

    pub fn cpu_us_per_delivery(&self) -> f64 {
        stats::micros_each(self.service_cpu, self.deliveries)
    }

    pub fn ingest_rate(&self, events: usize) -> f64 {
        events as f64 / self.ingest.as_secs_f64()
    }

    /// Cores the receiver used while deliveries arrived.
    pub fn receiver_cores(&self) -> f64 {
        self.receiver_cpu.as_secs_f64() / self.wall.as_secs_f64()
    }
}

/// One run of `shape` against a fresh service.
pub async fn run_once(
    binary: &Path,
    receiver: &Receiver,
    shape: Shape,
    connections: usize,
    rust_log: Option<&str>,
) -> Result<SystemRun> {
    let service = Service::start(binary, rust_log).await?;
    service
        .create_webhooks(shape.webhooks, receiver.addr)
        .await?;
    receiver.reset().await?;
    let mut conns = Vec::with_capacity(connections);
    for _ in 0..connections {
        conns.push(Conn::open(service.addr).await?);
    }
    let mut waiter = Conn::open(receiver.addr).await?;
    // Let the service settle after the set-up requests.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let deliveries = shape.deliveries();
    let patience = Duration::from_secs(300);
    let service_before = cpu_time(service.pid)?;
    let receiver_before = cpu_time(receiver.pid)?;
    let started = Instant::now();
    let load = post_events(conns, shape.events);
    let arrived = async {
        let tally = Receiver::tally(&mut waiter, deliveries, patience).await?;
        Ok::<_, crate::BoxError>((tally, started.elapsed()))
    };
    let (ingest, arrived) = tokio::join!(load, arrived);
    let ingest = ingest?;
    let (tally, wall) = arrived?;
    let receiver_cpu = cpu_time(receiver.pid)?.saturating_sub(receiver_before);
    service.wait_drained(deliveries, patience).await?;
    let service_cpu = cpu_time(service.pid)?.saturating_sub(service_before);
    let peak_rss_kib = peak_rss_kib(service.pid);
    let stopped = service.stop().await?;
    if stopped.succeeded() < deliveries {
        return Err(format!(
            "only {} of {deliveries} deliveries were logged as succeeded: {:?}",
            stopped.succeeded(),
            stopped.outcomes
        )
        .into());
    }
    Ok(SystemRun {
        deliveries,
        wall,
        ingest,
        service_cpu,
        receiver_cpu,
        peak_rss_kib,
        log_bytes_per_delivery: stopped.log_bytes as f64 / deliveries as f64,
        duplicates: tally.count.saturating_sub(tally.distinct),
        // The waiter is the driver's.
        connections: tally.connections.saturating_sub(1),
    })
}

/// Posts `events` events over the given connections, each connection sending one
/// request at a time; returns when the last was accepted.
async fn post_events(conns: Vec<Conn>, events: usize) -> Result<Duration> {
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut senders = tokio::task::JoinSet::new();
    for mut conn in conns {
        let next = next.clone();
        senders.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= events {
                    return Ok::<_, crate::BoxError>(());
                }
                let (status, body) = conn.post_json("/events", event_body(n)).await?;
                if status != 202 {
                    return Err(format!(
                        "POST /events answered {status}: {}",
                        String::from_utf8_lossy(&body)
                    )
                    .into());
                }
            }
        });
    }
    while let Some(joined) = senders.join_next().await {
        joined??;
    }
    Ok(started.elapsed())
}

/// `12345.6` → `12,346`.
pub fn thousands(value: f64) -> String {
    let rounded = value.round() as i64;
    let digits = rounded.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if rounded < 0 {
        format!("-{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_are_found_by_name_in_any_case() {
        // GIVEN the names a command line may give
        // WHEN they are looked up
        // THEN each finds its shape, and an unknown name none
        assert_eq!(Shape::named("a").map(|s| s.events), Some(5_000));
        assert_eq!(Shape::named(" B ").map(|s| s.webhooks), Some(100));
        assert!(Shape::named("C").is_none());
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(691.0), "691");
        assert_eq!(thousands(3872.4), "3,872");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
    }
}
