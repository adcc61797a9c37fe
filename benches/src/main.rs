//! `bench`: the system benchmark driver behind `make bench`, and the loopback
//! receiver it starts (`bench receiver`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use webhooks_bench::machine::Machine;
use webhooks_bench::report::{self, Report, ShapeResults, REFERENCE_A, REFERENCE_B};
use webhooks_bench::system::{self, Receiver, Shape, SHAPE_B};
use webhooks_bench::{lambda, limit, micro, noisy, receiver, Result};

mod commands;
use commands::{
    run_aws_requests, run_fanout_reads, run_limit, run_noisy, AwsRequestsArgs, FanoutReadsArgs,
    LimitArgs, NoisyArgs, NoisyShape,
};

#[derive(Debug, Parser)]
#[command(name = "bench", about = "Benchmarks of the webhooks service")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the system benchmark and the limit reference (and with --functions the AWS
    /// part), then write the report.
    System(Box<SystemArgs>),
    /// Run the criterion micro-benchmarks with short times (results under DIR).
    Micro(MicroArgs),
    /// Run only the noisy-neighbour shape (serve, and with --functions Lambda: needs
    /// moto, run under `scripts/moto.sh run --`) and print its report section.
    Noisy(NoisyArgs),
    /// Run only the AWS requests per delivery (fan-out 1, 10, 100; needs moto: run
    /// under `scripts/moto.sh run --`) and print its report section.
    AwsRequests(AwsRequestsArgs),
    /// Fan-out's DynamoDB reads per event before and after the subscription backfill
    /// (10 and 3,333 webhooks of the type, 10 matching; needs moto).
    FanoutReads(FanoutReadsArgs),
    /// The loopback receiver (started by `system`): prints its address, answers 200.
    Receiver,
    /// The limit reference's sender (started by `system`): the service's signed
    /// requests of a shape over keep-alive connections, once a line arrives on stdin.
    Limit(LimitArgs),
}

#[derive(Debug, clap::Args)]
struct MicroArgs {
    /// Criterion's output directory.
    #[arg(long, default_value = "target/criterion")]
    criterion: PathBuf,
    /// Warm-up time per benchmark, seconds.
    #[arg(long, default_value_t = 0.5)]
    warm_up: f64,
    /// Measurement time per benchmark, seconds.
    #[arg(long, default_value_t = 1.5)]
    measurement: f64,
}

