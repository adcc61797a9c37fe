//! Isolation on Lambda: the delivery function's real binary on moto and loopback
//! receivers. A hanging neighbour does not hold the healthy webhooks' deliveries, and
//! an unreachable logs queue never makes a receiver get an event twice.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use webhooks_tests::functions::sqs_batch;
use webhooks_tests::receiver::Receiver;

use super::delivery_stack::DeliveryStack;
use super::lambda_functions::put_webhook;

const WAIT: Duration = Duration::from_secs(10);

/// An SQS batch of `count` events from the events queue.
fn events_batch(count: usize, tag: &str) -> Value {
    let bodies: Vec<String> = (0..count)
        .map(|i| {
            json!({"id": format!("evt_{tag}_{i}"), "type": "report.publish_status",
                "client_id": "acme", "data": {"n": i}})
            .to_string()
        })
        .collect();
    sqs_batch("webhooks-events", &bodies)
}

fn failed_ids(response: &Value) -> usize {
    response["batchItemFailures"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn an_unreachable_logs_queue_sends_nothing_twice_and_forks_no_retry_chain() {
    // GIVEN two healthy webhooks and one whose receiver answers 500, and a delivery
    // function whose logs queue does not exist
    let stack = DeliveryStack::create().await;
    let healthy = [
        Receiver::start(vec![200]).await,
        Receiver::start(vec![200]).await,
    ];
    let failing = Receiver::start(vec![500]).await;
    for receiver in healthy.iter().chain([&failing]) {
        put_webhook(
            &stack.moto,
            &stack.table,
            &stack.prefix,
            &receiver.url("/h"),
            None,
        )
        .await;
    }
    let missing_logs = format!("{}-gone", stack.logs);
    // (a lane wide enough for the batch: this is about the log, not the cap)
    let delivery = stack
        .delivery(&[
            ("LOGS_QUEUE_URL", &missing_logs),
            ("MAX_IN_FLIGHT_PER_WEBHOOK", "16"),
        ])
        .await;
    // WHEN a batch of 10 events arrives
    let response = delivery.invoke(events_batch(10, "logs-down")).await;
    // THEN no record is handed back (nothing would be POSTed again)
    assert_eq!(failed_ids(&response), 0, "{response}");
    // AND every receiver got each event exactly once
    for receiver in healthy.iter().chain([&failing]) {
        let got = receiver.wait_for(10, WAIT).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(receiver.deliveries().len(), 10, "{} deliveries", got.len());
    }
    // AND the retry queue holds one retry per failed delivery (no fork) and the 30
    // parked log records
    let held: Vec<String> = stack
        .moto
        .held_messages()
        .await
        .into_iter()
        .map(|m| m.body)
        .filter(|b| b.contains("evt_logs-down_"))
        .collect();
    let retries = held
        .iter()
        .filter(|b| b.contains("\"delivery_v1\""))
        .count();
    assert_eq!(retries, 10, "one retry per failed delivery");
    let parked: Vec<String> = stack
        .moto
        .receive_all(&stack.retry)
        .await
        .iter()
        .map(|m| m.body().unwrap_or("").to_owned())
        .filter(|b| b.contains("\"delivery_log_v1\""))
        .collect();
    assert_eq!(parked.len(), 30);
    // WHEN the logs queue is back and the retry queue hands the parked records over
    let delivery = stack.delivery(&[("MAX_IN_FLIGHT_PER_WEBHOOK", "16")]).await;
    let response = delivery
        .invoke(sqs_batch("webhooks-retry", &parked[..10]))
        .await;
    let rest = delivery
        .invoke(sqs_batch("webhooks-retry", &parked[10..20]))
        .await;
    let last = delivery
        .invoke(sqs_batch("webhooks-retry", &parked[20..]))
        .await;
    // THEN every record arrives on the logs queue once, and no receiver got more
    assert_eq!(
        failed_ids(&response) + failed_ids(&rest) + failed_ids(&last),
        0
    );
    let logged = stack.moto.receive_all(&stack.logs).await;
    assert_eq!(logged.len(), 30);
    for receiver in healthy.iter().chain([&failing]) {
        assert_eq!(receiver.deliveries().len(), 10);
    }
}

#[tokio::test]
async fn a_hanging_neighbour_does_not_hold_the_healthy_deliveries_of_a_batch() {
    // GIVEN a healthy webhook and one whose receiver answers after 30 s (timeout 2 s)
    let stack = DeliveryStack::create().await;
    let healthy = Receiver::start(vec![200]).await;
    let hanging = Receiver::answering_after(vec![200], Duration::from_secs(30)).await;
    for receiver in [&healthy, &hanging] {
        put_webhook(
            &stack.moto,
            &stack.table,
            &stack.prefix,
            &receiver.url("/h"),
            None,
        )
        .await;
    }
    let delivery = stack.delivery(&[("MAX_IN_FLIGHT_PER_WEBHOOK", "8")]).await;
    // WHEN three batches of 10 events arrive one after the other
    let started = Instant::now();
    for batch in 0..3 {
        let response = delivery
            .invoke(events_batch(10, &format!("hang-{batch}")))
            .await;
        assert_eq!(failed_ids(&response), 0, "{response}");
    }
    let took = started.elapsed();
    // THEN the healthy receiver got all 30, and the hanging one never more than the
    // in-flight cap at once: after its timeouts its new deliveries were queued
    // instead of attempted, so only the first batch waited for it (3 x 2 s before)
    assert_eq!(healthy.wait_for(30, WAIT).await.len(), 30);
    assert!(
        hanging.max_concurrent() <= 8,
        "{}",
        hanging.max_concurrent()
    );
    assert!(
        took < Duration::from_secs(5),
        "three batches took {took:?} beside a hanging neighbour"
    );
    let queued = stack.moto.receive_all(&stack.retry).await;
    assert!(
        queued.len() >= 20,
        "the hanging webhook's deliveries wait on the retry queue: {}",
        queued.len()
    );
}
