//! The `bench noisy` and `bench aws-requests` commands: one part of the AWS and
//! noisy-neighbour benchmarks on its own, printing its report section; and `bench
//! limit`, the limit reference's sender that `bench system` starts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use webhooks_bench::report;
use webhooks_bench::system::{Receiver, Shape};
use webhooks_bench::{limit, noisy, Result};

#[derive(Debug, clap::Args)]
pub(crate) struct LimitArgs {
    /// The receiver (`bench receiver`) to send to.
    #[arg(long)]
    receiver: SocketAddr,
    /// The shape whose deliveries to send: A (5,000 to one webhook) or B (100 events
    /// to each of 100 webhooks).
    #[arg(long)]
    shape: String,
    /// Keep-alive connections (default: as many as the service may have open toward
    /// one receiver in the shape).
    #[arg(long)]
    connections: Option<usize>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct AwsRequestsArgs {
    /// The directory of the functions' release binaries (`webhooks-delivery`).
    #[arg(long, default_value = "target/release")]
    functions: PathBuf,
}

#[derive(Debug, clap::Args)]
pub(crate) struct FanoutReadsArgs {
    /// Fan-out reads measured per table and path.
    #[arg(long, default_value_t = 20)]
    events: u32,
    /// Webhooks of the event type per table (10 of them take the event's client).
    #[arg(long, value_delimiter = ',', default_value = "10,3333")]
    webhooks: Vec<usize>,
}

/// `bench fanout-reads`: prints the fan-out read figures (needs moto).
pub(crate) async fn run_fanout_reads(args: FanoutReadsArgs) -> Result<()> {
    let figures = webhooks_bench::fanout_reads::run(&args.webhooks, args.events).await?;
    print!("{}", webhooks_bench::fanout_reads::render(&figures));
    Ok(())
}

#[derive(Debug, clap::Args)]
pub(crate) struct NoisyArgs {
    /// The `webhooks` release binary (`serve`).
    #[arg(long, default_value = "target/release/webhooks")]
    webhooks: PathBuf,
    /// The directory of the functions' release binaries (`webhooks-delivery`): runs the
    /// Lambda backend too.
    #[arg(long)]
    functions: Option<PathBuf>,
    /// Backends to run, of serve and lambda (default: serve, and lambda with
    /// --functions).
    #[arg(long, value_delimiter = ',')]
    backends: Option<Vec<String>>,
    #[command(flatten)]
    shape: NoisyShape,
}

/// The noisy-neighbour shape's knobs, shared by `noisy` and `system`.
#[derive(Debug, clap::Args)]
pub(crate) struct NoisyShape {
    /// Events per noisy-neighbour run (0: `system` skips the shape).
    #[arg(
        id = "noisy_events",
        long = "noisy-events",
        value_name = "N",
        default_value_t = noisy::DEFAULT_EVENTS
    )]
    pub(crate) events: usize,
    /// The longest one noisy-neighbour run waits for its healthy deliveries, seconds.
    #[arg(
        id = "noisy_bound_secs",
        long = "noisy-bound-secs",
        value_name = "SECS",
        default_value_t = noisy::DEFAULT_BOUND.as_secs()
    )]
    bound_secs: u64,
    /// Connections posting the noisy-neighbour events to serve.
    #[arg(
        id = "noisy_connections",
        long = "noisy-connections",
        value_name = "N",
        default_value_t = 32
    )]
    pub(crate) connections: usize,
    /// The paced serve shape's event rate, events a second (0: only the burst).
    #[arg(
        id = "noisy_rate",
        long = "noisy-rate",
        value_name = "PER_S",
        default_value_t = noisy::DEFAULT_PACED_RATE
    )]
    rate: u32,
    /// Also write the machine-readable figures (`noisy.local_ratio`,
    /// `noisy.lambda_ratio`) to this JSON file.
    #[arg(long, value_name = "FILE")]
    pub(crate) json: Option<PathBuf>,
}

impl NoisyShape {
    pub(crate) fn config(
        &self,
        webhooks: Option<PathBuf>,
        functions: Option<PathBuf>,
    ) -> noisy::Config {
        noisy::Config {
            webhooks,
            functions,
            events: self.events,
            connections: self.connections,
            paced_rate: self.rate,
            bound: Duration::from_secs(self.bound_secs),
        }
    }
}

/// `bench limit`: prints READY once connected, sends on a line from stdin, prints
/// `DONE NANOS`, and exits when stdin closes.
pub(crate) fn run_limit(args: &LimitArgs) -> Result<()> {
    let shape = Shape::named(&args.shape)
        .ok_or_else(|| format!("unknown shape {:?} (A or B)", args.shape))?;
    let connections = args
        .connections
        .unwrap_or_else(|| limit::service_connections(shape));
    limit::client::run_process(args.receiver, shape, connections)
}

pub(crate) async fn run_aws_requests(args: AwsRequestsArgs) -> Result<()> {
    let receiver = Receiver::start(&std::env::current_exe()?).await?;
    let runs = webhooks_bench::aws_cost::measure(&args.functions, &receiver).await?;
    println!("{}", report::aws_cost_section(&runs));
    Ok(())
}

pub(crate) async fn run_noisy(args: NoisyArgs) -> Result<()> {
    let (serve, lambda) = noisy::backends(args.backends.as_deref(), args.functions.is_some())?;
    if serve && !args.webhooks.exists() {
        return Err(format!(
            "{} not found; build it first (make bench builds it)",
            args.webhooks.display()
        )
        .into());
    }
    if args.shape.events == 0 {
        return Err("--noisy-events must be at least 1".into());
    }
    let config = args.shape.config(
        serve.then_some(args.webhooks),
        args.functions.filter(|_| lambda),
    );
    let results = noisy::run(&config).await?;
    results.write_json(args.shape.json.as_deref())?;
    println!("{}", report::noisy::section(Some(&results)));
    Ok(())
}
