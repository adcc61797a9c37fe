//! The health math: bucket layout and window edges, tallies, percentiles from the
//! histogram, the success rate.

use super::*;
use crate::domain::delivery_log::{LoggedAttempt, Outcome};
use crate::domain::ids::{DeliveryId, WebhookId};
use crate::testing::fixtures::attempt;

fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

fn logged(webhook: &str, n: u32, outcome: Outcome, when: &str, ms: Option<u64>) -> LoggedAttempt {
    let mut logged = attempt(
        &WebhookId::from_trusted(webhook),
        &DeliveryId::from_trusted(format!("dlv_{n}")),
        1,
        outcome,
        at(when),
    );
    logged.record.elapsed_ms = ms;
    logged
}

fn histogram_of(latencies: &[u64]) -> LatencyHistogram {
    let mut histogram = LatencyHistogram::default();
    for &ms in latencies {
        histogram.add(ms);
    }
    histogram
}

#[test]
fn the_one_hour_window_is_24_slots_of_two_and_a_half_minutes_ending_with_now() {
    // GIVEN a time 40 s into a 2.5-minute slot
    let now = at("2026-01-01T10:02:40.000Z");
    // WHEN the 1h window is laid out
    let starts = Window::Hour.layout(now);
    // THEN it has 24 starts, 150 s apart, the last holding now
    assert_eq!(starts.len(), 24);
    assert_eq!(starts[23], at("2026-01-01T10:02:30.000Z"));
    assert_eq!(starts[0], at("2026-01-01T09:05:00.000Z"));
    assert!(starts
        .windows(2)
        .all(|w| w[1].unix_millis() - w[0].unix_millis() == 150_000));
}

#[test]
fn the_day_and_week_windows_are_hours_and_utc_days() {
    let now = at("2026-01-08T00:00:00.000Z");
    // WHEN laid out exactly on a boundary
    let hours = Window::Day.layout(now);
    let days = Window::Week.layout(now);
    // THEN the boundary opens the last bucket
    assert_eq!(
        (hours.len(), hours[23], hours[0]),
        (24, now, at("2026-01-07T01:00:00.000Z"))
    );
    assert_eq!(
        (days.len(), days[6], days[0]),
        (7, now, at("2026-01-02T00:00:00.000Z"))
    );
}

#[test]
fn windows_parse_only_their_names() {
    assert_eq!(Window::parse("1h"), Some(Window::Hour));
    assert_eq!(Window::parse("24h"), Some(Window::Day));
    assert_eq!(Window::parse("7d"), Some(Window::Week));
    assert_eq!(Window::parse("2h"), None);
    assert_eq!(Window::default(), Window::Day);
}

#[test]
fn latencies_fall_in_the_bucket_up_to_its_bound() {
    assert_eq!(LatencyHistogram::index_of(0), 0);
    assert_eq!(LatencyHistogram::index_of(10), 0);
    assert_eq!(LatencyHistogram::index_of(11), 1);
    assert_eq!(LatencyHistogram::index_of(60_000), 11);
    assert_eq!(LatencyHistogram::index_of(60_001), 12);
}

#[test]
fn quantiles_interpolate_inside_the_bucket_of_their_rank() {
    // GIVEN 100 latencies: 50 of 20 ms (10–25 bucket), 50 of 200 ms (100–250 bucket)
    let mut latencies = vec![20; 50];
    latencies.extend([200; 50]);
    let histogram = histogram_of(&latencies);
    // THEN p50 is the top of the lower bucket and p95 is 90% into the upper one
    assert_eq!(histogram.quantile(0.5), Some(25));
    assert_eq!(histogram.quantile(0.95), Some(235));
    // AND each estimate lies in the bucket of the true value
    assert!((10..=25).contains(&histogram.quantile(0.5).unwrap()));
    assert!((100..=250).contains(&histogram.quantile(0.95).unwrap()));
}

#[test]
fn quantiles_of_an_empty_histogram_are_none_and_the_open_bucket_answers_its_floor() {
    assert_eq!(LatencyHistogram::default().quantile(0.95), None);
    assert_eq!(histogram_of(&[90_000]).quantile(0.5), Some(60_000));
    assert_eq!(histogram_of(&[1]).quantile(0.95), Some(10));
}

