//! One `webhooks serve` process under test, on a fresh SQLite file in a temporary
//! directory, with the default configuration a user gets (logs at `info` to stderr,
//! which goes to a file here).

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rusqlite::{Connection, OpenFlags};
use tokio::process::{Child, Command};

use crate::fixtures::{EVENT_TYPE, SECRET};
use crate::http::Conn;
use crate::Result;

pub struct Service {
    child: Child,
    pub pid: u32,
    pub addr: SocketAddr,
    pub db: PathBuf,
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Service {
    /// Starts `binary serve` on a free loopback port and waits until it answers.
    pub async fn start(binary: &Path, rust_log: Option<&str>) -> Result<Service> {
        Self::start_with(binary, rust_log, &[]).await
    }

    /// [`Service::start`] with `env` set for the service as well.
    pub async fn start_with(
        binary: &Path,
        rust_log: Option<&str>,
        env: &[(&str, &str)],
    ) -> Result<Service> {
        let dir = tempfile::tempdir()?;
        let db = dir.path().join("bench.db");
        let log = dir.path().join("serve.log");
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut command = Command::new(binary);
        command.env_remove("RUST_LOG");
        if let Some(filter) = rust_log {
            command.env("RUST_LOG", filter);
        }
        command.envs(env.iter().copied());
        let child = command
            .arg("serve")
            .arg("--addr")
            .arg(addr.to_string())
            .arg("--db")
            .arg(&db)
            .env_remove("WEBHOOKS_API_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", binary.display()))?;
        let pid = child.id().ok_or("webhooks serve exited at once")?;
        let mut service = Service {
            child,
            pid,
            addr,
            db,
            log,
            _dir: dir,
        };
        service.wait_ready().await?;
        Ok(service)
    }

    async fn wait_ready(&mut self) -> Result<()> {
        let started = Instant::now();
        loop {
            if let Ok(mut conn) = Conn::open(self.addr).await {
                if let Ok((200, _)) = conn.get("/event-types").await {
                    return Ok(());
                }
            }
            if let Some(status) = self.child.try_wait()? {
                return Err(format!(
                    "webhooks serve exited ({status}); its log: {}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                )
                .into());
            }
            if started.elapsed() > Duration::from_secs(20) {
                return Err("webhooks serve did not answer within 20 s".into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Registers `count` webhooks of [`EVENT_TYPE`] for all clients, with
    /// [`SECRET`], pointing at `receiver`.
    pub async fn create_webhooks(&self, count: usize, receiver: SocketAddr) -> Result<()> {
        let hooks: Vec<(String, SocketAddr)> =
            (0..count).map(|i| (i.to_string(), receiver)).collect();
        self.create_labelled_webhooks("bench", &hooks).await
    }

    /// Registers one webhook of [`EVENT_TYPE`] for all clients, with [`SECRET`], per
    /// `(label, receiver)`: named `{prefix} {label}`, at `http://{receiver}/hook/{label}`.
    pub async fn create_labelled_webhooks(
        &self,
        prefix: &str,
        hooks: &[(String, SocketAddr)],
    ) -> Result<()> {
        let mut conn = Conn::open(self.addr).await?;
        for (label, receiver) in hooks {
            let body = format!(
                r#"{{"name":"{prefix} {label}","url":"http://{receiver}/hook/{label}","event":"{EVENT_TYPE}","clients":"all","secret":"{SECRET}"}}"#
            );
            let (status, answer) = conn.post_json("/webhooks", Bytes::from(body)).await?;
            if status != 201 {
                return Err(format!(
                    "POST /webhooks answered {status}: {}",
                    String::from_utf8_lossy(&answer)
                )
                .into());
            }
        }
        Ok(())
    }

    /// Waits until the queue is empty and `deliveries` attempts are logged, reading
    /// the database from this process (a WAL reader never blocks the service).
    pub async fn wait_drained(&self, deliveries: u64, patience: Duration) -> Result<()> {
        let conn = Connection::open_with_flags(&self.db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let started = Instant::now();
        loop {
            let (jobs, logged): (u64, u64) = conn.query_row(
                "SELECT (SELECT COUNT(*) FROM jobs), (SELECT COUNT(*) FROM delivery_logs)",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            if jobs == 0 && logged >= deliveries {
                return Ok(());
            }
            if started.elapsed() > patience {
                return Err(format!(
                    "after {patience:?}: {jobs} jobs still queued, {logged} of {deliveries} attempts logged"
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stops the service (SIGTERM, as Ctrl-C would) and returns the log's outcome
    /// counts and the size of what it wrote to stderr.
    pub async fn stop(mut self) -> Result<Stopped> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status()
            .await;
        match tokio::time::timeout(Duration::from_secs(15), self.child.wait()).await {
            Ok(status) => {
                status?;
            }
            Err(_) => {
                self.child.kill().await?;
                return Err("webhooks serve did not stop within 15 s of SIGTERM".into());
            }
        }
        let conn = Connection::open_with_flags(&self.db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let mut statement =
            conn.prepare("SELECT outcome, COUNT(*) FROM delivery_logs GROUP BY outcome")?;
        let outcomes = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<Vec<(String, u64)>, _>>()?;
        let log_bytes = std::fs::metadata(&self.log).map(|m| m.len()).unwrap_or(0);
        Ok(Stopped {
            outcomes,
            log_bytes,
        })
    }
}

pub struct Stopped {
    /// `(outcome, attempts)` of the delivery log.
    pub outcomes: Vec<(String, u64)>,
    /// Bytes the service wrote to stderr (its logs).
    pub log_bytes: u64,
}

impl Stopped {
    pub fn succeeded(&self) -> u64 {
        self.outcomes
            .iter()
            .filter(|(outcome, _)| outcome == "succeeded")
            .map(|(_, n)| n)
            .sum()
    }
}
