//! The whole flow on the local service: register, send, deliver signed, retry,
//! disable, redeliver, survive a restart.

use std::time::Duration;

use serde_json::json;
use webhooks_core::domain::signing::{verify_hmac_hex, verify_standard};
use webhooks_tests::harness::{event, Harness, Options};
use webhooks_tests::receiver::Receiver;

const WAIT: Duration = Duration::from_secs(10);

fn outcomes_oldest_first(logs: &[serde_json::Value]) -> Vec<String> {
    let mut outcomes: Vec<String> = logs
        .iter()
        .map(|r| r["outcome"].as_str().unwrap_or("").to_owned())
        .collect();
    outcomes.reverse();
    outcomes
}

#[tokio::test]
async fn a_delivery_carries_every_header_and_both_signatures_verify() {
    // GIVEN a webhook with a secret pointing at a loopback receiver
    let dir = tempfile::tempdir().unwrap();
    let service = Harness::start(&dir, Options::default()).await;
    let receiver = Receiver::start(vec![200]).await;
    let secret = "a-shared-secret-of-24-chars";
    let hook = service
        .create_webhook(&receiver.url("/hook"), json!({"secret": secret}))
        .await;
    let webhook_id = hook["id"].as_str().unwrap();

    // WHEN an event for a client arrives
    let event_id = service.send_event(json!({"id": "evt_flow_1", "type": "report.publish_status", "client_id": "acme",
        "occurred_at": "2026-11-28T12:00:00Z", "data": {"report_id": "r-42", "status": "published"}})).await;

    // THEN the receiver gets one POST with the design's body and every header
    let deliveries = receiver.wait_for(1, WAIT).await;
    assert_eq!(deliveries.len(), 1);
    let delivery = &deliveries[0];
    assert_eq!(delivery.path, "/hook");
    assert_eq!(
        delivery.json(),
        json!({"id": event_id, "type": "report.publish_status", "client_id": "acme",
        "occurred_at": "2026-11-28T12:00:00.000Z", "webhook_id": webhook_id, "data": {"report_id": "r-42", "status": "published"}})
    );
    assert_eq!(
        delivery.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(
        delivery.header("user-agent"),
        Some(format!("webhooks/{}", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(delivery.header("x-webhook-id").as_deref(), Some(webhook_id));
    assert_eq!(
        delivery.header("x-webhook-event").as_deref(),
        Some("report.publish_status")
    );
    assert_eq!(delivery.header("x-delivery-attempt").as_deref(), Some("1"));
    let delivery_id = delivery.header("x-delivery-id").unwrap();
    assert!(delivery_id.starts_with("dlv_"));
    assert_eq!(delivery.header("webhook-id"), Some(delivery_id.clone()));
    let timestamp = delivery.header("webhook-timestamp").unwrap();
    let age = chrono::Utc::now().timestamp() - timestamp.parse::<i64>().unwrap();
    assert!((0..60).contains(&age));
    // AND both signatures verify over the exact bytes received
    assert!(verify_hmac_hex(
        secret,
        &delivery.body,
        &delivery.header("x-authorization-hmac-256").unwrap()
    ));
    assert!(verify_standard(
        secret,
        &delivery_id,
        &timestamp,
        &delivery.body,
        &delivery.header("webhook-signature").unwrap()
    ));

    // AND the log says succeeded
    let logs = service.wait_for_logs(webhook_id, 1, WAIT).await;
    assert_eq!(logs[0]["outcome"], "succeeded");
    assert_eq!(logs[0]["status_code"], 200);
    assert_eq!(logs[0]["delivery_id"], delivery_id.as_str());
    service.stop().await;
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_three_attempts_with_one_delivery_id() {
    // GIVEN a receiver that answers 500, 503, then 200
    let dir = tempfile::tempdir().unwrap();
    let service = Harness::start(&dir, Options::default()).await;
    let receiver = Receiver::start(vec![500, 503, 200]).await;
    let hook = service.create_webhook(&receiver.url("/"), json!({})).await;
    let webhook_id = hook["id"].as_str().unwrap();

    // WHEN one event is sent
    service.send_event(event("acme")).await;

    // THEN three attempts arrive, numbered 1..3, all with the same delivery id
    let deliveries = receiver.wait_for(3, WAIT).await;
    assert_eq!(deliveries.len(), 3);
    let attempts: Vec<_> = deliveries
        .iter()
        .map(|d| d.header("x-delivery-attempt").unwrap())
        .collect();
    assert_eq!(attempts, ["1", "2", "3"]);
    let ids: std::collections::HashSet<_> = deliveries
        .iter()
        .map(|d| d.header("x-delivery-id").unwrap())
        .collect();
    assert_eq!(ids.len(), 1);
    // AND the log reads retrying, retrying, succeeded
    let logs = service.wait_for_logs(webhook_id, 3, WAIT).await;
    assert_eq!(
        outcomes_oldest_first(&logs),
        ["retrying", "retrying", "succeeded"]
    );
    assert_eq!(logs[2]["status_code"], 500);
    assert!(logs[2]["next_attempt_at"].is_string());
    // AND the delivery's attempts are listed in order
    let delivery_id = logs[0]["delivery_id"].as_str().unwrap();
    let attempts = service
        .get(&format!("/webhooks/{webhook_id}/logs/{delivery_id}"))
        .await;
    let numbers: Vec<_> = attempts.body["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["attempt"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2, 3]);
    service.stop().await;
}

#[tokio::test]
async fn a_receiver_that_always_fails_exhausts_the_schedule() {
    // GIVEN a receiver that always answers 500 and a schedule of 4 attempts
    let dir = tempfile::tempdir().unwrap();
    let service = Harness::start(&dir, Options::default()).await;
    let receiver = Receiver::start(vec![500]).await;
    let hook = service.create_webhook(&receiver.url("/"), json!({})).await;
    let webhook_id = hook["id"].as_str().unwrap();
    // WHEN an event is sent
    service.send_event(event("acme")).await;
    // THEN four attempts are made and the last is exhausted; no fifth comes
    let logs = service.wait_for_logs(webhook_id, 4, WAIT).await;
    assert_eq!(
        outcomes_oldest_first(&logs),
        ["retrying", "retrying", "retrying", "exhausted"]
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.deliveries().len(), 4);
    service.stop().await;
}

#[tokio::test]
async fn gone_disables_the_webhook_and_a_disabled_webhook_receives_nothing() {
    // GIVEN a receiver answering 410 Gone
    let dir = tempfile::tempdir().unwrap();
    let service = Harness::start(&dir, Options::default()).await;
    let receiver = Receiver::start(vec![410]).await;
    let hook = service.create_webhook(&receiver.url("/"), json!({})).await;
    let webhook_id = hook["id"].as_str().unwrap();

    // WHEN a first event is delivered
    service.send_event(event("acme")).await;
    let logs = service.wait_for_logs(webhook_id, 1, WAIT).await;

    // THEN the attempt is logged as disabled and the webhook says why
    assert_eq!(logs[0]["outcome"], "disabled");
    let webhook = service.get(&format!("/webhooks/{webhook_id}")).await.body;
    assert_eq!(webhook["enabled"], false);
    assert!(webhook["disabled_reason"].as_str().unwrap().contains("410"));

    // AND a second event reaches nothing
    service.send_event(event("acme")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.deliveries().len(), 1);
    assert_eq!(service.logs(webhook_id).await.len(), 1);
    service.stop().await;
}

#[tokio::test]
async fn client_scope_routes_each_event_to_exactly_the_matching_webhooks() {
    // GIVEN webhooks for all clients, for acme only, for globex only, for another
    // event type, and one disabled
    let dir = tempfile::tempdir().unwrap();
    let service = Harness::start(&dir, Options::default()).await;
    let all = Receiver::start(vec![200]).await;
    let acme = Receiver::start(vec![200]).await;
    let globex = Receiver::start(vec![200]).await;
    let other_event = Receiver::start(vec![200]).await;
    let disabled = Receiver::start(vec![200]).await;
    service.create_webhook(&all.url("/"), json!({})).await;
    service
        .create_webhook(&acme.url("/"), json!({"clients": ["acme"]}))
        .await;
    service
        .create_webhook(&globex.url("/"), json!({"clients": ["globex", "initech"]}))
        .await;
    service
        .create_webhook(
            &other_event.url("/"),
            json!({"event": "assessment.submitted"}),
        )
        .await;
    service
        .create_webhook(&disabled.url("/"), json!({"enabled": false}))
        .await;

    // WHEN one event for acme and one for initech are sent
    service.send_event(event("acme")).await;
    service.send_event(event("initech")).await;

    // THEN all-clients gets both, acme its one, globex/initech its one, the rest none
    assert_eq!(all.wait_for(2, WAIT).await.len(), 2);
    assert_eq!(acme.wait_for(1, WAIT).await.len(), 1);
    assert_eq!(globex.wait_for(1, WAIT).await.len(), 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(acme.deliveries()[0].json()["client_id"], "acme");
    assert_eq!(globex.deliveries()[0].json()["client_id"], "initech");
    assert_eq!(all.deliveries().len(), 2);
    assert_eq!(acme.deliveries().len(), 1);
    assert!(other_event.deliveries().is_empty());
    assert!(disabled.deliveries().is_empty());
    service.stop().await;
}

#[tokio::test]
async fn redeliver_reaches_the_receiver_again_with_the_same_delivery_id_and_the_next_attempt() {
    // GIVEN a delivery that succeeded on its first attempt
    let dir = tempfile::tempdir().unwrap();
    let service = Harness::start(&dir, Options::default()).await;
    let receiver = Receiver::start(vec![200]).await;
    let hook = service.create_webhook(&receiver.url("/"), json!({})).await;
    let webhook_id = hook["id"].as_str().unwrap();
    service.send_event(event("acme")).await;
    let first = receiver.wait_for(1, WAIT).await[0].clone();
    let logs = service.wait_for_logs(webhook_id, 1, WAIT).await;
    let delivery_id = logs[0]["delivery_id"].as_str().unwrap();

    // WHEN it is redelivered
    let answer = service
        .post(
            &format!("/webhooks/{webhook_id}/logs/{delivery_id}/redeliver"),
            json!({}),
        )
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(answer.body["attempt"], 2);

    // THEN the receiver gets the same body and delivery id, as attempt 2
    let deliveries = receiver.wait_for(2, WAIT).await;
    assert_eq!(deliveries.len(), 2);
    assert_eq!(
        deliveries[1].header("x-delivery-id").as_deref(),
        Some(delivery_id)
    );
    assert_eq!(
        deliveries[1].header("x-delivery-attempt").as_deref(),
        Some("2")
    );
    assert_eq!(deliveries[1].json(), first.json());
    let logs = service.wait_for_logs(webhook_id, 2, WAIT).await;
    assert_eq!(logs[0]["attempt"], 2);
    assert_eq!(logs[0]["outcome"], "succeeded");
    service.stop().await;
}

#[tokio::test]
async fn the_same_event_processed_twice_yields_the_same_delivery_ids() {
    // GIVEN two webhooks
    let dir = tempfile::tempdir().unwrap();
    let service = Harness::start(&dir, Options::default()).await;
    let first = Receiver::start(vec![200]).await;
    let second = Receiver::start(vec![200]).await;
    service.create_webhook(&first.url("/"), json!({})).await;
    service.create_webhook(&second.url("/"), json!({})).await;

    // WHEN the producer sends the same event (same id) twice, as a queue redelivery would
    let mut sent = event("acme");
    sent["id"] = json!("evt_duplicate_1");
    service.send_event(sent.clone()).await;
    service.send_event(sent).await;

    // THEN each receiver sees two requests carrying one and the same delivery id
    for receiver in [&first, &second] {
        let deliveries = receiver.wait_for(2, WAIT).await;
        assert_eq!(deliveries.len(), 2);
        assert_eq!(
            deliveries[0].header("x-delivery-id"),
            deliveries[1].header("x-delivery-id")
        );
    }
    // AND the two webhooks' delivery ids differ
    assert_ne!(
        first.deliveries()[0].header("x-delivery-id"),
        second.deliveries()[0].header("x-delivery-id")
    );
    service.stop().await;
}

#[tokio::test]
async fn a_retry_pending_at_shutdown_is_delivered_after_a_restart() {
    // GIVEN a receiver that fails once, and a retry scheduled 1 s out
    let dir = tempfile::tempdir().unwrap();
    let options = || Options {
        schedule: webhooks_core::domain::retry::RetrySchedule::new(
            vec![Duration::from_secs(1)],
            0.0,
        ),
        ..Options::default()
    };
    let service = Harness::start(&dir, options()).await;
    let receiver = Receiver::start(vec![500, 200]).await;
    let hook = service.create_webhook(&receiver.url("/"), json!({})).await;
    let webhook_id = hook["id"].as_str().unwrap().to_owned();
    service.send_event(event("acme")).await;
    let logs = service.wait_for_logs(&webhook_id, 1, WAIT).await;
    assert_eq!(logs[0]["outcome"], "retrying");

    // WHEN the service stops before the retry is due, and starts again on the same file
    let db = service.stop().await;
    assert_eq!(receiver.deliveries().len(), 1);
    let restarted = Harness::start_on(db, options()).await;

    // THEN the retry is made, as attempt 2 of the same delivery, and succeeds
    let deliveries = receiver.wait_for(2, WAIT).await;
    assert_eq!(deliveries.len(), 2);
    assert_eq!(
        deliveries[1].header("x-delivery-attempt").as_deref(),
        Some("2")
    );
    assert_eq!(
        deliveries[0].header("x-delivery-id"),
        deliveries[1].header("x-delivery-id")
    );
    let logs = restarted.wait_for_logs(&webhook_id, 2, WAIT).await;
    assert_eq!(logs[0]["outcome"], "succeeded");
    restarted.stop().await;
}

#[tokio::test]
async fn a_delivery_to_a_blocked_address_is_never_sent_and_is_logged_and_retried() {
    // GIVEN the strict policy of the Lambda functions (loopback not allowed)
    let dir = tempfile::tempdir().unwrap();
    let strict = Options {
        policy: webhooks_core::outbound::OutboundPolicy::default(),
        ..Options::default()
    };
    let service = Harness::start(&dir, strict).await;
    let receiver = Receiver::start(vec![200]).await;
    // A name (not a literal) so the create-time URL check lets it through and the
    // delivery-time resolution has to refuse it.
    let hook = service
        .create_webhook(
            &format!("http://localhost:{}/", receiver.addr.port()),
            json!({}),
        )
        .await;
    let webhook_id = hook["id"].as_str().unwrap();

    // WHEN an event is sent
    service.send_event(event("acme")).await;

    // THEN every attempt is refused with the reason, retried like any failure, and the
    // receiver never sees a request
    let logs = service.wait_for_logs(webhook_id, 4, WAIT).await;
    assert_eq!(
        outcomes_oldest_first(&logs),
        ["retrying", "retrying", "retrying", "exhausted"]
    );
    let error = logs[0]["error"].as_str().unwrap();
    assert!(error.contains("loopback"), "{error}");
    assert!(logs[0]["status_code"].is_null());
    assert!(receiver.deliveries().is_empty());
    service.stop().await;
}

#[tokio::test]
async fn a_webhook_failing_for_five_days_is_disabled_with_a_reason() {
    // GIVEN a webhook whose deliveries have all failed since six days ago
    let dir = tempfile::tempdir().unwrap();
    let service = Harness::start(&dir, Options::default()).await;
    let receiver = Receiver::start(vec![500]).await;
    let hook = service.create_webhook(&receiver.url("/"), json!({})).await;
    let webhook_id = hook["id"].as_str().unwrap();
    let six_days_ago = webhooks_core::domain::time::Timestamp::from_unix_millis(
        chrono::Utc::now().timestamp_millis() - 6 * 86_400_000,
    );
    use webhooks_core::ports::SubscriberView;
    service
        .stores
        .webhooks
        .set_failing_since(
            &webhooks_core::domain::ids::WebhookId::from_trusted(webhook_id),
            Some(six_days_ago),
        )
        .await
        .unwrap();

    // WHEN one more delivery fails
    service.send_event(event("acme")).await;
    let logs = service.wait_for_logs(webhook_id, 1, WAIT).await;

    // THEN it is the last: the webhook is disabled, saying since when it failed
    assert_eq!(logs[0]["outcome"], "disabled");
    let webhook = service.get(&format!("/webhooks/{webhook_id}")).await.body;
    assert_eq!(webhook["enabled"], false);
    assert!(webhook["disabled_reason"]
        .as_str()
        .unwrap()
        .contains("failed since"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.deliveries().len(), 1);
    service.stop().await;
}
