//! Isolation on Lambda: the delivery function's real binary on moto and loopback
//! receivers. A hanging neighbour does not hold the healthy webhooks' deliveries, and
//! an unreachable logs queue never makes a receiver get an event twice.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use webhooks_tests::functions::Function;
use webhooks_tests::moto::Moto;
use webhooks_tests::receiver::Receiver;

use super::lambda_functions::put_webhook;

const WAIT: Duration = Duration::from_secs(10);

/// An SQS batch of `count` events from the events queue.
fn events_batch(count: usize, tag: &str) -> Value {
    let records: Vec<Value> = (0..count)
        .map(|i| {
            let body = json!({"id": format!("evt_{tag}_{i}"), "type": "report.publish_status",
                "client_id": "acme", "data": {"n": i}});
            json!({"messageId": format!("m-{tag}-{i}"), "receiptHandle": format!("r-{tag}-{i}"),
                "body": body.to_string(), "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:webhooks-events",
                "awsRegion": "us-east-1"})
        })
        .collect();
    json!({ "Records": records })
}

/// An SQS batch from the retry queue with these bodies.
fn retry_batch(bodies: &[String]) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            json!({"messageId": format!("t-{i}"), "receiptHandle": format!("rt-{i}"),
                "body": body, "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:webhooks-retry",
                "awsRegion": "us-east-1"})
        })
        .collect();
    json!({ "Records": records })
}

fn failed_ids(response: &Value) -> usize {
    response["batchItemFailures"].as_array().map_or(0, Vec::len)
}

struct Stack {
    moto: Moto,
    table: String,
    retry: String,
    logs: String,
    dlq: String,
    prefix: String,
}

async fn stack() -> Stack {
    let moto = Moto::connect().await;
    Stack {
        table: moto.create_webhooks_table().await,
        retry: moto.create_queue("retry").await,
        logs: moto.create_queue("logs").await,
        dlq: moto.create_queue("events-dlq").await,
        prefix: moto.secret_prefix(),
        moto,
    }
}

async fn delivery_function(stack: &Stack, logs_queue: &str, max_in_flight: &str) -> Function {
    Function::start(
        "delivery",
        &[
            ("MAX_IN_FLIGHT_PER_WEBHOOK", max_in_flight),
            ("WEBHOOKS_TABLE", &stack.table),
            ("RETRY_QUEUE_URL", &stack.retry),
            ("LOGS_QUEUE_URL", logs_queue),
            ("EVENTS_DLQ_URL", &stack.dlq),
            ("METRICS_STACK", "webhooks-test"),
            ("SECRET_PREFIX", &stack.prefix),
            ("DELIVERY_TIMEOUT_MS", "2000"),
            ("WEBHOOKS_ALLOW_NETS", "127.0.0.0/8"),
            ("WEBHOOKS_REQUIRE_HTTPS", "false"),
        ],
        &stack.moto,
    )
    .await
}

#[tokio::test]
async fn an_unreachable_logs_queue_sends_nothing_twice_and_forks_no_retry_chain() {
    // GIVEN two healthy webhooks and one whose receiver answers 500, and a delivery
    // function whose logs queue does not exist
    let stack = stack().await;
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
    let delivery = delivery_function(&stack, &missing_logs, "16").await;
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
    let delivery = delivery_function(&stack, &stack.logs, "16").await;
    let response = delivery.invoke(retry_batch(&parked[..10])).await;
    let rest = delivery.invoke(retry_batch(&parked[10..20])).await;
    let last = delivery.invoke(retry_batch(&parked[20..])).await;
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
    let stack = stack().await;
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
    let delivery = delivery_function(&stack, &stack.logs, "8").await;
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
