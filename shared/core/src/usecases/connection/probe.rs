//! Runs the checks of one connection test against a URL.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use serde_json::json;
use url::{Host, Url};

use super::report::{CheckName, CheckStatus, ConnectionReport, ReportBuilder};
use crate::config::DEFAULT_DELIVERY_TIMEOUT;
use crate::domain::catalogue::{self, TEST_EVENT_TYPE};
use crate::domain::custom_headers::CustomHeaders;
use crate::domain::event::Event;
use crate::domain::ids::{DeliveryId, EventId, WebhookId};
use crate::domain::signing::{SigningSecrets, HMAC_HEADER};
use crate::domain::task::DeliveryTask;
use crate::domain::time::Timestamp;
use crate::outbound::sender::{describe_duration, resolve};
use crate::outbound::{
    GuardedSender, OutboundPolicy, OutboundRequest, OutboundResponse, Refusal, SendError,
};
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
    /// The saved webhook's custom headers (none for an unsaved URL).
    pub headers: CustomHeaders,
    pub event_type: Option<&'a str>,
    pub webhook_id: Option<&'a WebhookId>,
}

/// Runs the checks in order. A check that fails early (each `?`) has already marked
/// every check after it skipped; the report is finished either way.
pub async fn probe(
    sender: &GuardedSender,
    settings: &ProbeSettings,
    target: ProbeTarget<'_>,
    now: Timestamp,
) -> ConnectionReport {
    let policy = sender.policy();
    let signed = target.secrets.is_some();
    let mut report = ReportBuilder::new(target.url);
    let _: Result<(), Stopped> = async {
        let url = url_valid(&mut report, policy, target.url)?;
        // The lookup and the request share one limit: the whole test answers within
        // it (the test-connection function must answer inside API Gateway's 30 s).
        let started = Instant::now();
        let addrs = dns_resolves(&mut report, &url, settings.limit).await?;
        address_allowed(&mut report, policy, &addrs)?;
        let left = settings
            .limit
            .saturating_sub(started.elapsed())
            .max(MIN_REQUEST_TIME);
        let request = test_request(&url, &target, now, left);
        let answer = connects(&mut report, sender, &url, &addrs, request)
            .await?
            .reported_at(settings.limit);
        let (response, elapsed) = responds_before_the_limit(&mut report, answer, signed)?;
        no_redirect(&mut report, &response);
        status_200(&mut report, response.status);
        responds_in_time(&mut report, settings, elapsed);
        signature(&mut report, signed);
        Ok(())
    }
    .await;
    report.finish()
}

/// What the request is allowed at least, however long the DNS lookup took.
const MIN_REQUEST_TIME: Duration = Duration::from_millis(100);

impl Answer {
    /// No answer is reported against the test's whole limit (the request had what the
    /// DNS lookup left of it).
    fn reported_at(self, limit: Duration) -> Self {
        match self {
            Answer::NoneWithin(_) => Answer::NoneWithin(limit),
            answered => answered,
        }
    }
}

/// A check failed and stopped the test: the checks after it are marked skipped.
struct Stopped;

/// What the test request got once it was sent: a response after `elapsed`, or none
/// by the request's time limit.
enum Answer {
    Response {
        response: OutboundResponse,
        elapsed: Duration,
    },
    NoneWithin(Duration),
}

/// url_valid: the URL's form. A literal private address is the next checks' business.
fn url_valid(
    report: &mut ReportBuilder,
    policy: &OutboundPolicy,
    raw: &str,
) -> Result<Url, Stopped> {
    let url = match policy.check_url(raw) {
        Ok(url) => url,
        Err(Refusal::Address { .. }) => match Url::parse(raw) {
            Ok(url) => url,
            Err(error) => return Err(invalid(report, &error.to_string())),
        },
        Err(refusal) => return Err(invalid(report, &refusal.to_string())),
    };
    report.pass(
        CheckName::UrlValid,
        format!("{} URL to {}", url.scheme(), url.host_str().unwrap_or("")),
    );
    Ok(url)
}

/// dns_resolves: one lookup, whose addresses are the only ones used; a literal address
/// is its own answer.
async fn dns_resolves(
    report: &mut ReportBuilder,
    url: &Url,
    limit: Duration,
) -> Result<Vec<IpAddr>, Stopped> {
    let literal = match url.host() {
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
        Some(Host::Domain(domain)) => return dns_lookup(report, domain, limit).await,
        None => return Err(invalid(report, "the URL has no host")),
    };
    report.pass(
        CheckName::DnsResolves,
        format!("{literal} (a literal address)"),
    );
    Ok(vec![literal])
}

/// dns_resolves for a domain: the lookup must answer within `limit`.
async fn dns_lookup(
    report: &mut ReportBuilder,
    domain: &str,
    limit: Duration,
) -> Result<Vec<IpAddr>, Stopped> {
    let detail = match tokio::time::timeout(limit, resolve(domain)).await {
        Ok(Ok(addrs)) => {
            let list: Vec<String> = addrs.iter().map(IpAddr::to_string).collect();
            report.pass(CheckName::DnsResolves, list.join(", "));
            return Ok(addrs);
        }
        Ok(Err(error)) => format!("DNS lookup failed: {error}"),
        Err(_) => format!("DNS lookup took over {}", describe_duration(limit)),
    };
    Err(stop(
        report,
        CheckName::DnsResolves,
        &detail,
        "the host did not resolve",
    ))
}

