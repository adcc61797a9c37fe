//! The noisy-neighbour shape on `webhooks serve`: a fresh service per run (the release
//! binary on a new SQLite file, as in the system benchmark), its webhooks registered
//! through the API, the events posted to `POST /events` over keep-alive connections.
//! A healthy delivery's latency runs from its event's `202 Accepted`; the completion
//! time from the first event sent to the last healthy delivery received.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::receivers::{Behaviour, ReceiverThread};
use super::{Config, Neighbours, NoisyRun, DELIVERY_TIMEOUT_MS};
use crate::fixtures::event_body;
use crate::http::Conn;
use crate::service::Service;
use crate::Result;

/// `webhooks serve`'s own default, stated so that an inherited value cannot change it.
const LOOPBACK: &str = "127.0.0.0/8,::1/128";

/// One run against a fresh service: the events posted as fast as the connections go,
/// or, with `pace`, event `n` not before `n / pace` seconds into the run.
pub async fn run(
    binary: &Path,
    config: &Config,
    neighbours: Neighbours,
    pace: Option<u32>,
) -> Result<NoisyRun> {
    let events = config.events;
    let healthy = ReceiverThread::start(Behaviour::Healthy, events)?;
    let bad = neighbours.start_receivers(events)?;
    let service = Service::start_with(
        binary,
        None,
        &[
            ("DELIVERY_TIMEOUT_MS", DELIVERY_TIMEOUT_MS),
            ("WEBHOOKS_ALLOW_NETS", LOOPBACK),
            ("WEBHOOKS_REQUIRE_HTTPS", "false"),
        ],
    )
    .await?;
    let mut hooks = vec![("healthy".to_owned(), healthy.addr)];
    if let Some((first, second)) = &bad {
        hooks.push(("first neighbour".to_owned(), first.addr));
        hooks.push(("second neighbour".to_owned(), second.addr));
    }
    service.create_labelled_webhooks("noisy", &hooks).await?;
    let mut conns = Vec::with_capacity(config.connections);
    for _ in 0..config.connections.max(1) {
        conns.push(Conn::open(service.addr).await?);
    }
    // Let the service settle after the set-up requests.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    let deadline = started + config.bound;
    // A failed post ends the run at once rather than at the bound.
    let (accepted, all_came) =
        tokio::try_join!(post_events(conns, events, pace, deadline), async {
            Ok::<_, crate::BoxError>(healthy.wait_all(deadline).await)
        })?;
    let elapsed = started.elapsed();
    let arrivals = healthy.arrivals();
    let latencies = arrivals
        .iter()
        .zip(&accepted)
        .filter_map(|(arrived, accepted)| {
            Some(arrived.as_ref()?.saturating_duration_since(*accepted))
        })
        .collect();
    let last = arrivals.iter().flatten().max().copied();
    // The service finishes the attempts in flight (at most one delivery timeout) and
    // stops; the receivers are dropped after it, so it never waits on a cut request,
    // and their counts include what it sent while stopping.
    let stopped = service.stop().await?;
    let (hanging_requests, failing_requests) = bad.as_ref().map_or((0, 0), |(hanging, failing)| {
        (hanging.requests(), failing.requests())
    });
    drop(bad);
    Ok(NoisyRun {
        events,
        delivered: healthy.delivered(),
        latencies,
        batch_latencies: Vec::new(),
        completion: all_came
            .then(|| last.map(|at| at.saturating_duration_since(started)))
            .flatten(),
        elapsed,
        duplicates: healthy.duplicates(),
        hanging_requests,
        failing_requests,
        outcomes: stopped.outcomes,
        invocations: 0,
        handed_back: 0,
        aws_requests: Default::default(),
    })
}

/// Posts events `0..events` over the connections, each one request at a time (with
/// `pace`, event `n` not before `n / pace` s after the start); returns when each was
/// accepted, by event number. Gives up at `deadline`.
async fn post_events(
    conns: Vec<Conn>,
    events: usize,
    pace: Option<u32>,
    deadline: Instant,
) -> Result<Vec<Instant>> {
    let start = Instant::now();
    let not_before = move |n: usize| {
        pace.map(|rate| start + Duration::from_secs_f64(n as f64 / f64::from(rate.max(1))))
    };
    let next = Arc::new(AtomicUsize::new(0));
    let mut senders = tokio::task::JoinSet::new();
    for mut conn in conns {
        let next = next.clone();
        senders.spawn(async move {
            let mut accepted = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= events {
                    return Ok::<_, crate::BoxError>(accepted);
                }
                if let Some(at) = not_before(n) {
                    tokio::time::sleep_until(at.into()).await;
                }
                let post = conn.post_json("/events", event_body(n));
                let (status, body) = tokio::time::timeout_at(deadline.into(), post)
                    .await
                    .map_err(|_| "POST /events did not answer within the bound")??;
                if status != 202 {
                    return Err(format!(
                        "POST /events answered {status}: {}",
                        String::from_utf8_lossy(&body)
                    )
                    .into());
                }
                accepted.push((n, Instant::now()));
            }
        });
    }
    let mut by_event: Vec<Option<Instant>> = vec![None; events];
    while let Some(joined) = senders.join_next().await {
        for (n, at) in joined?? {
            by_event[n] = Some(at);
        }
    }
    by_event
        .into_iter()
        .enumerate()
        .map(|(n, at)| at.ok_or_else(|| format!("event {n} was never posted").into()))
        .collect()
}
