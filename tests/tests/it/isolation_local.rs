//! Isolation on the SQLite backend: a hanging or failing receiver delays only its own
//! deliveries, and a webhook over its in-flight cap has its deliveries wait, never
//! fail. The service under test delivers with a 2 s timeout (the harness).

use std::time::{Duration, Instant};

use webhooks_tests::harness::{event, Harness, Options};
use webhooks_tests::receiver::Receiver;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_and_a_failing_neighbour_do_not_delay_a_healthy_webhook() {
    // GIVEN three webhooks of one event type: a healthy receiver, one that answers
    // only after 30 s (past the 2 s timeout) and one answering 500
    let dir = tempfile::tempdir().unwrap();
    let service = Harness::start(&dir, Options::default()).await;
    let healthy = Receiver::start(vec![200]).await;
    let hanging = Receiver::answering_after(vec![200], Duration::from_secs(30)).await;
    let failing = Receiver::start(vec![500]).await;
    for receiver in [&healthy, &hanging, &failing] {
        service
            .create_webhook(&receiver.url("/hook"), serde_json::json!({}))
            .await;
    }
    // WHEN 200 events arrive at once
    let events = 200;
    let started = Instant::now();
    for _ in 0..events {
        service.send_event(event("acme")).await;
    }
    // THEN the healthy receiver has every one well before the hanging neighbour's
    // attempts could have been waited for in turn (200 events x 2 s / 64 worker slots
    // is 6 s and more when a hanging attempt holds a slot)
    let got = healthy.wait_for(events, Duration::from_secs(20)).await;
    let took = started.elapsed();
    eprintln!("healthy deliveries beside bad neighbours: {took:?}");
    assert_eq!(
        got.len(),
        events,
        "the healthy receiver got {} of {events}",
        got.len()
    );
    assert!(
        took < Duration::from_secs(4),
        "the healthy webhook's deliveries took {took:?} beside a hanging neighbour"
    );
    // AND the service never had more than the in-flight cap of requests to the hanging
    // receiver out at once. (The receiver itself holds each for 30 s, also after the
    // service gave up on it at 2 s, so its own count grows with the retries: a place
    // frees only when a request times out, so no more than 8 can arrive within any
    // stretch shorter than the timeout; 1 s leaves room for a loaded machine.)
    let arrivals: Vec<Instant> = hanging.deliveries().iter().map(|d| d.at).collect();
    let most_within_a_second = arrivals
        .iter()
        .map(|&from| {
            arrivals
                .iter()
                .filter(|&&at| at >= from && at - from < Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0);
    assert!(
        most_within_a_second <= 8,
        "{most_within_a_second} requests to the hanging receiver within 1 s"
    );
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_over_its_in_flight_cap_has_its_deliveries_wait_then_all_arrive() {
    // GIVEN a receiver taking 300 ms per answer (within the timeout)
    let dir = tempfile::tempdir().unwrap();
    let service = Harness::start(&dir, Options::default()).await;
    let slow = Receiver::answering_after(vec![200], Duration::from_millis(300)).await;
    let hook = service
        .create_webhook(&slow.url("/hook"), serde_json::json!({}))
        .await;
    let id = hook["id"].as_str().unwrap().to_owned();
    // WHEN 30 events arrive at once
    for _ in 0..30 {
        service.send_event(event("acme")).await;
    }
    // THEN all 30 arrive, never more than 8 at once, each logged once as succeeded:
    // waiting for the lane is not an attempt
    let got = slow.wait_for(30, Duration::from_secs(30)).await;
    assert_eq!(got.len(), 30);
    assert!(slow.max_concurrent() <= 8, "{}", slow.max_concurrent());
    let logs = service
        .wait_for_logs(&id, 30, Duration::from_secs(10))
        .await;
    assert_eq!(logs.len(), 30);
    assert!(
        logs.iter()
            .all(|l| l["outcome"] == "succeeded" && l["attempt"] == 1),
        "{logs:?}"
    );
    service.stop().await;
}
