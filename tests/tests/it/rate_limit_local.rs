//! The per-webhook rate limit on the SQLite backend: deliveries beyond it wait in the
//! queue and all arrive, spread out, each logged once as its first attempt.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;
use webhooks_tests::harness::{event, Harness, Options};
use webhooks_tests::receiver::Receiver;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_webhook_gets_every_delivery_spread_out_and_logged_once() {
    // GIVEN a webhook limited to 5 requests a second
    let dir = tempfile::tempdir().unwrap();
    let service = Harness::start(&dir, Options::default()).await;
    let receiver = Receiver::start(vec![200]).await;
    let hook = service
        .create_webhook(&receiver.url("/hook"), json!({"rate_limit_per_second": 5}))
        .await;
    assert_eq!(hook["rate_limit_per_second"], 5);
    let id = hook["id"].as_str().unwrap().to_owned();
    // WHEN 15 events arrive at once
    let events = 15;
    for _ in 0..events {
        service.send_event(event("acme")).await;
    }
    // THEN all 15 arrive
    let got = receiver.wait_for(events, Duration::from_secs(30)).await;
    assert_eq!(
        got.len(),
        events,
        "the receiver got {} of {events}",
        got.len()
    );
    // AND over at least about 2 s: 5 at once, then one per 0.2 s token
    let first = got.iter().map(|d| d.at).min().unwrap();
    let last = got.iter().map(|d| d.at).max().unwrap();
    let spread = last - first;
    eprintln!("15 deliveries at 5 a second arrived over {spread:?}");
    assert!(
        spread >= Duration::from_millis(1800),
        "15 deliveries at 5 a second arrived within {spread:?}"
    );
    // AND each delivery is logged once, as a first attempt that succeeded: waiting
    // for a token is not an attempt
    let logs = service
        .wait_for_logs(&id, events, Duration::from_secs(10))
        .await;
    assert_eq!(logs.len(), events);
    assert!(
        logs.iter()
            .all(|l| l["outcome"] == "succeeded" && l["attempt"] == 1),
        "{logs:?}"
    );
    let deliveries: HashSet<_> = logs.iter().map(|l| l["delivery_id"].to_string()).collect();
    assert_eq!(deliveries.len(), events);
    service.stop().await;
}
