//! Runs the checks of one connection test against a URL.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use serde_json::json;
use url::{Host, Url};

use super::report::{CheckName, ConnectionReport, ReportBuilder};
use crate::config::DEFAULT_DELIVERY_TIMEOUT;
use crate::domain::catalogue::{self, TEST_EVENT_TYPE};
use crate::domain::event::Event;
use crate::domain::ids::{DeliveryId, EventId, WebhookId};
use crate::domain::signing::{SigningSecrets, HMAC_HEADER};
use crate::domain::task::DeliveryTask;
use crate::domain::time::Timestamp;
use crate::outbound::sender::{describe_duration, resolve};
use crate::outbound::{GuardedSender, OutboundRequest, Refusal, SendError};
use crate::usecases::delivery::delivery_request;

/// The thresholds of `responds_in_time`.
#[derive(Clone, Debug)]
pub struct ProbeSettings {
    /// Slower than this is a warning (1 s).
    pub warn_after: Duration,
    /// No answer by this is a failure (the delivery timeout, 5 s by default).
    pub limit: Duration,
}

impl Default for ProbeSettings {
    fn default() -> Self {
        Self {
            warn_after: Duration::from_secs(1),
            limit: DEFAULT_DELIVERY_TIMEOUT,
        }
    }
}

/// What to test.
pub struct ProbeTarget<'a> {
    pub url: &'a str,
    pub secrets: Option<SigningSecrets>,
    pub event_type: Option<&'a str>,
    pub webhook_id: Option<&'a WebhookId>,
}

pub async fn probe(
    sender: &GuardedSender,
    settings: &ProbeSettings,
    target: ProbeTarget<'_>,
    now: Timestamp,
) -> ConnectionReport {
    let mut report = ReportBuilder::new(target.url);
    let policy = sender.policy();

    // url_valid: the URL's form. A literal private address is the next checks' business.
    let url = match policy.check_url(target.url) {
        Ok(url) => url,
        Err(Refusal::Address { .. }) => match Url::parse(target.url) {
            Ok(url) => url,
            Err(error) => return invalid(report, &error.to_string()),
        },
        Err(refusal) => return invalid(report, &refusal.to_string()),
    };
    report.pass(
        CheckName::UrlValid,
        format!("{} URL to {}", url.scheme(), url.host_str().unwrap_or("")),
    );

    // dns_resolves: one lookup, whose addresses are the only ones used.
    let addrs: Vec<IpAddr> = match url.host() {
        Some(Host::Ipv4(v4)) => {
            report.pass(CheckName::DnsResolves, format!("{v4} (a literal address)"));
            vec![IpAddr::V4(v4)]
        }
        Some(Host::Ipv6(v6)) => {
            report.pass(CheckName::DnsResolves, format!("{v6} (a literal address)"));
            vec![IpAddr::V6(v6)]
        }
        Some(Host::Domain(domain)) => {
            match tokio::time::timeout(settings.limit, resolve(domain)).await {
                Ok(Ok(addrs)) => {
                    let list: Vec<String> = addrs.iter().map(IpAddr::to_string).collect();
                    report.pass(CheckName::DnsResolves, list.join(", "));
                    addrs
                }
                Ok(Err(error)) => {
                    return stop(
                        report,
                        CheckName::DnsResolves,
                        &format!("DNS lookup failed: {error}"),
                        "the host did not resolve",
                    )
                }
                Err(_) => {
                    return stop(
                        report,
                        CheckName::DnsResolves,
                        &format!("DNS lookup took over {}", describe_duration(settings.limit)),
                        "the host did not resolve",
                    )
                }
            }
        }
        None => return invalid(report, "the URL has no host"),
    };

    // address_allowed: every address must be public or allow-listed; nothing is
    // contacted otherwise.
    if let Some(refusal) = addrs.iter().find_map(|addr| policy.check_addr(*addr).err()) {
        return stop(
            report,
            CheckName::AddressAllowed,
            &format!("{refusal}; no connection was attempted"),
            "the address is not allowed",
        );
    }
    report.pass(
        CheckName::AddressAllowed,
        if addrs
            .iter()
            .all(|a| policy.allow_nets.iter().any(|n| n.contains(a)))
        {
            "allowed by WEBHOOKS_ALLOW_NETS".to_owned()
        } else {
            "public address".to_owned()
        },
    );

    let port = url.port_or_known_default().unwrap_or(443);
    let socket_addrs: Vec<SocketAddr> = addrs.iter().map(|ip| SocketAddr::new(*ip, port)).collect();
    let request = test_request(&url, &target, now, settings.limit);
    let signed = target.secrets.is_some();
    let started = Instant::now();
    let result = sender.post_pinned(request, &socket_addrs).await;
    let elapsed = started.elapsed();
    report.elapsed_ms = Some(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX));

    let response = match result {
        Ok(response) => response,
        Err(SendError::Timeout(limit)) => {
            report.pass(CheckName::Connects, "connected; the request was sent");
            report.fail(
                CheckName::RespondsInTime,
                format!("no answer within {}, the limit", describe_duration(limit)),
            );
            signature_check(&mut report, signed);
            report.skip_rest("no answer arrived");
            return report.finish();
        }
        Err(error) => {
            return stop(
                report,
                CheckName::Connects,
                &error.to_string(),
                "no connection",
            );
        }
    };
    report.status_code = Some(response.status);
    report.pass(
        CheckName::Connects,
        match (response.tls, response.remote_addr) {
            (true, Some(addr)) => format!("TLS ok ({addr})"),
            (true, None) => "TLS ok".to_owned(),
            (false, Some(addr)) => format!("connected to {addr} (plain HTTP, no TLS)"),
            (false, None) => "connected (plain HTTP, no TLS)".to_owned(),
        },
    );
    if (300..400).contains(&response.status) {
        let target = response.location.as_deref().unwrap_or("(no Location)");
        report.fail(
            CheckName::NoRedirect,
            format!(
                "{} redirect to {target}; redirects are never followed",
                response.status
            ),
        );
    } else {
        report.pass(CheckName::NoRedirect, "no redirect");
    }
    let reason = http::StatusCode::from_u16(response.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    if response.status == 200 {
        report.pass(CheckName::Status200, "200 OK");
    } else {
        report.fail(
            CheckName::Status200,
            format!("{} {reason}; expected 200 OK", response.status).replace("  ", " "),
        );
    }
    let seconds = format!("{:.2} s", elapsed.as_secs_f64());
    let limits = format!(
        "under {} is optimal, {} is the limit",
        describe_duration(settings.warn_after),
        describe_duration(settings.limit)
    );
    if elapsed <= settings.warn_after {
        report.pass(CheckName::RespondsInTime, format!("{seconds}; {limits}"));
    } else {
        report.add(
            CheckName::RespondsInTime,
            super::report::CheckStatus::Warn,
            format!("{seconds}; {limits}"),
        );
    }
    signature_check(&mut report, signed);
    report.finish()
}

