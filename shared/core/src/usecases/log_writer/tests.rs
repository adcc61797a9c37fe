//! What a failure means for each record of a log-writer batch, on the in-memory log
//! and dead letters and on `PickyLogs`, which refuses a whole call for one bad
//! attempt as `BatchWriteItem` does.

use async_trait::async_trait;

use super::write_batch;
use crate::domain::delivery_log::{LoggedAttempt, Outcome};
use crate::domain::health::{Granularity, StatsUpdate};
use crate::domain::ids::{DeliveryId, WebhookId};
use crate::ports::{DeadLetters, QueueMessage, StatsReader, StoreError};
use crate::testing::fakes::PickyLogs;
use crate::testing::fixtures::{attempt, base_time};
use crate::testing::memory::{MemoryDeadLetters, MemoryLogs};
use crate::testing::memory_stats::MemoryStats;

/// The attempt of delivery `dlv_{n}`.
fn logged(n: usize) -> LoggedAttempt {
    attempt(
        &WebhookId::from_trusted("wh_1"),
        &DeliveryId::from_trusted(format!("dlv_{n}")),
        1,
        Outcome::Succeeded,
        base_time(),
    )
}

/// One queue record per delivery number, message id `m-{n}`.
fn records(numbers: impl IntoIterator<Item = usize>) -> Vec<QueueMessage> {
    numbers
        .into_iter()
        .map(|n| QueueMessage {
            message_id: format!("m-{n}"),
            body: serde_json::to_string(&logged(n)).unwrap(),
            received_at: base_time(),
        })
        .collect()
}

fn delivery_ids(attempts: &[LoggedAttempt]) -> Vec<String> {
    let mut ids: Vec<String> = attempts
        .iter()
        .map(|a| a.record.delivery_id.to_string())
        .collect();
    ids.sort();
    ids
}

fn expected_ids(numbers: impl IntoIterator<Item = usize>) -> Vec<String> {
    let mut ids: Vec<String> = numbers.into_iter().map(|n| format!("dlv_{n}")).collect();
    ids.sort();
    ids
}

/// Dead letters that cannot be reached.
struct UnreachableDeadLetters;

#[async_trait]
impl DeadLetters for UnreachableDeadLetters {
    async fn reject(&self, _body: &str, _reason: &str) -> Result<(), StoreError> {
        Err(StoreError::backend("the dead-letter queue is unreachable"))
    }
}

#[tokio::test]
async fn one_refused_record_is_dead_lettered_alone_and_its_batch_mates_are_stored() {
    // GIVEN a log that refuses any call carrying delivery 42
    let logs = PickyLogs::new(vec![DeliveryId::from_trusted("dlv_42")], vec![]);
    let dead = MemoryDeadLetters::default();
    // WHEN a batch of 100 records, 42 among them, is written
    let failed = write_batch(&logs, &MemoryStats::default(), &dead, records(0..100)).await;
    // THEN nothing is handed back for SQS to retry
    assert_eq!(failed, Vec::<String>::new());
    // AND the 99 others are stored
    assert_eq!(
        delivery_ids(&logs.logs.all()),
        expected_ids((0..100).filter(|&n| n != 42))
    );
    // AND only 42 went to the dead letters, as it came, with the store's reason
    let rejected = dead.rejected();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].0, records([42])[0].body);
    assert_eq!(
        rejected[0].1,
        "refused by the store: delivery dlv_42 is nested too deep"
    );
    // AND halving found it in a few calls: 100, then 50 + 50, 25 + 25, ... down to 1
    let calls = logs.calls();
    assert_eq!(calls[0], 100);
    assert!(calls.len() <= 15, "{calls:?}");
}

#[tokio::test]
async fn several_refused_records_are_each_dead_lettered() {
    // GIVEN a log that refuses the calls carrying deliveries 3, 4 or 17
    let bad = [3, 4, 17];
    let refused = bad
        .iter()
        .map(|n| DeliveryId::from_trusted(format!("dlv_{n}")))
        .collect();
    let logs = PickyLogs::new(refused, vec![]);
    let dead = MemoryDeadLetters::default();
    // WHEN a batch of 20 records is written
    let failed = write_batch(&logs, &MemoryStats::default(), &dead, records(0..20)).await;
    // THEN the 17 others are stored and none is retried
    assert_eq!(failed, Vec::<String>::new());
    assert_eq!(
        delivery_ids(&logs.logs.all()),
        expected_ids((0..20).filter(|n| !bad.contains(n)))
    );
    // AND each refused one is a dead letter of its own, with its own reason
    let mut reasons: Vec<String> = dead.rejected().into_iter().map(|(_, r)| r).collect();
    reasons.sort();
    let mut expected =
        bad.map(|n| format!("refused by the store: delivery dlv_{n} is nested too deep"));
    expected.sort();
    assert_eq!(reasons, expected);
}

