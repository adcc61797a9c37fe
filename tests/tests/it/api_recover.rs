//! `POST /webhooks/{id}/recover` on the SQLite backend: after an outage, every failed
//! delivery of the period gets a new attempt series with its delivery id, once; what
//! is not failed any more is skipped; a bad body or a disabled webhook is refused.

use std::time::Duration;

use serde_json::{json, Value};
use webhooks_core::domain::retry::RetrySchedule;
use webhooks_core::domain::time::{Clock, SystemClock};
use webhooks_tests::harness::{event, Harness, Options};
use webhooks_tests::receiver::Receiver;

/// How long a step may take on a loaded machine (the polls below wait up to 20 s too).
const WAIT: Duration = Duration::from_secs(20);

async fn log(service: &Harness, id: &str) -> Vec<Value> {
    service
        .get(&format!("/webhooks/{id}/logs?limit=100"))
        .await
        .body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn an_outages_failed_deliveries_are_delivered_again_with_their_ids() {
    // GIVEN a receiver down for three deliveries, and no retries: each is exhausted
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        schedule: RetrySchedule::new(vec![], 0.0),
        ..Options::default()
    };
    let service = Harness::start(&dir, options).await;
    let receiver = Receiver::start(vec![503, 503, 503, 200]).await;
    let hook = service
        .create_webhook(&receiver.url("/hook"), json!({}))
        .await;
    let id = hook["id"].as_str().unwrap().to_owned();
    let since = SystemClock.now().to_string();
    for n in 0..3 {
        service.send_event(event(&format!("client-{n}"))).await;
    }
    let first = receiver.wait_for(3, WAIT).await;
    let exhausted = || async {
        log(&service, &id)
            .await
            .iter()
            .filter(|r| r["outcome"] == "exhausted")
            .count()
    };
    for _ in 0..400 {
        if exhausted().await == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(exhausted().await, 3);

    // WHEN the receiver is back and the period is recovered
    let answer = service
        .post(&format!("/webhooks/{id}/recover"), json!({"since": since}))
        .await;
    // THEN the three are queued, and each arrives again with its delivery id, attempt 2
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(
        answer.body,
        json!({"queued": 3, "skipped": 0, "truncated": false, "next_since": null})
    );
    let all = receiver.wait_for(6, WAIT).await;
    let mut before: Vec<_> = first
        .iter()
        .map(|d| d.header("x-delivery-id").unwrap())
        .collect();
    let mut again: Vec<_> = all[3..]
        .iter()
        .map(|d| d.header("x-delivery-id").unwrap())
        .collect();
    before.sort();
    again.sort();
    assert_eq!(before, again);
    assert!(all[3..]
        .iter()
        .all(|d| d.header("x-delivery-attempt").as_deref() == Some("2")));

    // WHEN the period is recovered again once they succeeded THEN nothing is queued:
    // their latest attempts in it succeeded
    for _ in 0..400 {
        if log(&service, &id)
            .await
            .iter()
            .filter(|r| r["outcome"] == "succeeded")
            .count()
            == 3
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let again = service
        .post(&format!("/webhooks/{id}/recover"), json!({"since": since}))
        .await;
    assert_eq!(
        again.body,
        json!({"queued": 0, "skipped": 0, "truncated": false, "next_since": null})
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.deliveries().len(), 6);
    service.stop().await;
}

#[tokio::test]
async fn a_bad_period_or_a_disabled_webhook_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let service = Harness::start(&dir, Options::default()).await;
    let hook = service
        .create_webhook("http://127.0.0.1:9/hook", json!({}))
        .await;
    let path = format!("/webhooks/{}/recover", hook["id"].as_str().unwrap());
    // GIVEN bodies with a bad field each WHEN posted THEN 422 names it
    for (body, field) in [
        (json!({}), "since"),
        (json!({"since": "yesterday"}), "since"),
        (
            json!({"since": "2026-11-28T12:00:00Z", "outcomes": []}),
            "outcomes",
        ),
        (
            json!({"since": "2026-11-28T12:00:00Z", "outcomes": ["lost"]}),
            "outcomes",
        ),
        (
            json!({"since": "2026-11-28T12:00:00Z", "colour": "red"}),
            "colour",
        ),
    ] {
        let answer = service.post(&path, body.clone()).await;
        assert_eq!(answer.status, 422, "{body}: {}", answer.body);
        assert_eq!(answer.body["errors"][0]["field"], field, "{body}");
    }
    // AND a period that ends before it starts is empty: nothing is queued
    let empty = service
        .post(
            &path,
            json!({"since": "2026-11-28T12:00:00Z", "until": "2026-11-28T11:00:00Z"}),
        )
        .await;
    assert_eq!(
        (empty.status.as_u16(), empty.body["queued"].as_u64()),
        (202, Some(0)),
        "{}",
        empty.body
    );
    // AND an unknown webhook is 404
    let unknown = service
        .post(
            "/webhooks/wh_unknown/recover",
            json!({"since": "2026-11-28T12:00:00Z"}),
        )
        .await;
    assert_eq!(unknown.status, 404);
    // GIVEN the webhook disabled WHEN recovered THEN 409
    let off = service
        .patch(
            &format!("/webhooks/{}", hook["id"].as_str().unwrap()),
            json!({"enabled": false}),
            None,
        )
        .await;
    assert_eq!(off.status, 200);
    let refused = service
        .post(&path, json!({"since": "2026-11-28T12:00:00Z"}))
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.body["detail"]
        .as_str()
        .unwrap()
        .contains("disabled"));
    service.stop().await;
}
