//! What every [`LogStore`] must do.

use webhooks_core::domain::delivery_log::{LoggedAttempt, Outcome};
use webhooks_core::domain::ids::{DeliveryId, EventId, WebhookId};
use webhooks_core::ports::LogStore;

use super::support::{at, attempt, walk_pages};

/// Expands to one `#[tokio::test]` per case below; see [`crate::conformance`].
#[macro_export]
macro_rules! log_store_conformance {
    ($store:expr) => {
        $crate::conformance_tests!(
            log_store,
            $store,
            [
                an_appended_attempt_is_listed_as_it_was_logged,
                appending_the_same_attempt_twice_keeps_one_record,
                list_is_newest_first_across_pages,
                list_filters_by_outcome_across_pages,
                list_shows_only_the_webhooks_own_attempts,
                attempts_of_a_delivery_are_in_attempt_order,
                attempts_of_an_unknown_delivery_are_empty,
                since_reads_the_attempts_from_a_time_on_oldest_first,
            ]
        );
    };
}

fn delivery(webhook: &WebhookId, tag: &str) -> DeliveryId {
    DeliveryId::derive(&EventId::from_trusted(format!("evt_{tag}")), webhook)
}

fn sort_keys(attempts: &[LoggedAttempt]) -> Vec<String> {
    attempts.iter().map(|a| a.record.sort_key()).collect()
}

/// Every page of a webhook's log, flattened.
async fn list_all(
    store: &dyn LogStore,
    webhook: &WebhookId,
    outcome: Option<Outcome>,
    limit: usize,
) -> Vec<LoggedAttempt> {
    walk_pages(limit, |cursor| async move {
        store.list(webhook, outcome, limit, cursor.as_deref()).await
    })
    .await
    .concat()
}

pub async fn an_appended_attempt_is_listed_as_it_was_logged(store: &dyn LogStore) {
    // GIVEN an attempt with every field set
    let webhook = WebhookId::generate();
    let logged = attempt(
        &webhook,
        &delivery(&webhook, "one"),
        2,
        Outcome::Retrying,
        at(5),
    );
    // WHEN it is appended
    store
        .append(std::slice::from_ref(&logged))
        .await
        .expect("append");
    // THEN the log lists it, every field intact
    let page = store.list(&webhook, None, 10, None).await.expect("list");
    assert_eq!(page.items, vec![logged]);
    assert_eq!(page.next_cursor, None);
}

pub async fn appending_the_same_attempt_twice_keeps_one_record(store: &dyn LogStore) {
    // GIVEN a logged attempt
    let webhook = WebhookId::generate();
    let logged = attempt(
        &webhook,
        &delivery(&webhook, "twice"),
        1,
        Outcome::Succeeded,
        at(1),
    );
    store
        .append(std::slice::from_ref(&logged))
        .await
        .expect("append");
    // WHEN the same attempt is appended again (a redelivered log message), alone and
    // in a batch
    store
        .append(std::slice::from_ref(&logged))
        .await
        .expect("append again");
    store
        .append(&[logged.clone(), logged.clone()])
        .await
        .expect("append a batch");
    // THEN it is recorded once
    assert_eq!(
        list_all(store, &webhook, None, 10).await,
        vec![logged.clone()]
    );
    let attempts = store
        .attempts(&webhook, &logged.record.delivery_id)
        .await
        .expect("attempts");
    assert_eq!(attempts.len(), 1);
}

pub async fn list_is_newest_first_across_pages(store: &dyn LogStore) {
    // GIVEN seven attempts logged a second apart, appended out of order
    let webhook = WebhookId::generate();
    let mut logged: Vec<_> = (0..7u64)
        .map(|i| {
            let id = delivery(&webhook, &format!("page{i}"));
            attempt(&webhook, &id, 1, Outcome::Succeeded, at(10 + i))
        })
        .collect();
    logged.rotate_left(3);
    store.append(&logged).await.expect("append");
    // WHEN the log is read three at a time
    let pages = walk_pages(3, |cursor| {
        let webhook = &webhook;
        async move { store.list(webhook, None, 3, cursor.as_deref()).await }
    })
    .await;
    // THEN the pages hold 3, 3 and 1, newest first, each attempt once
    let sizes: Vec<_> = pages.iter().map(Vec::len).filter(|n| *n > 0).collect();
    assert_eq!(sizes, [3, 3, 1]);
    let mut expected = sort_keys(&logged);
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(sort_keys(&pages.concat()), expected);
}