fn signature_check(report: &mut ReportBuilder, signed: bool) {
    if signed {
        report.pass(
            CheckName::Signature,
            format!("{HMAC_HEADER} sent, and webhook-signature (Standard Webhooks)"),
        );
    } else {
        report.add(
            CheckName::Signature,
            super::report::CheckStatus::Warn,
            "no secret configured: the receiver cannot verify requests",
        );
    }
}

fn invalid(mut report: ReportBuilder, why: &str) -> ConnectionReport {
    report.fail(CheckName::UrlValid, why);
    report.skip_rest("the URL is not valid");
    report.finish()
}

fn stop(
    mut report: ReportBuilder,
    check: CheckName,
    detail: &str,
    reason: &str,
) -> ConnectionReport {
    report.fail(check, detail);
    report.skip_rest(reason);
    report.finish()
}

/// A signed POST of a `webhook.test` event whose data samples the event type.
fn test_request(
    url: &Url,
    target: &ProbeTarget<'_>,
    now: Timestamp,
    timeout: Duration,
) -> OutboundRequest {
    let sample = target
        .event_type
        .and_then(catalogue::find)
        .map(|event_type| (event_type.sample)())
        .unwrap_or_else(|| json!({}));
    let task = DeliveryTask {
        delivery_id: DeliveryId::from_trusted(format!("dlv_test_{}", ulid::Ulid::new())),
        webhook_id: target
            .webhook_id
            .cloned()
            .unwrap_or_else(|| WebhookId::from_trusted("wh_unsaved")),
        event: Event {
            id: EventId::generate(),
            event_type: TEST_EVENT_TYPE.to_owned(),
            client_id: "test".to_owned(),
            occurred_at: now,
            data: sample,
        },
        attempt: 1,
        series_start: 1,
        not_before: None,
    };
    delivery_request(url.clone(), &task, target.secrets.as_ref(), now, timeout)
}
