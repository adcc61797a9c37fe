//! `webhooks`: the local all-in-one service (`serve`) and the tools around it —
//! send an event, watch deliveries arrive, follow a webhook's delivery log.

mod api;
mod auth;
mod console;
mod dlq;
mod error;
mod listen;
mod logs;
mod migrate;
mod output;
mod recover;
mod send;
mod serve;
mod test_connection;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::error::CliError;

/// `serve` makes many small allocations per delivery, across threads (headers, JSON,
/// log records); glibc's malloc took about a fifth of its CPU (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "webhooks",
    version,
    about = "Webhooks service: run it locally, send events, watch deliveries"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole service locally (API, admin console, delivery) on a SQLite file.
    Serve(ServeArgs),
    /// Send one event to the service: POST /events, or its SQS events queue
    /// (--queue-url).
    Send(send::SendArgs),
    /// Receive deliveries, verify their signatures and print them.
    Listen(listen::ListenArgs),
    /// Show a webhook's delivery attempts, oldest first.
    Logs(logs::LogsArgs),
    /// Test a URL (or a saved webhook) the way deliveries reach it; each check on its own line.
    Test(test_connection::TestArgs),
    /// A deployed stack's dead-letter queues: list their messages, redrive them.
    Dlq(dlq::DlqArgs),
    /// Redeliver every failed delivery of a period (after a receiver's outage).
    Recover(recover::RecoverArgs),
    /// A deployed stack's one-off data migrations (after an upgrade).
    Migrate(migrate::MigrateArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to serve the API and the admin console on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,

    /// The SQLite database file (created when missing).
    #[arg(long, value_name = "PATH", default_value = "webhooks.db")]
    db: PathBuf,

    /// Require `Authorization: Bearer <TOKEN>` on every API call. A flag's value is
    /// visible to other users of the machine (`ps`): prefer WEBHOOKS_API_TOKEN.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "WEBHOOKS_API_TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(matches!(cli.command, Command::Serve(_)));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            return fail(&CliError::runtime(format!(
                "cannot start the async runtime: {e}"
            )))
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

async fn run(command: Command) -> Result<(), CliError> {
    match command {
        Command::Serve(args) => {
            serve::run(serve::ServeOptions {
                addr: args.addr,
                db: args.db,
                token: args.token,
            })
            .await
        }
        Command::Send(args) => send::run(args).await,
        Command::Listen(args) => listen::run(args).await,
        Command::Logs(args) => logs::run(args).await,
        Command::Test(args) => test_connection::run(args).await,
        Command::Dlq(args) => dlq::run(args).await,
        Command::Recover(args) => recover::run(args).await,
        Command::Migrate(args) => migrate::run(args).await,
    }
}

/// Prints `error: ...` on one line (nothing when stdout's reader went away) and
/// turns the error into the exit code.
fn fail(error: &CliError) -> ExitCode {
    if !matches!(error, CliError::StdoutClosed) {
        eprintln!("error: {}", error.one_line());
    }
    ExitCode::from(error.exit_code())
}

/// Logs go to stderr: `info` for `serve`, warnings only for the other commands;
/// `RUST_LOG` overrides both.
fn init_tracing(serving: bool) {
    // The SDK's credential chain warns of each source it tries (instance metadata on
    // a laptop): noise for `send --queue-url` and `--auth sigv4`, whose own errors say
    // what is missing.
    let default = if serving {
        "info"
    } else {
        "warn,aws_config=error"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
