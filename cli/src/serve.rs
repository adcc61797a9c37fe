//! `webhooks serve`: the whole service in one process on a SQLite file — the HTTP API
//! (with the connection tests and `POST /events`) and the delivery worker.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use webhooks_core::config::{log_retention, max_in_flight_per_webhook, OutboundConfig, ProcessEnv};
use webhooks_core::domain::time::SystemClock;
use webhooks_core::outbound::GuardedSender;
use webhooks_core::usecases::delivery::DeliverySettings;
use webhooks_local::{
    browser_guarded, http_app, BrowserPolicy, LocalStores, PrunerSettings, WorkerSettings,
};

use crate::error::CliError;

/// `webhooks serve` opens loopback to deliveries unless `WEBHOOKS_ALLOW_NETS` says otherwise.
const LOCAL_ALLOW_NETS: &str = "127.0.0.0/8,::1/128";

#[derive(Debug)]
pub struct ServeOptions {
    pub addr: SocketAddr,
    pub db: PathBuf,
    pub token: Option<String>,
}

pub async fn run(options: ServeOptions) -> Result<(), CliError> {
    let token = options.token.filter(|t| !t.trim().is_empty());
    if token.is_none() && !options.addr.ip().is_loopback() {
        return Err(CliError::InvalidArgument {
            flag: "--addr",
            message: format!(
                "refusing to serve on {} without a token; anyone who can reach it could register webhooks. \
                 Set --token or WEBHOOKS_API_TOKEN, or bind a loopback address",
                options.addr
            ),
        });
    }
    let config = OutboundConfig::from_env(&ProcessEnv, LOCAL_ALLOW_NETS)
        .map_err(|e| CliError::runtime(e.to_string()))?;
    let retention = log_retention(&ProcessEnv).map_err(|e| CliError::runtime(e.to_string()))?;
    let max_in_flight =
        max_in_flight_per_webhook(&ProcessEnv).map_err(|e| CliError::runtime(e.to_string()))?;
    let browsers = BrowserPolicy::from_lists(
        &std::env::var("WEBHOOKS_ALLOWED_ORIGINS").unwrap_or_default(),
        &std::env::var("WEBHOOKS_ALLOWED_HOSTS").unwrap_or_default(),
    )
    .map_err(CliError::runtime)?;

    let clock = Arc::new(SystemClock);
    let stores = LocalStores::open(&options.db, clock.clone()).map_err(|e| {
        CliError::runtime(format!(
            "cannot open the database {}: {e}",
            options.db.display()
        ))
    })?;
    let sender =
        GuardedSender::new(config.policy.clone()).map_err(|e| CliError::runtime(e.to_string()))?;
    let dispatcher = stores.dispatcher(
        Arc::new(sender.clone()),
        DeliverySettings::configured(&config, max_in_flight),
    );
    let worker = stores.worker(dispatcher, WorkerSettings::default());
    let pruner = stores.pruner(PrunerSettings {
        retention,
        ..PrunerSettings::default()
    });

    let listener = tokio::net::TcpListener::bind(options.addr)
        .await
        .map_err(|source| CliError::Bind {
            addr: options.addr,
            source,
        })?;
    let addr = listener.local_addr().unwrap_or(options.addr);
    for net in config.policy.wide_open_nets() {
        eprintln!(
            "warning: WEBHOOKS_ALLOW_NETS has {net}: webhooks may reach every private network, cloud metadata (169.254.169.254) included"
        );
    }
    let app = browser_guarded(
        crate::console::router().merge(http_app(&stores, sender, &config, token.as_deref())),
        BrowserPolicy {
            bound: Some(addr),
            ..browsers
        },
    );
    let shutdown = shutdown_signal();
    print_banner(addr, &stores, &config, token.is_some());

    let (stop_tx, stop_rx) = watch::channel(false);
    let worker_task = tokio::spawn(worker.run(stopped(stop_rx.clone())));
    let pruner_task = tokio::spawn(pruner.run(stopped(stop_rx.clone())));
    let server = axum::serve(listener, app).with_graceful_shutdown(stopped(stop_rx));
    let signal = async {
        let lost = tokio::select! {
            () = shutdown => {
                eprintln!(
                    "shutting down: finishing deliveries in flight; pending retries stay in {}",
                    stores.db.path().display()
                );
                false
            }
            () = database_gone(&stores.db) => true,
        };
        let _ = stop_tx.send(true);
        lost
    };
    let (served, lost) = tokio::join!(server, signal);
    served.map_err(|e| CliError::runtime(format!("the HTTP server failed: {e}")))?;
    if lost {
        let _ = worker_task.await;
        let _ = pruner_task.await;
        return Err(CliError::runtime(format!(
            "the database file {} was deleted or replaced while serving: stopped, since nothing written now could be read again",
            stores.db.path().display()
        )));
    }
    let worker_stopped = worker_task.await;
    let pruner_stopped = pruner_task.await;
    match worker_stopped {
        Ok(Ok(())) => {
            pruner_stopped.map_err(|e| CliError::runtime(format!("the log pruner stopped: {e}")))
        }
        Ok(Err(e)) => Err(CliError::runtime(format!(
            "the delivery worker failed: {e}"
        ))),
        Err(e) => Err(CliError::runtime(format!(
            "the delivery worker stopped: {e}"
        ))),
    }
}

/// How often serve checks that its database file is still there.
const DATABASE_CHECK_EVERY: Duration = Duration::from_secs(2);

/// Resolves once the database's path no longer names the file being written.
async fn database_gone(db: &webhooks_local::Db) {
    loop {
        tokio::time::sleep(DATABASE_CHECK_EVERY).await;
        if !db.still_on_disk() {
            return;
        }
    }
}

fn print_banner(addr: SocketAddr, stores: &LocalStores, config: &OutboundConfig, with_token: bool) {
    let db =
        std::fs::canonicalize(stores.db.path()).unwrap_or_else(|_| stores.db.path().to_path_buf());
    let nets: Vec<String> = config
        .policy
        .allow_nets
        .iter()
        .map(ToString::to_string)
        .collect();
    println!("webhooks serve {}", env!("CARGO_PKG_VERSION"));
    println!("  console   http://{addr}/");
    println!("  API       http://{addr}  (OpenAPI: http://{addr}/openapi.json)");
    println!("  database  {}", db.display());
    println!(
        "  outbound  allowed private networks: {}; https {}",
        if nets.is_empty() {
            "none".to_owned()
        } else {
            nets.join(", ")
        },
        if config.policy.require_https {
            "required"
        } else {
            "not required"
        }
    );
    if with_token {
        println!("  auth      every API call needs Authorization: Bearer <token>");
    }
    println!();
    // The binary's own path: a new terminal does not have it on its PATH yet.
    let me = std::env::current_exe()
        .map(|path| path.display().to_string())
        .unwrap_or_else(|_| "webhooks".to_owned());
    println!("Send a first event:");
    println!("  {me} send --api http://{addr} --type report.publish_status --client acme --data '{{\"report_id\":\"r-42\",\"status\":\"published\"}}'");
    println!("Press Ctrl-C to stop; pending deliveries resume at the next start.");
}

async fn stopped(mut rx: watch::Receiver<bool>) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}

/// Ctrl-C (SIGINT) or SIGTERM, listened for from the moment this is called (before
/// the banner is printed), so a signal right after start-up is a graceful stop too.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let interrupt = signal(SignalKind::interrupt()).ok();
        let terminate = signal(SignalKind::terminate()).ok();
        async move {
            let interrupted = async {
                match interrupt {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let terminated = async {
                match terminate {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = interrupted => {}
                () = terminated => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
