//! Recover on the in-memory log and queue.

use std::time::Duration;

use super::*;
use crate::domain::ids::{EventId, WebhookId};
use crate::ports::LogAppender;
use crate::testing::fixtures::{attempt, base_time, webhook};
use crate::testing::memory::{MemoryLogs, MemoryTaskQueue};

fn at(seconds: u64) -> Timestamp {
    base_time().plus(Duration::from_secs(seconds))
}

fn delivery(webhook: &WebhookId, tag: &str) -> DeliveryId {
    DeliveryId::derive(&EventId::from_trusted(format!("evt_{tag}")), webhook)
}

fn period(since: u64, until: u64) -> Period {
    Period {
        since: at(since),
        until: at(until),
        outcomes: DEFAULT_OUTCOMES.to_vec(),
    }
}

#[tokio::test]
async fn the_periods_failed_deliveries_get_a_new_series_and_the_others_are_left() {
    // GIVEN a webhook's log between 0 and 400 s:
    let hook = webhook("report.publish_status");
    let id = &hook.id;
    let (exhausted, later_ok, pending, retrying, before, after) = (
        delivery(id, "exhausted"),
        delivery(id, "later-ok"),
        delivery(id, "pending"),
        delivery(id, "retrying"),
        delivery(id, "before"),
        delivery(id, "after"),
    );
    let logs = MemoryLogs::default();
    logs.append(&[
        // exhausted after three attempts in the period: recovered
        attempt(id, &exhausted, 1, Outcome::Retrying, at(100)),
        attempt(id, &exhausted, 2, Outcome::Retrying, at(105)),
        attempt(id, &exhausted, 3, Outcome::Exhausted, at(150)),
        // failed in the period, succeeded after it: left (skipped)
        attempt(id, &later_ok, 1, Outcome::Failed, at(120)),
        attempt(id, &later_ok, 2, Outcome::Succeeded, at(300)),
        // rejected in the period, then redelivered and retrying: left (skipped)
        attempt(id, &pending, 1, Outcome::Rejected, at(130)),
        attempt(id, &pending, 2, Outcome::Retrying, at(250)),
        // still retrying in the period: not an outcome asked for
        attempt(id, &retrying, 1, Outcome::Retrying, at(140)),
        // exhausted before or after the period: outside it
        attempt(id, &before, 1, Outcome::Exhausted, at(50)),
        attempt(id, &after, 1, Outcome::Exhausted, at(250)),
    ])
    .await
    .unwrap();
    let queue = MemoryTaskQueue::default();
    // WHEN the period 100–200 s is recovered
    let recovered = recover(&logs, &queue, &hook, &period(100, 200))
        .await
        .unwrap();
    // THEN one delivery is queued, two are skipped, and nothing is left over
    assert_eq!(
        recovered,
        Recovered {
            queued: 1,
            skipped: 2,
            truncated: false,
            next_since: None
        }
    );
    // AND the queued task is the next attempt of the same delivery, with its event, at once
    let queued = queue.enqueued();
    assert_eq!(queued.len(), 1);
    let (task, delay) = &queued[0];
    assert_eq!(task.delivery_id, exhausted);
    assert_eq!(task.webhook_id, hook.id);
    assert_eq!((task.attempt, task.series_start), (4, 4));
    assert_eq!(task.event.event_type, "report.publish_status");
    assert_eq!(task.event.data["report_id"], "r-42");
    assert_eq!(*delay, Duration::ZERO);
}

#[tokio::test]
async fn a_disabled_webhook_is_not_recovered() {
    // GIVEN a disabled webhook with a failed delivery
    let mut hook = webhook("report.publish_status");
    hook.enabled = false;
    let logs = MemoryLogs::default();
    logs.append(&[attempt(
        &hook.id,
        &delivery(&hook.id, "x"),
        1,
        Outcome::Exhausted,
        at(10),
    )])
    .await
    .unwrap();
    let queue = MemoryTaskQueue::default();
    // WHEN it is recovered THEN it is refused and nothing is queued
    let refused = recover(&logs, &queue, &hook, &period(0, 100)).await;
    assert!(
        matches!(refused, Err(RecoverError::Disabled(_))),
        "{refused:?}"
    );
    assert!(queue.enqueued().is_empty());
}

#[tokio::test]
async fn a_period_with_more_failed_deliveries_than_a_call_takes_says_where_to_go_on() {
    // GIVEN one more exhausted delivery than a call queues, one a millisecond apart
    let hook = webhook("report.publish_status");
    let logs = MemoryLogs::default();
    let attempts: Vec<_> = (0..=MAX_DELIVERIES)
        .map(|n| {
            let at = base_time().plus(Duration::from_millis(n as u64));
            attempt(
                &hook.id,
                &delivery(&hook.id, &n.to_string()),
                1,
                Outcome::Exhausted,
                at,
            )
        })
        .collect();
    logs.append(&attempts).await.unwrap();
    let queue = MemoryTaskQueue::default();
    // WHEN the period is recovered
    let first = recover(&logs, &queue, &hook, &period(0, 3600))
        .await
        .unwrap();
    // THEN a call's worth is queued and the next call starts at the one left
    assert_eq!(first.queued, MAX_DELIVERIES);
    assert!(first.truncated);
    let next = first.next_since.expect("where to go on");
    assert_eq!(next, attempts[MAX_DELIVERIES].record.at);
    // AND the next call from there queues the last one
    let rest = Period {
        since: next,
        ..period(0, 3600)
    };
    let second = recover(&logs, &MemoryTaskQueue::default(), &hook, &rest)
        .await
        .unwrap();
    assert_eq!((second.queued, second.truncated), (1, false));
}