#[tokio::test]
async fn records_the_store_failed_on_for_now_are_handed_back_alone() {
    // GIVEN a log that throttles deliveries 2 and 7
    let failing = vec![
        DeliveryId::from_trusted("dlv_2"),
        DeliveryId::from_trusted("dlv_7"),
    ];
    let logs = PickyLogs::new(vec![], failing);
    let dead = MemoryDeadLetters::default();
    // WHEN a batch of 10 records is written
    let failed = write_batch(&logs, &MemoryStats::default(), &dead, records(0..10)).await;
    // THEN only those two are handed back for SQS to retry, and nothing is dead-lettered
    assert_eq!(failed, ["m-2", "m-7"]);
    assert!(dead.rejected().is_empty());
    // AND the other eight are stored, in one call
    assert_eq!(
        delivery_ids(&logs.logs.all()),
        expected_ids((0..10).filter(|&n| n != 2 && n != 7))
    );
    assert_eq!(logs.calls(), [10]);
}

#[tokio::test]
async fn an_unreadable_record_goes_to_the_dead_letters_with_its_reason() {
    // GIVEN an in-memory log and dead letters
    let logs = MemoryLogs::default();
    let dead = MemoryDeadLetters::default();
    let mut batch = records([1]);
    batch.push(QueueMessage {
        message_id: "m-junk".into(),
        body: "{\"not\": \"an attempt\"}".into(),
        received_at: base_time(),
    });
    // WHEN a batch of a record and a body that is not one is written
    let failed = write_batch(&logs, &MemoryStats::default(), &dead, batch).await;
    // THEN the record is stored and nothing is retried
    assert_eq!(failed, Vec::<String>::new());
    assert_eq!(delivery_ids(&logs.all()), ["dlv_1"]);
    // AND the body is a dead letter saying why
    let rejected = dead.rejected();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].0, "{\"not\": \"an attempt\"}");
    assert!(
        rejected[0].1.starts_with("not a delivery-log record: "),
        "{}",
        rejected[0].1
    );
}

#[tokio::test]
async fn a_refused_record_is_handed_back_when_the_dead_letters_fail() {
    // GIVEN a log that refuses delivery 1, and dead letters that cannot be reached
    let logs = PickyLogs::new(vec![DeliveryId::from_trusted("dlv_1")], vec![]);
    // WHEN a batch of three records and an unreadable one is written
    let mut batch = records(0..3);
    batch.push(QueueMessage {
        message_id: "m-junk".into(),
        body: "[]".into(),
        received_at: base_time(),
    });
    let failed = write_batch(
        &logs,
        &MemoryStats::default(),
        &UnreachableDeadLetters,
        batch,
    )
    .await;
    // THEN the refused and the unreadable records are handed back, for SQS's redrive
    assert_eq!(failed, ["m-junk", "m-1"]);
    // AND the two others are stored
    assert_eq!(delivery_ids(&logs.logs.all()), ["dlv_0", "dlv_2"]);
}

/// A stats store that cannot be reached.
struct UnreachableStats;

#[async_trait]
impl crate::ports::StatsRecorder for UnreachableStats {
    async fn record(&self, _update: &StatsUpdate) -> Result<(), StoreError> {
        Err(StoreError::backend("the stats table is unreachable"))
    }
}

#[tokio::test]
async fn only_the_stored_records_are_added_to_the_stats() {
    // GIVEN a log that refuses delivery 42 and fails delivery 7 for now
    let logs = PickyLogs::new(
        vec![DeliveryId::from_trusted("dlv_42")],
        vec![DeliveryId::from_trusted("dlv_7")],
    );
    let stats = MemoryStats::default();
    // WHEN a batch of 100 succeeded attempts of one webhook is written
    let failed = write_batch(
        &logs,
        &stats,
        &MemoryDeadLetters::default(),
        records(0..100),
    )
    .await;
    assert_eq!(failed, ["m-7"]);
    // THEN the stats count the 98 stored attempts, once each, in every granularity
    let webhook = WebhookId::from_trusted("wh_1");
    for granularity in Granularity::ALL {
        let start = granularity.floor(base_time());
        let buckets = stats
            .buckets(&webhook, granularity, start, start)
            .await
            .unwrap();
        assert_eq!(buckets.len(), 1, "{granularity:?}");
        assert_eq!((buckets[0].1.succeeded, buckets[0].1.failed), (98, 0));
        assert_eq!(buckets[0].1.latency.total(), 98);
    }
    // AND the latest success is the attempts' time
    let last = stats.last_seen(&webhook).await.unwrap();
    assert_eq!((last.success, last.failure), (Some(base_time()), None));
}

#[tokio::test]
async fn failing_stats_do_not_send_stored_records_back() {
    // GIVEN a log that takes everything and stats that cannot be reached
    let logs = MemoryLogs::default();
    // WHEN a batch is written
    let failed = write_batch(
        &logs,
        &UnreachableStats,
        &MemoryDeadLetters::default(),
        records(0..3),
    )
    .await;
    // THEN nothing is retried (the log has them; the stats miss them) and all are stored
    assert_eq!(failed, Vec::<String>::new());
    assert_eq!(delivery_ids(&logs.all()), expected_ids(0..3));
}
