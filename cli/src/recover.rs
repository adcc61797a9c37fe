//! `webhooks recover`: after a receiver's outage, redeliver every failed delivery of a
//! period (`POST /webhooks/{id}/recover`), calling again while the API says more of
//! the period is left.

use std::time::Duration;

use serde_json::{json, Value};
use webhooks_core::domain::delivery_log::Outcome;
use webhooks_core::domain::time::{Clock, SystemClock, Timestamp};

use crate::api::{ApiArgs, ApiClient};
use crate::error::CliError;
use crate::output;

/// At most this many calls for one period (each queues up to 10,000 deliveries).
const MAX_CALLS: usize = 100;

#[derive(Debug, clap::Args)]
pub struct RecoverArgs {
    /// The webhook whose failed deliveries to send again (`wh_...`).
    #[arg(value_name = "WEBHOOK_ID")]
    pub webhook_id: String,

    /// The period's start: how long ago (`90s`, `30m`, `2h`, `7d`) or an RFC 3339 time.
    #[arg(long, value_name = "AGO|RFC3339")]
    pub since: String,

    /// The period's end, as `--since`; now when absent.
    #[arg(long, value_name = "AGO|RFC3339")]
    pub until: Option<String>,

    /// An outcome to recover (repeat for several); default exhausted, failed, rejected.
    #[arg(long = "outcome", value_name = "OUTCOME",
          value_parser = clap::builder::PossibleValuesParser::new(Outcome::ALL.map(Outcome::as_str)))]
    pub outcomes: Vec<String>,

    /// Print the API's answers as JSON, one per call.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub api: ApiArgs,
}

pub async fn run(args: RecoverArgs) -> Result<(), CliError> {
    let now = SystemClock.now();
    let mut since = instant("--since", &args.since, now)?;
    let until = args
        .until
        .as_deref()
        .map(|text| instant("--until", text, now))
        .transpose()?
        .unwrap_or(now);
    if until < since {
        return Err(CliError::invalid_argument("--until", "is before --since"));
    }
    let client = ApiClient::from_args(&args.api).await?;
    let (mut queued, mut skipped) = (0, 0);
    for _ in 0..MAX_CALLS {
        let mut body = json!({"since": since.to_string(), "until": until.to_string()});
        if !args.outcomes.is_empty() {
            body["outcomes"] = json!(args.outcomes);
        }
        let answer = client
            .post(&["webhooks", &args.webhook_id, "recover"], &body)
            .await?;
        if args.json {
            output::emit(&format!("{answer}\n"))?;
        }
        queued += count(&answer, "queued");
        skipped += count(&answer, "skipped");
        let next = answer["next_since"].as_str().and_then(Timestamp::parse);
        match next {
            Some(next) if answer["truncated"] == true && next > since => since = next,
            _ => {
                if !args.json {
                    output::emit(&format!(
                        "queued {queued} failed deliveries of {} again; skipped {skipped} (a retry still scheduled, or succeeded since)\n",
                        args.webhook_id
                    ))?;
                }
                return Ok(());
            }
        }
    }
    Err(CliError::runtime(format!(
        "stopped after {MAX_CALLS} calls ({queued} queued); run again with --since {since}"
    )))
}

fn count(answer: &Value, field: &str) -> u64 {
    answer[field].as_u64().unwrap_or(0)
}

/// `90s`, `30m`, `2h`, `7d` before `now`, or an RFC 3339 time.
fn instant(flag: &'static str, text: &str, now: Timestamp) -> Result<Timestamp, CliError> {
    if let Some(at) = Timestamp::parse(text) {
        return Ok(at);
    }
    let bad = || {
        CliError::invalid_argument(
            flag,
            format!("{text:?} is neither a duration like 2h (s, m, h, d) nor an RFC 3339 time"),
        )
    };
    let split = text.len().checked_sub(1).ok_or_else(bad)?;
    let (number, unit) = text.split_at(split);
    let amount: u64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    let ago = amount.checked_mul(seconds).ok_or_else(bad)?;
    Ok(now.minus(Duration::from_secs(ago)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_is_a_duration_ago_or_a_time() {
        let now = Timestamp::parse("2026-11-28T12:00:00Z").unwrap();
        // GIVEN each accepted spelling WHEN read THEN it is that long before now
        for (text, expected) in [
            ("90s", "2026-11-28T11:58:30.000Z"),
            ("30m", "2026-11-28T11:30:00.000Z"),
            ("2h", "2026-11-28T10:00:00.000Z"),
            ("7d", "2026-11-21T12:00:00.000Z"),
            ("2026-11-28T09:15:00+01:00", "2026-11-28T08:15:00.000Z"),
        ] {
            assert_eq!(
                instant("--since", text, now).unwrap().to_string(),
                expected,
                "{text}"
            );
        }
        // AND anything else is a usage error naming the flag
        for text in ["", "2", "h", "2w", "-1h", "yesterday"] {
            let error = instant("--since", text, now).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{text}");
            assert!(error.one_line().starts_with("--since"), "{text}");
        }
    }
}
