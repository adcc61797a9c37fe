//! Connection tests against loopback receivers: each check passes, warns or fails
//! exactly when it should, and blocked addresses are never contacted.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed step panics

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use webhooks_core::domain::signing::{verify_hmac_hex, verify_standard, SigningSecrets};
use webhooks_core::domain::time::{Clock, SystemClock};
use webhooks_core::outbound::{GuardedSender, OutboundPolicy};
use webhooks_core::usecases::connection::{
    probe, CheckName, CheckStatus, ConnectionReport, ProbeSettings, ProbeTarget,
};

#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(HeaderMap, Bytes)>>>);

impl Received {
    fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// A loopback receiver that answers `status` after `delay`, with `location` if given.
async fn receiver(
    status: u16,
    delay: Duration,
    location: Option<String>,
) -> (SocketAddr, Received) {
    let received = Received::default();
    let log = received.clone();
    let app = Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
        let log = log.clone();
        let location = location.clone();
        async move {
            log.0.lock().unwrap().push((headers, body));
            tokio::time::sleep(delay).await;
            let mut response = StatusCode::from_u16(status).unwrap().into_response();
            if let Some(location) = location {
                response
                    .headers_mut()
                    .insert("location", location.parse().unwrap());
            }
            response
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (addr, received)
}

fn fast() -> ProbeSettings {
    ProbeSettings {
        warn_after: Duration::from_millis(300),
        limit: Duration::from_millis(1500),
    }
}

async fn run(
    url: &str,
    policy: OutboundPolicy,
    settings: ProbeSettings,
    secret: Option<&str>,
) -> ConnectionReport {
    let sender = GuardedSender::new(policy).unwrap();
    let target = ProbeTarget {
        url,
        secrets: secret.map(|s| SigningSecrets {
            current: s.to_owned(),
            previous: None,
        }),
        headers: Default::default(),
        event_type: Some("report.publish_status"),
        webhook_id: None,
    };
    probe(&sender, &settings, target, SystemClock.now()).await
}

fn status_of(report: &ConnectionReport, check: CheckName) -> CheckStatus {
    report
        .checks
        .iter()
        .find(|c| c.check == check)
        .unwrap()
        .status
}

fn detail_of(report: &ConnectionReport, check: CheckName) -> String {
    report
        .checks
        .iter()
        .find(|c| c.check == check)
        .unwrap()
        .detail
        .clone()
}

#[tokio::test]
async fn a_fast_200_passes_every_check_but_the_missing_secret_warns() {
    // GIVEN a receiver answering 200 at once
    let (addr, received) = receiver(200, Duration::ZERO, None).await;
    // WHEN it is tested without a secret
    let report = run(
        &format!("http://{addr}/hook"),
        OutboundPolicy::local_default(),
        fast(),
        None,
    )
    .await;
    // THEN it is ok, every check is reported in order, and it got one request
    assert!(report.ok, "{report:?}");
    let names: Vec<_> = report.checks.iter().map(|c| c.check).collect();
    assert_eq!(names, CheckName::ALL);
    assert_eq!(report.status_code, Some(200));
    assert_eq!(
        status_of(&report, CheckName::RespondsInTime),
        CheckStatus::Pass
    );
    assert_eq!(status_of(&report, CheckName::Signature), CheckStatus::Warn);
    assert_eq!(received.count(), 1);
}

#[tokio::test]
async fn a_201_fails_status_200_naming_the_code() {
    let (addr, _) = receiver(201, Duration::ZERO, None).await;
    let report = run(
        &format!("http://{addr}/"),
        OutboundPolicy::local_default(),
        fast(),
        None,
    )
    .await;
    assert!(!report.ok);
    assert_eq!(status_of(&report, CheckName::Status200), CheckStatus::Fail);
    assert!(detail_of(&report, CheckName::Status200).contains("201"));
}

#[tokio::test]
async fn a_500_fails() {
    let (addr, _) = receiver(500, Duration::ZERO, None).await;
    let report = run(
        &format!("http://{addr}/"),
        OutboundPolicy::local_default(),
        fast(),
        None,
    )
    .await;
    assert!(!report.ok);
    assert!(detail_of(&report, CheckName::Status200).contains("500"));
}

#[tokio::test]
async fn a_redirect_fails_and_its_target_receives_nothing() {
    // GIVEN a receiver that redirects to a second receiver
    let (target_addr, target_received) = receiver(200, Duration::ZERO, None).await;
    let (addr, _) = receiver(
        302,
        Duration::ZERO,
        Some(format!("http://{target_addr}/elsewhere")),
    )
    .await;
    // WHEN the first is tested
    let report = run(
        &format!("http://{addr}/"),
        OutboundPolicy::local_default(),
        fast(),
        None,
    )
    .await;
    // THEN no_redirect fails, naming the target, which was never contacted
    assert!(!report.ok);
    assert_eq!(status_of(&report, CheckName::NoRedirect), CheckStatus::Fail);
    assert!(detail_of(&report, CheckName::NoRedirect).contains(&target_addr.to_string()));
    assert_eq!(target_received.count(), 0);
}

#[tokio::test]
async fn a_slow_endpoint_warns() {
    let (addr, _) = receiver(200, Duration::from_millis(500), None).await;
    let report = run(
        &format!("http://{addr}/"),
        OutboundPolicy::local_default(),
        fast(),
        None,
    )
    .await;
    assert!(report.ok, "{report:?}");
    assert_eq!(
        status_of(&report, CheckName::RespondsInTime),
        CheckStatus::Warn
    );
}

#[tokio::test]
async fn an_endpoint_slower_than_the_limit_fails_at_the_limit() {
    let (addr, _) = receiver(200, Duration::from_secs(3), None).await;
    let settings = ProbeSettings {
        warn_after: Duration::from_millis(50),
        limit: Duration::from_millis(250),
    };
    let started = std::time::Instant::now();
    let report = run(
        &format!("http://{addr}/"),
        OutboundPolicy::local_default(),
        settings,
        None,
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the probe must give up at the limit"
    );
    assert!(!report.ok);
    assert_eq!(
        status_of(&report, CheckName::RespondsInTime),
        CheckStatus::Fail
    );
    assert!(detail_of(&report, CheckName::RespondsInTime).contains("250 ms"));
}

#[tokio::test]
async fn an_unresolvable_host_fails_dns_and_skips_the_rest() {
    let report = run(
        "https://no-such-host.invalid/hook",
        OutboundPolicy::default(),
        fast(),
        None,
    )
    .await;
    assert!(!report.ok);
    assert_eq!(status_of(&report, CheckName::UrlValid), CheckStatus::Pass);
    assert_eq!(
        status_of(&report, CheckName::DnsResolves),
        CheckStatus::Fail
    );
    assert_eq!(
        status_of(&report, CheckName::Connects),
        CheckStatus::Skipped
    );
}

#[tokio::test]
async fn an_invalid_url_fails_url_valid() {
    let report = run(
        "ftp://example.com/",
        OutboundPolicy::default(),
        fast(),
        None,
    )
    .await;
    assert_eq!(status_of(&report, CheckName::UrlValid), CheckStatus::Fail);
    assert_eq!(
        status_of(&report, CheckName::DnsResolves),
        CheckStatus::Skipped
    );
}

#[tokio::test]
async fn blocked_addresses_fail_address_allowed_and_are_never_contacted() {
    // GIVEN a live receiver on loopback, and the strict policy of the Lambda functions
    let (addr, received) = receiver(200, Duration::ZERO, None).await;
    let port = addr.port();
    let spellings = [
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/"),
        format!("http://2130706433:{port}/"),
        format!("http://0x7f.1:{port}/"),
        format!("http://017700000001:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://10.0.0.1/".to_owned(),
        "http://[fd00::1]/".to_owned(),
        "http://100.64.0.1/".to_owned(),
    ];
    for url in &spellings {
        // WHEN each spelling is tested
        let report = run(url, OutboundPolicy::default(), fast(), None).await;
        // THEN address_allowed fails and everything after it is skipped
        assert_eq!(
            status_of(&report, CheckName::AddressAllowed),
            CheckStatus::Fail,
            "{url}: {report:?}"
        );
        assert_eq!(
            status_of(&report, CheckName::Connects),
            CheckStatus::Skipped,
            "{url}"
        );
        assert!(!report.ok);
    }
    // AND the receiver never saw a request
    assert_eq!(received.count(), 0);
}

#[tokio::test]
async fn with_a_secret_the_signatures_arrive_and_verify() {
    let (addr, received) = receiver(200, Duration::ZERO, None).await;
    let secret = "a-test-secret-of-some-length";
    let report = run(
        &format!("http://{addr}/"),
        OutboundPolicy::local_default(),
        fast(),
        Some(secret),
    )
    .await;
    assert_eq!(status_of(&report, CheckName::Signature), CheckStatus::Pass);
    let (headers, body) = received.0.lock().unwrap()[0].clone();
    let header = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_owned();
    assert!(verify_hmac_hex(
        secret,
        &body,
        &header("x-authorization-hmac-256")
    ));
    assert!(verify_standard(
        secret,
        &header("webhook-id"),
        &header("webhook-timestamp"),
        &body,
        &header("webhook-signature")
    ));
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["type"], "webhook.test");
    assert_eq!(json["data"]["report_id"], "r-42");
    assert_eq!(header("x-webhook-event"), "webhook.test");
}

#[tokio::test]
async fn given_a_closed_port_when_tested_then_connects_fails_and_the_rest_is_skipped() {
    // GIVEN an allowed loopback port that nothing listens on
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    // WHEN it is tested
    let report = run(
        &format!("http://127.0.0.1:{port}/"),
        OutboundPolicy::local_default(),
        fast(),
        None,
    )
    .await;
    // THEN connects fails with the cause, no status arrived, and every later check is
    // skipped for want of a connection
    assert!(!report.ok);
    assert_eq!(
        status_of(&report, CheckName::AddressAllowed),
        CheckStatus::Pass
    );
    assert_eq!(status_of(&report, CheckName::Connects), CheckStatus::Fail);
    assert!(detail_of(&report, CheckName::Connects).starts_with("connection failed: "));
    assert_eq!(report.status_code, None);
    for check in [
        CheckName::NoRedirect,
        CheckName::Status200,
        CheckName::RespondsInTime,
        CheckName::Signature,
    ] {
        assert_eq!(status_of(&report, check), CheckStatus::Skipped, "{check:?}");
        assert_eq!(detail_of(&report, check), "not run: no connection");
    }
}

#[tokio::test]
async fn given_no_answer_by_the_limit_when_tested_then_signature_is_still_reported() {
    // GIVEN a receiver slower than the limit
    let (addr, received) = receiver(200, Duration::from_secs(3), None).await;
    let settings = ProbeSettings {
        warn_after: Duration::from_millis(50),
        limit: Duration::from_millis(250),
    };
    // WHEN it is tested with a secret
    let report = run(
        &format!("http://{addr}/"),
        OutboundPolicy::local_default(),
        settings,
        Some("a-test-secret-of-some-length"),
    )
    .await;
    // THEN the request was sent, so connects passes and signature is still reported,
    // while the checks of the missing response are skipped
    assert_eq!(received.count(), 1);
    assert_eq!(
        detail_of(&report, CheckName::Connects),
        "connected; the request was sent"
    );
    assert_eq!(status_of(&report, CheckName::Connects), CheckStatus::Pass);
    assert_eq!(
        detail_of(&report, CheckName::RespondsInTime),
        "no answer within 250 ms, the limit"
    );
    assert_eq!(status_of(&report, CheckName::Signature), CheckStatus::Pass);
    assert_eq!(report.status_code, None);
    for check in [CheckName::NoRedirect, CheckName::Status200] {
        assert_eq!(status_of(&report, check), CheckStatus::Skipped, "{check:?}");
        assert_eq!(detail_of(&report, check), "not run: no answer arrived");
    }
    let names: Vec<_> = report.checks.iter().map(|c| c.check).collect();
    assert_eq!(names, CheckName::ALL);
}

#[tokio::test]
async fn given_a_redirect_without_location_when_tested_then_no_redirect_fails_saying_so() {
    // GIVEN a receiver answering 301 with no Location header
    let (addr, _) = receiver(301, Duration::ZERO, None).await;
    // WHEN it is tested
    let report = run(
        &format!("http://{addr}/"),
        OutboundPolicy::local_default(),
        fast(),
        None,
    )
    .await;
    // THEN no_redirect fails and says there was no Location
    assert_eq!(status_of(&report, CheckName::NoRedirect), CheckStatus::Fail);
    assert_eq!(
        detail_of(&report, CheckName::NoRedirect),
        "301 redirect to (no Location); redirects are never followed"
    );
}

#[tokio::test]
async fn given_a_404_when_tested_then_status_200_names_the_code_and_its_reason() {
    // GIVEN a receiver answering 404
    let (addr, _) = receiver(404, Duration::ZERO, None).await;
    // WHEN it is tested
    let report = run(
        &format!("http://{addr}/"),
        OutboundPolicy::local_default(),
        fast(),
        None,
    )
    .await;
    // THEN status_200 fails with the code, its reason and what was expected, while
    // no_redirect passes
    assert_eq!(report.status_code, Some(404));
    assert_eq!(
        detail_of(&report, CheckName::Status200),
        "404 Not Found; expected 200 OK"
    );
    assert_eq!(status_of(&report, CheckName::NoRedirect), CheckStatus::Pass);
}
