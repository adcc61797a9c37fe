//! `GET /webhooks/{id}/stats` on the local service: after real deliveries, the
//! stats match the delivery log; bad windows and unknown webhooks are problems.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{json, Value};
use webhooks_tests::harness::event;
use webhooks_tests::receiver::Receiver;

use crate::api_contract::{assert_problem, error_fields, service};

fn count(body: &Value, field: &str) -> u64 {
    body[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} in {body}"))
}

/// The buckets' succeeded and failed counts, summed.
fn bucket_sums(body: &Value) -> (u64, u64) {
    body["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .fold((0, 0), |(s, f), b| {
            (
                s + b["succeeded"].as_u64().unwrap(),
                f + b["failed"].as_u64().unwrap(),
            )
        })
}

#[tokio::test]
async fn after_some_deliveries_the_stats_match_the_log() {
    // GIVEN a receiver answering 500 then 200s, and two events delivered to it
    let (_dir, service) = service().await;
    let receiver = Receiver::start(vec![500, 200, 200]).await;
    let created = service.create_webhook(&receiver.url("/"), json!({})).await;
    let id = created["id"].as_str().unwrap();
    service.send_event(event("acme")).await;
    service.send_event(event("acme")).await;
    let logs = service.wait_for_logs(id, 3, Duration::from_secs(10)).await;
    assert_eq!(logs.len(), 3);

    for window in ["1h", "24h", "7d"] {
        // WHEN the stats of each window are read
        let answer = service
            .get(&format!("/webhooks/{id}/stats?window={window}"))
            .await;
        assert_eq!(answer.status.as_u16(), 200, "{}", answer.body);
        let stats = answer.body;
        // THEN they count the three attempts: two succeeded, one failed
        assert_eq!(stats["window"], window);
        assert_eq!(
            (
                count(&stats, "attempts"),
                count(&stats, "succeeded"),
                count(&stats, "failed")
            ),
            (3, 2, 1),
            "{window}"
        );
        let rate = stats["success_rate"].as_f64().unwrap();
        assert!((rate - 2.0 / 3.0).abs() < 1e-9, "{rate}");
        // AND the buckets add up to the totals, 24 or 7 of them
        let expected_buckets = if window == "7d" { 7 } else { 24 };
        assert_eq!(stats["buckets"].as_array().unwrap().len(), expected_buckets);
        assert_eq!(bucket_sums(&stats), (2, 1));
        // AND the latencies and latest times come from the log
        let p50 = stats["latency_ms"]["p50"].as_u64().unwrap();
        let p95 = stats["latency_ms"]["p95"].as_u64().unwrap();
        assert!(p50 <= p95, "{stats}");
        let at_of = |outcome: &str| -> Vec<Value> {
            logs.iter()
                .filter(|l| l["outcome"] == outcome)
                .map(|l| l["at"].clone())
                .collect()
        };
        assert!(
            at_of("succeeded").contains(&stats["last_success_at"]),
            "{stats}"
        );
        assert_eq!(vec![stats["last_failure_at"].clone()], at_of("retrying"));
    }
    // AND the default window is 24h, with exactly the documented fields
    let stats = service.get(&format!("/webhooks/{id}/stats")).await.body;
    assert_eq!(stats["window"], "24h");
    let keys: HashSet<&str> = stats
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let expected: HashSet<&str> = [
        "window",
        "attempts",
        "succeeded",
        "failed",
        "success_rate",
        "latency_ms",
        "last_success_at",
        "last_failure_at",
        "buckets",
    ]
    .into_iter()
    .collect();
    assert_eq!(keys, expected);
    let bucket_keys: HashSet<&str> = stats["buckets"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        bucket_keys,
        HashSet::from(["start", "succeeded", "failed", "p95_ms"])
    );
}

#[tokio::test]
async fn a_webhook_without_attempts_has_empty_stats() {
    // GIVEN a webhook nothing was delivered to
    let (_dir, service) = service().await;
    let created = service
        .create_webhook("https://example.com/hook", json!({}))
        .await;
    let id = created["id"].as_str().unwrap();
    // WHEN its stats are read
    let stats = service
        .get(&format!("/webhooks/{id}/stats?window=1h"))
        .await
        .body;
    // THEN every count is zero and the rate, latency and times are null
    assert_eq!(count(&stats, "attempts"), 0);
    for field in [
        "success_rate",
        "latency_ms",
        "last_success_at",
        "last_failure_at",
    ] {
        assert!(stats[field].is_null(), "{field}: {stats}");
    }
    assert_eq!(bucket_sums(&stats), (0, 0));
    assert!(stats["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .all(|b| b["p95_ms"].is_null()));
}

#[tokio::test]
async fn a_bad_window_is_a_400_naming_it_and_an_unknown_webhook_a_404() {
    let (_dir, service) = service().await;
    let created = service
        .create_webhook("https://example.com/hook", json!({}))
        .await;
    let id = created["id"].as_str().unwrap();
    // WHEN the window is not one of the three
    let bad = service
        .get(&format!("/webhooks/{id}/stats?window=2h"))
        .await;
    // THEN 400 names `window`
    assert_problem(&bad, 400);
    assert_eq!(error_fields(&bad), ["window"]);
    // AND an unknown webhook is a 404
    assert_problem(&service.get("/webhooks/wh_unknown/stats").await, 404);
}
