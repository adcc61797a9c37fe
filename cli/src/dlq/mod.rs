//! `webhooks dlq list` and `webhooks dlq redrive`: a deployed stack's dead-letter
//! queues read without removing anything, and moved back to their source queues. The
//! AWS SDK comes with the `sqs` feature (a default one).

#[cfg(feature = "sqs")]
mod list;
#[cfg(feature = "sqs")]
mod port;
#[cfg(feature = "sqs")]
mod redrive;
#[cfg(feature = "sqs")]
mod render;
#[cfg(feature = "sqs")]
mod sqs;

use crate::error::CliError;
use crate::send::check_queue_url;

#[derive(Debug, clap::Args)]
pub struct DlqArgs {
    #[command(subcommand)]
    pub command: DlqCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum DlqCommand {
    /// Show a dead-letter queue's messages (id, sent time, receive count, reason, a
    /// body preview) without removing them.
    List(ListArgs),
    /// Move a dead-letter queue's messages back to their source queue (send, then
    /// delete); refused bodies (with a `reason`) stay unless --include-refused.
    Redrive(RedriveArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// The dead-letter queue (e.g. the stack's EventsDeadLetterQueueUrl).
    #[arg(long, value_name = "URL")]
    pub queue_url: String,

    /// At most this many messages (1–1000).
    #[arg(long, value_name = "N", default_value_t = 10,
          value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub limit: u16,

    /// One JSON object per message and line.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct RedriveArgs {
    /// The dead-letter queue to empty.
    #[arg(long, value_name = "URL")]
    pub queue_url: String,

    /// The queue to move the messages to (default: the one whose redrive policy names
    /// this DLQ).
    #[arg(long, value_name = "URL")]
    pub to: Option<String>,

    /// Move refused bodies (messages with a `reason` attribute) too, without it.
    #[arg(long)]
    pub include_refused: bool,

    /// Print the counts as one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: DlqArgs) -> Result<(), CliError> {
    match args.command {
        DlqCommand::List(args) => {
            check_queue_url("--queue-url", &args.queue_url)?;
            with_sqs::list(args).await
        }
        DlqCommand::Redrive(args) => {
            check_queue_url("--queue-url", &args.queue_url)?;
            if let Some(to) = &args.to {
                check_queue_url("--to", to)?;
                if to == &args.queue_url {
                    return Err(CliError::invalid_argument(
                        "--to",
                        "is the dead-letter queue itself",
                    ));
                }
            }
            with_sqs::redrive(args).await
        }
    }
}

#[cfg(feature = "sqs")]
mod with_sqs {
    use std::time::{SystemTime, UNIX_EPOCH};

    use super::port::Queues;
    use super::sqs::SqsQueues;
    use super::{list, redrive, render, ListArgs, RedriveArgs};
    use crate::error::CliError;
    use crate::output;

    /// At most this many per-message errors are printed.
    const SHOWN_ERRORS: usize = 5;

    pub async fn list(args: ListArgs) -> Result<(), CliError> {
        let queues = SqsQueues::connect(&args.queue_url).await?;
        let messages = list::list(&queues, &args.queue_url, usize::from(args.limit)).await?;
        if messages.is_empty() {
            eprintln!("{} holds no visible message", args.queue_url);
            return Ok(());
        }
        output::emit(&render::messages(&messages, args.json))
    }

    pub async fn redrive(args: RedriveArgs) -> Result<(), CliError> {
        let queues = SqsQueues::connect(&args.queue_url).await?;
        let source = match args.to {
            Some(to) => to,
            None => source_of(&queues, &args.queue_url).await?,
        };
        let nonce = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let done = redrive::redrive(
            &queues,
            &args.queue_url,
            &source,
            args.include_refused,
            &format!("{nonce:x}"),
        )
        .await;
        let report = done.report;
        output::emit(&render::report(&report, args.json))?;
        for error in report.errors.iter().take(SHOWN_ERRORS) {
            eprintln!(
                "warning: {}",
                crate::error::CliError::runtime(error).one_line()
            );
        }
        if let Some(error) = done.error {
            return Err(error);
        }
        if report.failed + report.not_deleted > 0 {
            return Err(CliError::runtime(format!(
                "{} messages were not moved and stay in the DLQ, {} were moved but not deleted \
                 from it",
                report.failed, report.not_deleted
            )));
        }
        if !report.complete {
            eprintln!(
                "stopped before the DLQ was empty (a run lasts at most a minute): run it again \
                 to move the rest"
            );
        }
        Ok(())
    }

    /// The one queue whose redrive policy names `dlq`.
    async fn source_of(queues: &SqsQueues, dlq: &str) -> Result<String, CliError> {
        let mut sources = queues.sources(dlq).await?;
        match sources.len() {
            1 => Ok(sources.remove(0)),
            0 => Err(CliError::runtime(format!(
                "no queue names {dlq} as its dead-letter queue (redrive policy): give --to URL"
            ))),
            n => Err(CliError::runtime(format!(
                "{n} queues use {dlq} as their dead-letter queue ({}): give --to URL",
                sources.join(", ")
            ))),
        }
    }
}

#[cfg(not(feature = "sqs"))]
mod with_sqs {
    use super::{ListArgs, RedriveArgs};
    use crate::error::CliError;

    fn unsupported() -> CliError {
        CliError::invalid_argument(
            "--queue-url",
            "this build of webhooks has no SQS support (built without the `sqs` feature)",
        )
    }

    pub async fn list(_args: ListArgs) -> Result<(), CliError> {
        Err(unsupported())
    }

    pub async fn redrive(_args: RedriveArgs) -> Result<(), CliError> {
        Err(unsupported())
    }
}