pub async fn list_filters_by_outcome_across_pages(store: &dyn LogStore) {
    // GIVEN a webhook's log alternating failures and successes
    let webhook = WebhookId::generate();
    let logged: Vec<_> = (0..8u64)
        .map(|i| {
            let outcome = if i % 2 == 0 {
                Outcome::Retrying
            } else {
                Outcome::Succeeded
            };
            let id = delivery(&webhook, &format!("mixed{i}"));
            attempt(&webhook, &id, 1, outcome, at(100 + i))
        })
        .collect();
    store.append(&logged).await.expect("append");
    // WHEN only the retrying ones are listed, three at a time
    let retrying = list_all(store, &webhook, Some(Outcome::Retrying), 3).await;
    // THEN exactly those come back, newest first
    let mut expected: Vec<_> = logged
        .iter()
        .filter(|a| a.record.outcome == Outcome::Retrying)
        .cloned()
        .collect();
    expected.reverse();
    assert_eq!(retrying, expected);
    // AND an outcome nobody had lists nothing
    assert!(list_all(store, &webhook, Some(Outcome::Exhausted), 3)
        .await
        .is_empty());
}

pub async fn list_shows_only_the_webhooks_own_attempts(store: &dyn LogStore) {
    // GIVEN attempts of two webhooks
    let (mine, theirs) = (WebhookId::generate(), WebhookId::generate());
    let own = attempt(&mine, &delivery(&mine, "a"), 1, Outcome::Succeeded, at(1));
    let other = attempt(
        &theirs,
        &delivery(&theirs, "a"),
        1,
        Outcome::Succeeded,
        at(2),
    );
    store.append(&[own.clone(), other]).await.expect("append");
    // WHEN one webhook's log is listed
    // THEN only its attempt is there
    assert_eq!(list_all(store, &mine, None, 10).await, vec![own]);
}

pub async fn attempts_of_a_delivery_are_in_attempt_order(store: &dyn LogStore) {
    // GIVEN three attempts of a delivery appended out of order, beside another
    // delivery of the same webhook and the same delivery id under another webhook
    let webhook = WebhookId::generate();
    let id = delivery(&webhook, "series");
    let series = [
        attempt(&webhook, &id, 1, Outcome::Retrying, at(0)),
        attempt(&webhook, &id, 2, Outcome::Retrying, at(5)),
        attempt(&webhook, &id, 3, Outcome::Succeeded, at(305)),
    ];
    let elsewhere = WebhookId::generate();
    store
        .append(&[
            series[2].clone(),
            attempt(
                &webhook,
                &delivery(&webhook, "other"),
                1,
                Outcome::Succeeded,
                at(1),
            ),
            series[0].clone(),
            attempt(&elsewhere, &id, 4, Outcome::Succeeded, at(2)),
            series[1].clone(),
        ])
        .await
        .expect("append");
    // WHEN the delivery's attempts are read
    let attempts = store.attempts(&webhook, &id).await.expect("attempts");
    // THEN they are exactly its three, first attempt first
    assert_eq!(attempts, series.to_vec());
}

pub async fn attempts_of_an_unknown_delivery_are_empty(store: &dyn LogStore) {
    let webhook = WebhookId::generate();
    let attempts = store
        .attempts(&webhook, &delivery(&webhook, "never"))
        .await
        .expect("attempts");
    assert!(attempts.is_empty());
}

pub async fn since_reads_the_attempts_from_a_time_on_oldest_first(store: &dyn LogStore) {
    // GIVEN a webhook's attempts at 0, 10, 10 (two deliveries), 20 and 30 s, and another
    // webhook's attempt at 20 s
    let webhook = WebhookId::generate();
    let (one, two) = (delivery(&webhook, "one"), delivery(&webhook, "two"));
    let mine = [
        attempt(&webhook, &one, 1, Outcome::Retrying, at(0)),
        attempt(&webhook, &one, 2, Outcome::Retrying, at(10)),
        attempt(&webhook, &two, 1, Outcome::Failed, at(10)),
        attempt(&webhook, &one, 3, Outcome::Exhausted, at(20)),
        attempt(&webhook, &two, 2, Outcome::Succeeded, at(30)),
    ];
    let elsewhere = WebhookId::generate();
    let mut appended = mine.to_vec();
    appended.push(attempt(
        &elsewhere,
        &delivery(&elsewhere, "x"),
        1,
        Outcome::Failed,
        at(20),
    ));
    appended.reverse();
    store.append(&appended).await.expect("append");
    // WHEN read from 10 s on, and with a limit
    let from_ten = store.since(&webhook, at(10), 100).await.expect("since");
    let first_two = store.since(&webhook, at(10), 2).await.expect("since");
    let none = store.since(&webhook, at(31), 100).await.expect("since");
    // THEN they are the webhook's own from that time, oldest first (in sort-key order:
    // time, then delivery id), as many as asked
    let mut expected = sort_keys(&mine[1..]);
    expected.sort();
    assert_eq!(sort_keys(&from_ten), expected);
    assert_eq!(sort_keys(&first_two), expected[..2]);
    assert!(none.is_empty());
}