#[test]
fn a_batch_is_tallied_once_per_bucket_and_granularity() {
    // GIVEN two attempts of one webhook in one slot and one of another webhook
    let attempts = [
        logged(
            "wh_a",
            1,
            Outcome::Succeeded,
            "2026-01-01T10:00:10.000Z",
            Some(20),
        ),
        logged(
            "wh_a",
            2,
            Outcome::Exhausted,
            "2026-01-01T10:01:10.000Z",
            Some(300),
        ),
        logged("wh_b", 3, Outcome::Failed, "2026-01-01T10:01:10.000Z", None),
    ];
    // WHEN tallied
    let update = tally(&attempts);
    // THEN each webhook has one bucket per granularity
    assert_eq!(update.buckets.len(), 6);
    let key = BucketKey {
        webhook_id: WebhookId::from_trusted("wh_a"),
        granularity: Granularity::Slot,
        start: at("2026-01-01T10:00:00.000Z"),
    };
    let slot = update.buckets[&key];
    assert_eq!(
        (slot.succeeded, slot.failed, slot.latency.total()),
        (1, 1, 2)
    );
    // AND the latest success and failure are kept per webhook
    let a = update.last[&WebhookId::from_trusted("wh_a")];
    assert_eq!(a.success, Some(at("2026-01-01T10:00:10.000Z")));
    assert_eq!(a.failure, Some(at("2026-01-01T10:01:10.000Z")));
    let b = update.last[&WebhookId::from_trusted("wh_b")];
    assert_eq!((b.success, b.failure.is_some()), (None, true));
}

#[test]
fn a_report_shows_empty_buckets_as_zeros_and_ignores_buckets_outside_the_window() {
    // GIVEN hour tallies: one inside the 24h window, one just before it
    let now = at("2026-01-02T10:30:00.000Z");
    let inside = tally(&[
        logged(
            "wh_a",
            1,
            Outcome::Succeeded,
            "2026-01-02T09:10:00.000Z",
            Some(20),
        ),
        logged(
            "wh_a",
            2,
            Outcome::Succeeded,
            "2026-01-02T09:20:00.000Z",
            Some(20),
        ),
        logged(
            "wh_a",
            3,
            Outcome::Succeeded,
            "2026-01-02T09:30:00.000Z",
            Some(20),
        ),
        logged(
            "wh_a",
            4,
            Outcome::Retrying,
            "2026-01-02T09:40:00.000Z",
            Some(200),
        ),
    ]);
    let stored: Vec<(Timestamp, Tally)> = inside
        .buckets
        .iter()
        .filter(|(key, _)| key.granularity == Granularity::Hour)
        .map(|(key, tally)| (key.start, *tally))
        .chain([(
            at("2026-01-01T10:00:00.000Z"),
            Tally {
                succeeded: 0,
                failed: 9,
                latency: LatencyHistogram::default(),
            },
        )])
        .collect();
    // WHEN the 24h report is computed
    let stats = report(Window::Day, now, &stored, LastSeen::default());
    // THEN only the inside bucket counts
    assert_eq!((stats.attempts, stats.succeeded, stats.failed), (4, 3, 1));
    assert_eq!(stats.success_rate, Some(0.75));
    assert_eq!(stats.buckets.len(), 24);
    let filled: Vec<_> = stats
        .buckets
        .iter()
        .filter(|b| b.succeeded + b.failed > 0)
        .collect();
    assert_eq!(filled.len(), 1);
    assert_eq!(filled[0].start, at("2026-01-02T09:00:00.000Z"));
    assert_eq!(stats.buckets[22], *filled[0]);
    assert_eq!(stats.buckets[0].p95_ms, None);
    // AND p50/p95 come from the window's histogram
    assert_eq!(stats.latency_ms, Some(LatencySummary { p50: 20, p95: 250 }));
    assert_eq!(stats.window, "24h");
}

#[test]
fn a_report_without_attempts_has_no_rate_and_no_latency() {
    let stats = report(
        Window::Week,
        at("2026-01-02T10:30:00.000Z"),
        &[],
        LastSeen::default(),
    );
    assert_eq!(
        (stats.attempts, stats.success_rate, stats.latency_ms),
        (0, None, None)
    );
    assert_eq!(stats.buckets.len(), 7);
    assert!(stats
        .buckets
        .iter()
        .all(|b| b.succeeded == 0 && b.failed == 0));
}