#[derive(Debug, clap::Args)]
struct SystemArgs {
    /// The `webhooks` release binary to benchmark.
    #[arg(long, default_value = "target/release/webhooks")]
    webhooks: PathBuf,
    /// Runs per shape (the report gives the median and the spread).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Concurrent keep-alive connections posting events.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Skip the limit reference (the service's requests over keep-alive connections,
    /// nothing else done), which otherwise runs beside every run of a shape.
    #[arg(long)]
    no_limit: bool,
    /// Shapes to run: A (5,000 events × 1 webhook), B (100 events × 100 webhooks); ""
    /// for none.
    #[arg(long, value_delimiter = ',', default_value = "A,B")]
    shapes: Vec<String>,
    /// The directory of the functions' release binaries (`webhooks-delivery`, ...): runs
    /// the AWS part (needs moto: run under `scripts/moto.sh run --`).
    #[arg(long)]
    functions: Option<PathBuf>,
    /// Delivery-function processes in the AWS part (default: --runs); each gets one
    /// cold invocation and --aws-warm warm ones.
    #[arg(long)]
    aws_processes: Option<usize>,
    /// Warm invocations per delivery-function process.
    #[arg(long, default_value_t = 1)]
    aws_warm: usize,
    /// Spawns per function for the init times.
    #[arg(long, default_value_t = 10)]
    init_spawns: usize,
    /// Criterion's output directory, read for the micro-benchmark table.
    #[arg(long, default_value = "target/criterion")]
    criterion: PathBuf,
    /// The cargo profile the binaries were built with, named in the report.
    #[arg(long, default_value = "release")]
    build_profile: String,
    /// Seconds `make bench` spent building, for the report.
    #[arg(long)]
    build_secs: Option<f64>,
    /// Seconds `make bench` spent before this command (building, the micro-benchmarks),
    /// for the report.
    #[arg(long)]
    before_secs: Option<f64>,
    /// `RUST_LOG` for the service (default: unset, i.e. `info`, what a user gets).
    #[arg(long)]
    service_log: Option<String>,
    /// Where the report goes (besides stdout); its part after the kept-marker stays.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    noisy: NoisyShape,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Receiver => receiver::run_process(),
        Command::Limit(args) => run_limit(&args),
        Command::Micro(args) => {
            micro::run(
                &args.criterion,
                Duration::from_secs_f64(args.warm_up),
                Duration::from_secs_f64(args.measurement),
            );
            Ok(())
        }
        Command::System(args) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Into::into)
            .and_then(|runtime| runtime.block_on(run_system(*args))),
        Command::Noisy(args) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Into::into)
            .and_then(|runtime| runtime.block_on(run_noisy(args))),
        Command::AwsRequests(args) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Into::into)
            .and_then(|runtime| runtime.block_on(run_aws_requests(args))),
        Command::FanoutReads(args) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Into::into)
            .and_then(|runtime| runtime.block_on(run_fanout_reads(args))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run_system(args: SystemArgs) -> Result<()> {
    let started = Instant::now();
    if !args.webhooks.exists() {
        return Err(format!(
            "{} not found; build it first (make bench builds it)",
            args.webhooks.display()
        )
        .into());
    }
    let shapes: Vec<(Shape, report::Reference)> = args
        .shapes
        .iter()
        .filter(|name| !name.trim().is_empty())
        .map(|name| match Shape::named(name) {
            Some(shape) if shape.name == SHAPE_B.name => Ok((shape, REFERENCE_B)),
            Some(shape) => Ok((shape, REFERENCE_A)),
            None => Err(format!("unknown shape {name:?} (A or B)")),
        })
        .collect::<Result<_, _>>()?;
    let machine = Machine::describe();
    let exe = std::env::current_exe()?;
    let receiver = Receiver::start(&exe).await?;
    eprintln!(
        "receiver on {}; {} runs of {}",
        receiver.addr,
        args.runs,
        shapes
            .iter()
            .map(|(s, _)| s.describe())
            .collect::<Vec<_>>()
            .join(" and ")
    );

    let mut results: Vec<ShapeResults> = shapes
        .iter()
        .map(|&(shape, reference)| ShapeResults {
            shape,
            reference,
            runs: Vec::new(),
            limit: Vec::new(),
            limit_connections: limit::service_connections(shape),
        })
        .collect();
    // Each shape's service run and limit run take turns, the limit first in every
    // other round, so a burst of other load on the machine skews one run of each
    // rather than every run of one, and neither side always follows the other.
    for run in 1..=args.runs {
        for shape_results in &mut results {
            let limit_first = run % 2 == 0;
            if !args.no_limit && limit_first {
                measure_limit(&exe, &receiver, shape_results, run, args.runs).await?;
            }
            measure_service(&args, &receiver, shape_results, run).await?;
            if !args.no_limit && !limit_first {
                measure_limit(&exe, &receiver, shape_results, run, args.runs).await?;
            }
        }
    }

    let aws = match &args.functions {
        Some(dir) => {
            let processes = args.aws_processes.unwrap_or(args.runs);
            eprintln!(
                "AWS part: {processes} delivery processes × (1 cold + {} warm) invocations, \
                 {} spawns per function",
                args.aws_warm, args.init_spawns
            );
            Some(lambda::measure(dir, &receiver, processes, args.aws_warm, args.init_spawns).await?)
        }
        None => None,
    };

    let noisy = if args.noisy.events > 0 {
        eprintln!(
            "noisy neighbour: {} events, quiet then noisy, serve{}",
            args.noisy.events,
            if args.functions.is_some() {
                " then Lambda"
            } else {
                ""
            }
        );
        let config = args
            .noisy
            .config(Some(args.webhooks.clone()), args.functions.clone());
        let results = noisy::run(&config).await?;
        results.write_json(args.noisy.json.as_deref())?;
        Some(results)
    } else {
        None
    };

    let report = Report {
        machine,
        shapes: results,
        micro: micro::read_results(&args.criterion),
        connections: args.connections,
        aws,
        noisy,
        took_secs: started.elapsed().as_secs_f64(),
        build: report::Build {
            profile: args.build_profile.clone(),
            build_secs: args.build_secs,
            before_secs: args.before_secs,
        },
    };
    let markdown = report.markdown();
    println!("{markdown}");
    if let Some(out) = &args.out {
        let old = std::fs::read_to_string(out).ok();
        std::fs::write(out, report::merge_into_file(&markdown, old.as_deref()))
            .map_err(|e| format!("writing {}: {e}", out.display()))?;
        eprintln!("report written to {}", out.display());
        // The headline figures beside it, for programs (BENCHMARKS.json).
        let figures = out.with_extension("json");
        let text = serde_json::to_string_pretty(&report.json())?;
        std::fs::write(&figures, text + "\n")
            .map_err(|e| format!("writing {}: {e}", figures.display()))?;
        eprintln!("figures written to {}", figures.display());
    }
    Ok(())
}

/// One run of `webhooks serve` in the shape, added to its results.
async fn measure_service(
    args: &SystemArgs,
    receiver: &Receiver,
    results: &mut ShapeResults,
    run: usize,
) -> Result<()> {
    let shape = results.shape;
    let measured = system::run_once(
        &args.webhooks,
        receiver,
        shape,
        args.connections,
        args.service_log.as_deref(),
    )
    .await?;
    eprintln!(
        "run {run}/{} shape {} ours:  {:>8.0} deliveries/s  {:>7.1} µs CPU/delivery  \
         (receiver {:.3} cores, ingest {:.0} events/s, {} connections)",
        args.runs,
        shape.name,
        measured.rate(),
        measured.cpu_us_per_delivery(),
        measured.receiver_cores(),
        measured.ingest_rate(shape.events),
        measured.connections,
    );
    results.runs.push(measured);
    Ok(())
}

/// One run of the limit reference in the shape, added to its results.
async fn measure_limit(
    exe: &std::path::Path,
    receiver: &Receiver,
    results: &mut ShapeResults,
    run: usize,
    runs: usize,
) -> Result<()> {
    let shape = results.shape;
    let measured = limit::run_once(exe, receiver, shape, results.limit_connections).await?;
    eprintln!(
        "run {run}/{runs} shape {} limit: {:>8.0} deliveries/s  {:>7.1} µs CPU/request   \
         ({} connections)",
        shape.name,
        measured.rate(),
        measured.cpu_us_per_request(),
        measured.connections,
    );
    results.limit.push(measured);
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        // Catches, among others, two flattened arguments with one id.
        Cli::command().debug_assert();
    }

    #[test]
    fn system_takes_the_noisy_knobs() {
        let cli = Cli::try_parse_from([
            "bench",
            "system",
            "--noisy-events",
            "0",
            "--connections",
            "8",
        ])
        .unwrap();
        let Command::System(args) = cli.command else {
            panic!("not system: {cli:?}");
        };
        assert_eq!((args.noisy.events, args.connections), (0, 8));
        assert_eq!(args.noisy.connections, 32);
    }
}
