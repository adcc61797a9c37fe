//! `bench limit`: the limit reference's sender, this process's only job. It opens its
//! keep-alive connections (hyper, HTTP/1.1, TCP_NODELAY, as the service's client), parses
//! the shape's events, prints [`READY`], and waits for a line on stdin. Then it sends the
//! shape's deliveries, building and signing each request as the service does
//! (`delivery_request` with the webhook's secret), one request at a time per connection,
//! each connection taking the next delivery as soon as its answer is read; prints
//! `DONE <nanoseconds from the first request to the last answer>`, and exits when stdin
//! closes. The tokio runtime is multi-threaded, one worker per core, as the service's.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use url::Url;
use webhooks_core::config::DEFAULT_DELIVERY_TIMEOUT;
use webhooks_core::domain::custom_headers::CustomHeaders;
use webhooks_core::domain::event::Event;
use webhooks_core::domain::ids::{EventId, WebhookId};
use webhooks_core::domain::signing::SigningSecrets;
use webhooks_core::domain::task::DeliveryTask;
use webhooks_core::domain::time::{Clock, SystemClock};
use webhooks_core::outbound::sender::USER_AGENT;
use webhooks_core::outbound::OutboundRequest;
use webhooks_core::usecases::delivery::delivery_request;

use crate::fixtures::{event_body, SECRET};
use crate::http::Conn;
use crate::system::Shape;
use crate::Result;

/// Printed once the connections are open.
pub const READY: &str = "READY";
/// Printed, with the nanoseconds the sending took, once every answer is read.
pub const DONE: &str = "DONE";

/// The service's delivery timeout (`DELIVERY_TIMEOUT_MS` unset); the request carries
/// it, this sender sets no timer per request.
const TIMEOUT: Duration = DEFAULT_DELIVERY_TIMEOUT;

/// The deliveries of a shape, in the service's order: event by event, each to every
/// webhook.
struct Plan {
    events: Vec<Event>,
    /// `(id, url)` per webhook: `http://{receiver}/hook/{i}`, as the bench registers them.
    webhooks: Vec<(WebhookId, Url)>,
    secrets: SigningSecrets,
    custom: CustomHeaders,
}

impl Plan {
    fn new(receiver: SocketAddr, shape: Shape) -> Result<Plan> {
        let now = SystemClock.now();
        let events = (0..shape.events)
            .map(|n| Event::parse(&event_body(n), EventId::generate, now))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|rejection| format!("a fixture event is invalid: {rejection}"))?;
        let webhooks = (0..shape.webhooks)
            .map(|i| {
                let url = Url::parse(&format!("http://{receiver}/hook/{i}"))?;
                Ok::<_, url::ParseError>((WebhookId::generate(), url))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Plan {
            events,
            webhooks,
            secrets: SigningSecrets {
                current: SECRET.to_owned(),
                previous: None,
            },
            custom: CustomHeaders::default(),
        })
    }

    fn deliveries(&self) -> usize {
        self.events.len() * self.webhooks.len()
    }

    /// The signed request of delivery `n`, or `None` past the last.
    fn request(&self, n: usize) -> Option<OutboundRequest> {
        let fan_out = self.webhooks.len().max(1);
        let event = self.events.get(n / fan_out)?;
        let (webhook, url) = self.webhooks.get(n % fan_out)?;
        let task = DeliveryTask::first(event.clone(), webhook.clone());
        Some(delivery_request(
            url.clone(),
            &task,
            Some(&self.secrets),
            &self.custom,
            SystemClock.now(),
            TIMEOUT,
        ))
    }
}

/// Runs `bench limit` (see the module's doc).
pub fn run_process(receiver: SocketAddr, shape: Shape, connections: usize) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let plan = Arc::new(Plan::new(receiver, shape)?);
        let mut conns = Vec::with_capacity(connections);
        for _ in 0..connections.max(1) {
            conns.push(Conn::open(receiver).await?);
        }
        say(READY)?;
        let mut stdin = BufReader::new(tokio::io::stdin());
        let mut line = String::new();
        if stdin.read_line(&mut line).await? == 0 {
            return Err("stdin closed before the line that starts the sending".into());
        }
        let started = Instant::now();
        send_all(plan, conns).await?;
        say(&format!("{DONE} {}", started.elapsed().as_nanos()))?;
        // Held until the driver has read this process's CPU time.
        let _ = tokio::io::copy(&mut stdin, &mut tokio::io::sink()).await;
        Ok(())
    })
}

fn say(line: &str) -> Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")?;
    stdout.flush()?;
    Ok(())
}

/// Every delivery of `plan`, each connection one request at a time.
async fn send_all(plan: Arc<Plan>, conns: Vec<Conn>) -> Result<()> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut senders = tokio::task::JoinSet::new();
    for mut conn in conns {
        let (plan, next) = (plan.clone(), next.clone());
        senders.spawn(async move {
            // Bounded: every turn takes a new delivery number.
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some(request) = plan.request(n) else {
                    return Ok::<_, crate::BoxError>(());
                };
                send(&mut conn, request).await?;
            }
        });
    }
    while let Some(joined) = senders.join_next().await {
        joined??;
    }
    let sent = next.load(Ordering::Relaxed).min(plan.deliveries());
    if sent < plan.deliveries() {
        return Err(format!("sent {sent} of {} deliveries", plan.deliveries()).into());
    }
    Ok(())
}

/// One delivery, with the headers the service's client adds (its user agent and
/// `accept`); the connection adds `host` and hyper `content-length`.
async fn send(conn: &mut Conn, request: OutboundRequest) -> Result<()> {
    let mut headers: Vec<(&str, &str)> = Vec::with_capacity(request.headers.len() + 2);
    headers.extend(
        request
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    );
    headers.push(("user-agent", USER_AGENT));
    headers.push(("accept", "*/*"));
    let (status, _) = conn
        .send("POST", request.url.path(), &headers, request.body)
        .await?;
    if status != 200 {
        return Err(format!("the receiver answered {status}").into());
    }
    Ok(())
}

/// The nanoseconds of a `DONE` line.
pub fn parse_done(line: &str) -> Option<Duration> {
    let nanos: u64 = line.strip_prefix(DONE)?.trim().parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_done_line_gives_the_sending_time() {
        // GIVEN the sender's last line
        // WHEN the driver reads it
        // THEN it gets the nanoseconds, and nothing from another line
        assert_eq!(
            parse_done("DONE 1500000000"),
            Some(Duration::from_millis(1_500))
        );
        assert_eq!(parse_done("READY"), None);
        assert_eq!(parse_done("DONE soon"), None);
    }

    #[test]
    fn deliveries_go_event_by_event_to_every_webhook_and_stop_after_the_last() {
        // GIVEN shape B's plan: 100 events × 100 webhooks
        let receiver: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let plan = Plan::new(receiver, crate::system::SHAPE_B).unwrap();
        // WHEN the requests are built
        let first = plan.request(0).unwrap();
        let second = plan.request(1).unwrap();
        let next_event = plan.request(100).unwrap();
        // THEN they go to webhook 0, 1, then the first event's again, signed
        assert_eq!(first.url.path(), "/hook/0");
        assert_eq!(second.url.path(), "/hook/1");
        assert_eq!(next_event.url.path(), "/hook/0");
        assert_ne!(first.body, next_event.body);
        assert!(first
            .headers
            .iter()
            .any(|(name, _)| name == "X-Authorization-HMAC-256"));
        assert_eq!(plan.deliveries(), 10_000);
        assert!(plan.request(10_000).is_none());
    }
}
