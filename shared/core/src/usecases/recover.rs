//! Recover: after a receiver's outage, every delivery of a webhook that failed in a
//! period gets a new attempt series, as a redelivery would (same delivery id, the next
//! attempt number). One read of the log from the period's start on, never the whole
//! log; bounded per call, with where to go on.

use std::collections::HashMap;
use std::time::Duration;

use crate::domain::delivery_log::{LoggedAttempt, Outcome};
use crate::domain::ids::DeliveryId;
use crate::domain::task::DeliveryTask;
use crate::domain::time::Timestamp;
use crate::domain::webhook::Webhook;
use crate::ports::{LogReader, StoreError, TaskQueue};

/// At most this many deliveries are queued or skipped by one call.
pub const MAX_DELIVERIES: usize = 10_000;
/// At most this many attempts are read by one call (from the period's start on).
pub const MAX_ATTEMPTS_READ: usize = 50_000;
/// The outcomes recovered when none are named.
pub const DEFAULT_OUTCOMES: [Outcome; 3] = [Outcome::Exhausted, Outcome::Failed, Outcome::Rejected];

/// What to recover: deliveries whose latest attempt in `[since, until]` had one of
/// `outcomes`.
#[derive(Clone, Debug, PartialEq)]
pub struct Period {
    pub since: Timestamp,
    pub until: Timestamp,
    pub outcomes: Vec<Outcome>,
}

/// What a call did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Recovered {
    /// Deliveries given a new attempt series.
    pub queued: usize,
    /// Deliveries of the period left alone: a retry is still scheduled, or a later
    /// attempt succeeded.
    pub skipped: usize,
    /// More of the period is left: call again from `next_since`.
    pub truncated: bool,
    #[schema(value_type = Option<String>)]
    pub next_since: Option<Timestamp>,
}

#[derive(Debug, thiserror::Error)]
pub enum RecoverError {
    #[error("webhook {0} is disabled; enable it before recovering its deliveries")]
    Disabled(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One delivery as the log from `since` on shows it.
struct Seen {
    /// Its latest attempt in the period.
    in_period: Option<LoggedAttempt>,
    /// Its latest attempt overall (the highest attempt number read).
    latest: LoggedAttempt,
}

/// Queues a new attempt series for every delivery of `webhook` that failed in `period`.
pub async fn recover(
    log: &dyn LogReader,
    queue: &dyn TaskQueue,
    webhook: &Webhook,
    period: &Period,
) -> Result<Recovered, RecoverError> {
    if !webhook.enabled {
        return Err(RecoverError::Disabled(webhook.id.to_string()));
    }
    let mut read = log
        .since(&webhook.id, period.since, MAX_ATTEMPTS_READ + 1)
        .await?;
    // A read cut short is judged up to the time of its last attempt, which the next
    // call starts from.
    let mut cut = None;
    if read.len() > MAX_ATTEMPTS_READ {
        read.truncate(MAX_ATTEMPTS_READ);
        let last = read.last().map(|attempt| attempt.record.at);
        read.retain(|attempt| Some(attempt.record.at) < last);
        cut = last;
    }
    let until = cut.map_or(period.until, |cut| cut.min(period.until));
    let mut deliveries: HashMap<DeliveryId, Seen> = HashMap::new();
    for attempt in read {
        let in_period = attempt.record.at <= until;
        let seen = deliveries
            .entry(attempt.record.delivery_id.clone())
            .or_insert_with(|| Seen {
                in_period: None,
                latest: attempt.clone(),
            });
        if attempt.record.attempt >= seen.latest.record.attempt {
            seen.latest = attempt.clone();
        }
        if in_period {
            seen.in_period = Some(attempt);
        }
    }
    // The period's failed deliveries, in the order of their latest attempt in it.
    let mut failed: Vec<Seen> = deliveries
        .into_values()
        .filter(|seen| {
            seen.in_period
                .as_ref()
                .is_some_and(|attempt| period.outcomes.contains(&attempt.record.outcome))
        })
        .collect();
    failed.sort_by_key(|seen| seen.in_period.as_ref().map(|a| a.record.sort_key()));
    let mut next_since = cut;
    if failed.len() > MAX_DELIVERIES {
        next_since = failed[MAX_DELIVERIES]
            .in_period
            .as_ref()
            .map(|a| a.record.at);
        failed.truncate(MAX_DELIVERIES);
    }
    let mut skipped = 0;
    let mut tasks = Vec::with_capacity(failed.len());
    for seen in failed {
        let latest = &seen.latest.record;
        // A retry still scheduled (as redeliver says), or a later success.
        if matches!(latest.outcome, Outcome::Retrying | Outcome::Succeeded) {
            skipped += 1;
            continue;
        }
        let attempt = latest.attempt + 1;
        tasks.push((
            DeliveryTask {
                delivery_id: latest.delivery_id.clone(),
                webhook_id: webhook.id.clone(),
                event: seen.latest.event(),
                attempt,
                series_start: attempt,
                not_before: None,
            },
            Duration::ZERO,
        ));
    }
    let queued = tasks.len();
    for result in queue.enqueue_many(&tasks).await {
        result?;
    }
    tracing::info!(webhook_id = %webhook.id, queued, skipped, "recovery queued");
    Ok(Recovered {
        queued,
        skipped,
        truncated: next_since.is_some(),
        next_since,
    })
}

#[cfg(test)]
mod tests;