/// address_allowed: every address must be public or allow-listed; nothing is
/// contacted otherwise.
fn address_allowed(
    report: &mut ReportBuilder,
    policy: &OutboundPolicy,
    addrs: &[IpAddr],
) -> Result<(), Stopped> {
    if let Some(refusal) = addrs.iter().find_map(|addr| policy.check_addr(*addr).err()) {
        return Err(stop(
            report,
            CheckName::AddressAllowed,
            &format!("{refusal}; no connection was attempted"),
            "the address is not allowed",
        ));
    }
    let allow_listed = addrs
        .iter()
        .all(|a| policy.allow_nets.iter().any(|n| n.contains(a)));
    report.pass(
        CheckName::AddressAllowed,
        if allow_listed {
            "allowed by WEBHOOKS_ALLOW_NETS"
        } else {
            "public address"
        },
    );
    Ok(())
}

/// connects: the test request goes to the checked addresses only. Once sent, a
/// request that times out has connected; its time is `responds_in_time`'s business.
async fn connects(
    report: &mut ReportBuilder,
    sender: &GuardedSender,
    url: &Url,
    addrs: &[IpAddr],
    request: OutboundRequest,
) -> Result<Answer, Stopped> {
    let port = url.port_or_known_default().unwrap_or(443);
    let socket_addrs: Vec<SocketAddr> = addrs.iter().map(|ip| SocketAddr::new(*ip, port)).collect();
    let started = Instant::now();
    let result = sender.post_pinned(request, &socket_addrs).await;
    let elapsed = started.elapsed();
    report.elapsed_ms = Some(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX));
    match result {
        Ok(response) => {
            report.status_code = Some(response.status);
            report.pass(CheckName::Connects, connection_detail(&response));
            Ok(Answer::Response { response, elapsed })
        }
        Err(SendError::Timeout(limit)) => {
            report.pass(CheckName::Connects, "connected; the request was sent");
            Ok(Answer::NoneWithin(limit))
        }
        Err(error) => Err(stop(
            report,
            CheckName::Connects,
            &error.to_string(),
            "no connection",
        )),
    }
}

/// How `connects` passed: over TLS or not, and to which address.
fn connection_detail(response: &OutboundResponse) -> String {
    match (response.tls, response.remote_addr) {
        (true, Some(addr)) => format!("TLS ok ({addr})"),
        (true, None) => "TLS ok".to_owned(),
        (false, Some(addr)) => format!("connected to {addr} (plain HTTP, no TLS)"),
        (false, None) => "connected (plain HTTP, no TLS)".to_owned(),
    }
}

/// responds_in_time, when no answer came by the limit: it fails, the signature is
/// still reported (the request was sent), and the checks of the response are skipped.
fn responds_before_the_limit(
    report: &mut ReportBuilder,
    answer: Answer,
    signed: bool,
) -> Result<(OutboundResponse, Duration), Stopped> {
    match answer {
        Answer::Response { response, elapsed } => Ok((response, elapsed)),
        Answer::NoneWithin(limit) => {
            report.fail(
                CheckName::RespondsInTime,
                format!("no answer within {}, the limit", describe_duration(limit)),
            );
            signature(report, signed);
            report.skip_rest("no answer arrived");
            Err(Stopped)
        }
    }
}

/// no_redirect: a 3xx fails, naming where it points; redirects are never followed.
fn no_redirect(report: &mut ReportBuilder, response: &OutboundResponse) {
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
}

/// status_200: anything but 200 fails, naming the code and its reason.
fn status_200(report: &mut ReportBuilder, status: u16) {
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    if status == 200 {
        report.pass(CheckName::Status200, "200 OK");
    } else {
        report.fail(
            CheckName::Status200,
            format!("{status} {reason}; expected 200 OK").replace("  ", " "),
        );
    }
}

/// responds_in_time, for an answer: slower than `warn_after` warns.
fn responds_in_time(report: &mut ReportBuilder, settings: &ProbeSettings, elapsed: Duration) {
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
            CheckStatus::Warn,
            format!("{seconds}; {limits}"),
        );
    }
}

/// signature: without a secret the request goes unsigned, which warns.
fn signature(report: &mut ReportBuilder, signed: bool) {
    if signed {
        report.pass(
            CheckName::Signature,
            format!("{HMAC_HEADER} sent, and webhook-signature (Standard Webhooks)"),
        );
    } else {
        report.add(
            CheckName::Signature,
            CheckStatus::Warn,
            "no secret configured: the receiver cannot verify requests",
        );
    }
}

/// url_valid fails, and nothing else can run.
fn invalid(report: &mut ReportBuilder, why: &str) -> Stopped {
    report.fail(CheckName::UrlValid, why);
    report.skip_rest("the URL is not valid");
    Stopped
}

/// `check` fails, and the checks after it are skipped because of `reason`.
fn stop(report: &mut ReportBuilder, check: CheckName, detail: &str, reason: &str) -> Stopped {
    report.fail(check, detail);
    report.skip_rest(reason);
    Stopped
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
    delivery_request(
        url.clone(),
        &task,
        target.secrets.as_ref(),
        &target.headers,
        now,
        timeout,
    )
}
