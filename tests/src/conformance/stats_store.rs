//! What every [`StatsStore`] must do: add tallies per webhook, granularity and bucket,
//! read a range of one granularity back, and keep each webhook's latest times.

use webhooks_core::domain::delivery_log::Outcome;
use webhooks_core::domain::health::{tally, Granularity, StatsUpdate, Tally};
use webhooks_core::domain::ids::{DeliveryId, WebhookId};
use webhooks_core::domain::time::Timestamp;
use webhooks_core::ports::StatsStore;

use super::support::{at, attempt};

/// Expands to one `#[tokio::test]` per case below; see [`crate::conformance`].
#[macro_export]
macro_rules! stats_store_conformance {
    ($store:expr) => {
        $crate::conformance_tests!(
            stats_store,
            $store,
            [
                a_recorded_tally_is_read_back_in_every_granularity,
                recording_again_adds_to_the_same_bucket,
                a_read_covers_its_range_inclusive_and_only_its_webhook,
                the_latest_times_only_move_forward,
                an_unknown_webhook_has_no_buckets_and_no_times,
            ]
        );
    };
}

/// Attempts of `webhook`: (outcome, seconds after the base time, latency ms).
fn update(webhook: &WebhookId, attempts: &[(Outcome, u64, u64)]) -> StatsUpdate {
    let logged: Vec<_> = attempts
        .iter()
        .enumerate()
        .map(|(n, &(outcome, seconds, ms))| {
            let mut logged = attempt(
                webhook,
                &DeliveryId::from_trusted(format!("dlv_{n}")),
                1,
                outcome,
                at(seconds),
            );
            logged.record.elapsed_ms = Some(ms);
            logged
        })
        .collect();
    tally(&logged)
}

async fn read(
    store: &dyn StatsStore,
    webhook: &WebhookId,
    granularity: Granularity,
    from: Timestamp,
    to: Timestamp,
) -> Vec<(Timestamp, Tally)> {
    let mut buckets = store
        .buckets(webhook, granularity, from, to)
        .await
        .expect("buckets read");
    buckets.sort_by_key(|(start, _)| *start);
    buckets
}

pub async fn a_recorded_tally_is_read_back_in_every_granularity(store: &dyn StatsStore) {
    // GIVEN a success of 20 ms and a failure of 300 ms in one slot
    let webhook = WebhookId::generate();
    let added = update(
        &webhook,
        &[(Outcome::Succeeded, 1, 20), (Outcome::Exhausted, 2, 300)],
    );
    // WHEN recorded
    store.record(&added).await.expect("recorded");
    // THEN each granularity reads one bucket with both attempts and their latencies
    for granularity in Granularity::ALL {
        let start = granularity.floor(at(1));
        let buckets = read(store, &webhook, granularity, start, start).await;
        assert_eq!(buckets.len(), 1, "{granularity:?}");
        let (read_start, tally) = buckets[0];
        assert_eq!(read_start, start);
        assert_eq!((tally.succeeded, tally.failed), (1, 1));
        assert_eq!(
            tally.latency,
            added.buckets.values().next().expect("a bucket").latency
        );
    }
}

pub async fn recording_again_adds_to_the_same_bucket(store: &dyn StatsStore) {
    // GIVEN a bucket with one success
    let webhook = WebhookId::generate();
    store
        .record(&update(&webhook, &[(Outcome::Succeeded, 1, 20)]))
        .await
        .expect("recorded");
    // WHEN two failures of the same bucket are recorded
    store
        .record(&update(
            &webhook,
            &[(Outcome::Retrying, 3, 200), (Outcome::Failed, 4, 5)],
        ))
        .await
        .expect("recorded");
    // THEN the bucket holds the sum, histogram included
    let start = Granularity::Hour.floor(at(1));
    let buckets = read(store, &webhook, Granularity::Hour, start, start).await;
    assert_eq!(buckets.len(), 1);
    let tally = buckets[0].1;
    assert_eq!(
        (tally.succeeded, tally.failed, tally.latency.total()),
        (1, 2, 3)
    );
    assert_eq!(tally.latency.quantile(1.0), Some(250));
}

pub async fn a_read_covers_its_range_inclusive_and_only_its_webhook(store: &dyn StatsStore) {
    // GIVEN attempts in three consecutive slots, and another webhook's in the middle one
    let webhook = WebhookId::generate();
    let other = WebhookId::generate();
    let slot = 150;
    store
        .record(&update(
            &webhook,
            &[
                (Outcome::Succeeded, 0, 1),
                (Outcome::Succeeded, slot, 1),
                (Outcome::Succeeded, 2 * slot, 1),
            ],
        ))
        .await
        .expect("recorded");
    store
        .record(&update(&other, &[(Outcome::Failed, slot, 1)]))
        .await
        .expect("recorded");
    // WHEN the second and third slots are read
    let second = Granularity::Slot.floor(at(slot));
    let third = Granularity::Slot.floor(at(2 * slot));
    let buckets = read(store, &webhook, Granularity::Slot, second, third).await;
    // THEN exactly those two, the webhook's own, are read
    let starts: Vec<_> = buckets.iter().map(|(start, _)| *start).collect();
    assert_eq!(starts, [second, third]);
    assert!(buckets
        .iter()
        .all(|(_, t)| (t.succeeded, t.failed) == (1, 0)));
    // AND no hour bucket answers a slot read's neighbour granularity by mistake
    let hours = read(store, &webhook, Granularity::Day, second, third).await;
    assert!(hours.is_empty(), "{hours:?}");
}

pub async fn the_latest_times_only_move_forward(store: &dyn StatsStore) {
    // GIVEN a success at +100 s and a failure at +50 s
    let webhook = WebhookId::generate();
    store
        .record(&update(
            &webhook,
            &[(Outcome::Succeeded, 100, 1), (Outcome::Exhausted, 50, 1)],
        ))
        .await
        .expect("recorded");
    // WHEN an older success and a newer failure are recorded
    store
        .record(&update(
            &webhook,
            &[(Outcome::Succeeded, 10, 1), (Outcome::Rejected, 70, 1)],
        ))
        .await
        .expect("recorded");
    // THEN the latest success stays, the failure moves forward
    let last = store.last_seen(&webhook).await.expect("read");
    assert_eq!(last.success, Some(at(100)));
    assert_eq!(last.failure, Some(at(70)));
}

pub async fn an_unknown_webhook_has_no_buckets_and_no_times(store: &dyn StatsStore) {
    let webhook = WebhookId::generate();
    let buckets = read(store, &webhook, Granularity::Hour, at(0), at(86_400)).await;
    assert!(buckets.is_empty());
    let last = store.last_seen(&webhook).await.expect("read");
    assert_eq!((last.success, last.failure), (None, None));
}
