//! `webhooks logs`: a webhook's delivery attempts, oldest first, one line each;
//! `--follow` keeps polling and prints attempts as they are logged.

use std::collections::HashSet;
use std::time::Duration;

use serde::Deserialize;
use webhooks_core::domain::delivery_log::{DeliveryLogRecord, Outcome};

use crate::api::{ApiArgs, ApiClient};
use crate::error::CliError;
use crate::output;

const POLL_EVERY: Duration = Duration::from_secs(1);
/// While following, at most this many pages are read per poll to catch up.
const MAX_CATCH_UP_PAGES: usize = 10;

#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// The webhook whose delivery log to show (`wh_...`).
    #[arg(value_name = "WEBHOOK_ID")]
    pub webhook_id: String,

    /// Keep watching and print new attempts as they are logged, until Ctrl-C.
    #[arg(long, short = 'f')]
    pub follow: bool,

    /// Only attempts with this outcome.
    #[arg(long, value_name = "OUTCOME",
          value_parser = clap::builder::PossibleValuesParser::new(Outcome::ALL.map(Outcome::as_str)))]
    pub outcome: Option<String>,

    /// How many of the latest attempts to show first (1–100).
    #[arg(long, value_name = "N", default_value_t = 50,
          value_parser = clap::value_parser!(u16).range(1..=100))]
    pub limit: u16,

    #[command(flatten)]
    pub api: ApiArgs,
}

/// One page of `GET /webhooks/{id}/logs`, newest first.
#[derive(Debug, Deserialize)]
struct LogPage {
    items: Vec<DeliveryLogRecord>,
    next_cursor: Option<String>,
}

/// An attempt's identity: the same delivery id and attempt number is the same record.
type AttemptKey = (String, u32);

fn key(record: &DeliveryLogRecord) -> AttemptKey {
    (record.delivery_id.to_string(), record.attempt)
}

pub async fn run(args: LogsArgs) -> Result<(), CliError> {
    let client = ApiClient::from_args(&args.api).await?;
    let reader = LogReader {
        client: &client,
        args: &args,
    };

    let first = reader.page(None).await?;
    let mut seen: HashSet<AttemptKey> = first.items.iter().map(key).collect();
    if first.items.is_empty() && !args.follow {
        eprintln!("no delivery attempts logged for {} yet", args.webhook_id);
    }
    print_oldest_first(&first.items)?;
    if !args.follow {
        return Ok(());
    }

    eprintln!("following {}; Ctrl-C to stop", args.webhook_id);
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    let mut failing = false;
    loop {
        tokio::select! {
            _ = &mut stop => return Ok(()),
            () = tokio::time::sleep(POLL_EVERY) => {}
        }
        match reader.new_since(&seen).await {
            Ok(fresh) => {
                if failing {
                    eprintln!("the webhooks API answers again");
                    failing = false;
                }
                seen.extend(fresh.iter().map(key));
                print_oldest_first(&fresh)?;
            }
            Err(error) => {
                if !failing {
                    eprintln!("warning: {} (still following)", error.one_line());
                    failing = true;
                }
            }
        }
    }
}

struct LogReader<'a> {
    client: &'a ApiClient,
    args: &'a LogsArgs,
}

impl LogReader<'_> {
    async fn page(&self, cursor: Option<&str>) -> Result<LogPage, CliError> {
        let limit = self.args.limit.to_string();
        let mut query = vec![("limit", limit.as_str())];
        if let Some(outcome) = &self.args.outcome {
            query.push(("outcome", outcome));
        }
        if let Some(cursor) = cursor {
            query.push(("cursor", cursor));
        }
        let answer = self
            .client
            .get(&["webhooks", &self.args.webhook_id, "logs"], &query)
            .await?;
        serde_json::from_value(answer).map_err(|e| {
            CliError::runtime(format!(
                "the webhooks API answered with an unexpected log page: {e}"
            ))
        })
    }

    /// The records not yet seen, newest first: pages are read until one holds a record
    /// already seen (everything older was printed before) or there are no more.
    async fn new_since(
        &self,
        seen: &HashSet<AttemptKey>,
    ) -> Result<Vec<DeliveryLogRecord>, CliError> {
        let mut fresh = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_CATCH_UP_PAGES {
            let page = self.page(cursor.as_deref()).await?;
            let reached_seen = page.items.iter().any(|record| seen.contains(&key(record)));
            fresh.extend(
                page.items
                    .into_iter()
                    .filter(|record| !seen.contains(&key(record))),
            );
            match page.next_cursor {
                Some(next) if !reached_seen => cursor = Some(next),
                _ => break,
            }
        }
        Ok(fresh)
    }
}

/// Prints records given newest first (as the API returns them) oldest first.
fn print_oldest_first(newest_first: &[DeliveryLogRecord]) -> Result<(), CliError> {
    if newest_first.is_empty() {
        return Ok(());
    }
    let text: String = newest_first
        .iter()
        .rev()
        .map(|record| format!("{}\n", line(record)))
        .collect();
    output::emit(&text)
}

/// `at  outcome  attempt N  status  elapsed  delivery_id  error`
fn line(record: &DeliveryLogRecord) -> String {
    let status = record
        .status_code
        .map_or_else(|| "-".to_owned(), |code| code.to_string());
    let elapsed = record
        .elapsed_ms
        .map_or_else(|| "-".to_owned(), |ms| format!("{ms} ms"));
    let mut text = format!(
        "{}  {:<9}  attempt {:<2}  {:>3}  {:>8}  {}",
        record.at,
        record.outcome.as_str(),
        record.attempt,
        status,
        elapsed,
        record.delivery_id,
    );
    if let Some(error) = record.error.as_deref().filter(|e| !e.trim().is_empty()) {
        text.push_str("  ");
        text.push_str(&error.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    if let Some(next) = record.next_attempt_at {
        text.push_str(&format!("  (next attempt at {next})"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(value: serde_json::Value) -> DeliveryLogRecord {
        let mut base = json!({"delivery_id": "dlv_1", "webhook_id": "wh_1", "event_id": "evt_1",
            "event": "report.publish_status", "client_id": "acme", "attempt": 1,
            "outcome": "succeeded", "status_code": 200, "elapsed_ms": 42, "error": null,
            "response_excerpt": null, "at": "2026-11-28T12:00:05Z", "next_attempt_at": null});
        for (k, v) in value.as_object().unwrap() {
            base[k] = v.clone();
        }
        serde_json::from_value(base).unwrap()
    }

    #[test]
    fn a_success_shows_time_outcome_attempt_status_elapsed_and_delivery() {
        assert_eq!(
            line(&record(json!({}))),
            "2026-11-28T12:00:05.000Z  succeeded  attempt 1   200     42 ms  dlv_1"
        );
    }

    #[test]
    fn a_failure_shows_its_error_and_next_attempt() {
        let text = line(&record(
            json!({"outcome": "retrying", "attempt": 2, "status_code": null,
            "elapsed_ms": null, "error": "timeout after 5 s\nmore",
            "next_attempt_at": "2026-11-28T12:05:05Z"}),
        ));
        assert_eq!(
            text,
            "2026-11-28T12:00:05.000Z  retrying   attempt 2     -         -  dlv_1  timeout after 5 s more  (next attempt at 2026-11-28T12:05:05.000Z)"
        );
    }

    #[test]
    fn attempts_are_told_apart_by_delivery_and_attempt_number() {
        let first = record(json!({}));
        let second = record(json!({"attempt": 2}));
        assert_ne!(key(&first), key(&second));
        assert_eq!(key(&first), key(&record(json!({"outcome": "failed"}))));
    }
}
