use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use tokio::sync::oneshot;
use webhooks_core::domain::delivery_log::Outcome;
use webhooks_core::domain::ids::{DeliveryId, WebhookId};
use webhooks_core::domain::retry::RetrySchedule;
use webhooks_core::domain::time::{Clock, SystemClock, Timestamp};
use webhooks_core::domain::webhook::Webhook;
use webhooks_core::outbound::{
    GuardedSender, HttpSender, OutboundPolicy, OutboundRequest, OutboundResponse, SendError,
};
use webhooks_core::ports::{
    EventSink, LogReader, Page, StoreError, SubscriberView, WebhookFilter, WebhookReader,
    WebhookRegistry, WebhookWriter,
};
use webhooks_core::usecases::delivery::{DeliveryPorts, DeliverySettings, Dispatcher};

use super::{backoff, Worker, WorkerSettings};
use crate::test_support::{event, webhook, ManualClock};
use crate::LocalStores;

/// Bounds every wait in these tests.
const PATIENCE: Duration = Duration::from_secs(10);

/// Waits until `done` holds, polling; panics after [`PATIENCE`].
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let polled = tokio::time::timeout(PATIENCE, async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(polled.is_ok(), "timed out waiting until {what}");
}

/// A sender that answers every request with one status and remembers the headers.
struct FakeSender {
    status: u16,
    requests: Mutex<Vec<OutboundRequest>>,
}

impl FakeSender {
    fn answering(status: u16) -> Arc<Self> {
        Arc::new(Self {
            status,
            requests: Mutex::new(Vec::new()),
        })
    }

    fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

#[async_trait]
impl HttpSender for FakeSender {
    async fn post(&self, request: OutboundRequest) -> Result<OutboundResponse, SendError> {
        self.requests.lock().unwrap().push(request);
        Ok(OutboundResponse {
            status: self.status,
            location: None,
            retry_after: None,
            excerpt: String::new(),
            elapsed: Duration::from_millis(1),
            remote_addr: None,
            tls: false,
        })
    }
}

fn header<'a>(request: &'a OutboundRequest, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

fn fast_worker_settings() -> WorkerSettings {
    WorkerSettings {
        idle_poll: Duration::from_millis(50),
        ..WorkerSettings::default()
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    stores: LocalStores,
}

fn fixture(clock: Arc<dyn Clock>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("worker.db");
    let stores = LocalStores::open(&path, clock).unwrap();
    Fixture { _dir: dir, stores }
}

#[tokio::test]
async fn an_ingested_event_is_delivered_and_logged() {
    // GIVEN a webhook of the event's type and a receiver that answers 200
    let fx = fixture(Arc::new(SystemClock));
    let hook = webhook("https://receiver.example/hook");
    fx.stores.webhooks.insert(&hook).await.unwrap();
    let sender = FakeSender::answering(200);
    let worker = fx.stores.worker(
        fx.stores
            .dispatcher(sender.clone(), DeliverySettings::default()),
        fast_worker_settings(),
    );
    // WHEN an event is ingested and the worker runs what is due
    fx.stores.queue.ingest(&event("evt_1")).await.unwrap();
    let ran = worker.run_until_idle().await.unwrap();
    // THEN one signed-off POST went out and the attempt is logged as succeeded
    assert_eq!(ran, 1);
    let requests = sender.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    let delivery = DeliveryId::derive(&event("evt_1").id, &hook.id);
    assert_eq!(
        header(&requests[0], "X-Delivery-Id"),
        Some(delivery.as_str())
    );
    assert_eq!(header(&requests[0], "X-Delivery-Attempt"), Some("1"));
    let attempts = fx.stores.logs.attempts(&hook.id, &delivery).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].record.outcome, Outcome::Succeeded);
    assert_eq!(fx.stores.queue.pending().await.unwrap(), 0);
}

#[tokio::test]
async fn the_running_worker_wakes_on_ingest_and_stops_on_shutdown() {
    // GIVEN a running worker with nothing to do (and a long idle poll, so only the
    // wake-up can make it act quickly)
    let fx = fixture(Arc::new(SystemClock));
    let hook = webhook("https://receiver.example/hook");
    fx.stores.webhooks.insert(&hook).await.unwrap();
    let sender = FakeSender::answering(204);
    let worker = fx.stores.worker(
        fx.stores
            .dispatcher(sender.clone(), DeliverySettings::default()),
        WorkerSettings {
            idle_poll: Duration::from_secs(30),
            ..WorkerSettings::default()
        },
    );
    let (stop, running) = spawn_worker(worker);
    tokio::time::sleep(Duration::from_millis(50)).await;
    // WHEN an event is ingested
    fx.stores.queue.ingest(&event("evt_1")).await.unwrap();
    // THEN it is delivered without waiting for the idle poll (PATIENCE is far
    // shorter than the 30 s poll)
    eventually("the event is delivered", || sender.count() > 0).await;
    // AND the worker stops promptly when asked
    stop_worker(stop, running).await;
}

#[tokio::test]
async fn an_unreadable_job_is_buried_and_the_worker_carries_on() {
    // GIVEN a job with a broken payload queued before a good event
    let fx = fixture(Arc::new(SystemClock));
    let hook = webhook("https://receiver.example/hook");
    fx.stores.webhooks.insert(&hook).await.unwrap();
    fx.stores
        .queue
        .push_raw("delivery", r#"{"type":"delivery_v9"}"#)
        .await
        .unwrap();
    fx.stores.queue.ingest(&event("evt_1")).await.unwrap();
    let sender = FakeSender::answering(200);
    let worker = fx.stores.worker(
        fx.stores
            .dispatcher(sender.clone(), DeliverySettings::default()),
        fast_worker_settings(),
    );
    // WHEN the worker runs
    worker.run_until_idle().await.unwrap();
    // THEN the broken job is in dead_jobs with its reason, and the event was delivered
    let dead = fx.stores.queue.dead_jobs(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert!(dead[0].reason.contains("delivery_v9"), "{}", dead[0].reason);
    assert_eq!(sender.count(), 1);
    assert_eq!(fx.stores.queue.pending().await.unwrap(), 0);
}

/// A webhook store whose backend is down.
struct BrokenWebhooks;

fn down<T>() -> Result<T, StoreError> {
    Err(StoreError::backend("database is down"))
}

#[async_trait]
impl WebhookReader for BrokenWebhooks {
    async fn get(&self, _: &WebhookId) -> Result<Option<Webhook>, StoreError> {
        down()
    }
}

#[async_trait]
impl WebhookWriter for BrokenWebhooks {
    async fn replace(&self, _: &Webhook, _: u64) -> Result<(), StoreError> {
        down()
    }
}

#[async_trait]
impl SubscriberView for BrokenWebhooks {
    async fn subscribers(&self, _: &str, _: &str) -> Result<Vec<Webhook>, StoreError> {
        down()
    }

    async fn set_failing_since(
        &self,
        _: &WebhookId,
        _: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        down()
    }
}

#[async_trait]
impl WebhookRegistry for BrokenWebhooks {
    async fn insert(&self, _: &Webhook) -> Result<(), StoreError> {
        down()
    }

    async fn delete(&self, _: &WebhookId) -> Result<Option<Webhook>, StoreError> {
        down()
    }

    async fn list(
        &self,
        _: &WebhookFilter,
        _: usize,
        _: Option<&str>,
    ) -> Result<Page<Webhook>, StoreError> {
        down()
    }
}

#[tokio::test]
async fn a_job_whose_store_fails_is_released_with_a_growing_backoff() {
    // GIVEN an ingested event and a webhook store that fails
    let clock = ManualClock::at("2026-11-28T12:00:00Z");
    let fx = fixture(clock.clone());
    let ports = DeliveryPorts {
        webhooks: Arc::new(BrokenWebhooks),
        ..fx.stores.delivery_ports(FakeSender::answering(200))
    };
    let worker = fx.stores.worker(
        Dispatcher::new(ports, DeliverySettings::default()),
        fast_worker_settings(),
    );
    fx.stores.queue.ingest(&event("evt_1")).await.unwrap();
    let start = clock.now();
    // WHEN the worker runs it
    worker.run_until_idle().await.unwrap();
    // THEN the job stays queued, due again after 5 s
    assert_eq!(fx.stores.queue.pending().await.unwrap(), 1);
    assert_eq!(
        fx.stores.queue.next_due_at().await.unwrap(),
        Some(start.plus(Duration::from_secs(5)))
    );
    // AND after failing again it waits twice as long
    clock.advance(Duration::from_secs(5));
    worker.run_until_idle().await.unwrap();
    assert_eq!(
        fx.stores.queue.next_due_at().await.unwrap(),
        Some(clock.now().plus(Duration::from_secs(10)))
    );
}

#[test]
fn backoff_starts_at_five_seconds_doubles_and_caps_at_five_minutes() {
    assert_eq!(backoff(0), Duration::from_secs(5));
    assert_eq!(backoff(1), Duration::from_secs(10));
    assert_eq!(backoff(3), Duration::from_secs(40));
    assert_eq!(backoff(6), Duration::from_secs(300));
    assert_eq!(backoff(u32::MAX), Duration::from_secs(300));
}

/// A loopback receiver that answers 503 until made healthy, then 200, and records
/// (delivery id, attempt, status answered) of each request.
#[derive(Clone, Default)]
struct Receiver {
    healthy: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<(String, u32, u16)>>>,
}

impl Receiver {
    async fn start() -> (Receiver, SocketAddr) {
        let receiver = Receiver::default();
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, addr)
    }

    fn seen(&self) -> Vec<(String, u32, u16)> {
        self.seen.lock().unwrap().clone()
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap) -> StatusCode {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let status = if receiver.healthy.load(Ordering::SeqCst) {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    receiver.seen.lock().unwrap().push((
        text("x-delivery-id"),
        text("x-delivery-attempt").parse().unwrap_or(0),
        status.as_u16(),
    ));
    status
}

/// A worker on `stores` that sends through the guarded sender (loopback allowed) and
/// retries every 200 ms, three times.
fn guarded_worker(stores: &LocalStores) -> Worker {
    let sender = Arc::new(GuardedSender::new(OutboundPolicy::local_default()).unwrap());
    let settings = DeliverySettings {
        timeout: Duration::from_secs(2),
        schedule: RetrySchedule::new(vec![Duration::from_millis(200); 3], 0.0),
        ..DeliverySettings::default()
    };
    stores.worker(stores.dispatcher(sender, settings), fast_worker_settings())
}

fn spawn_worker(
    worker: Worker,
) -> (
    oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), StoreError>>,
) {
    let (stop, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(worker.run(async {
        let _ = stopped.await;
    }));
    (stop, running)
}

async fn stop_worker(
    stop: oneshot::Sender<()>,
    running: tokio::task::JoinHandle<Result<(), StoreError>>,
) {
    let _ = stop.send(());
    let result = tokio::time::timeout(PATIENCE, running)
        .await
        .expect("the worker stops")
        .expect("the worker did not panic");
    assert!(result.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_pending_at_shutdown_is_delivered_by_the_next_worker() {
    // GIVEN a webhook whose receiver is failing, and a worker that made the first
    // attempt and was then stopped with the retry pending
    let (receiver, addr) = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("webhooks.db");
    let hook = webhook(&format!("http://{addr}/hook"));
    {
        let stores = LocalStores::open(&path, Arc::new(SystemClock)).unwrap();
        stores.webhooks.insert(&hook).await.unwrap();
        let (stop, running) = spawn_worker(guarded_worker(&stores));
        stores.queue.ingest(&event("evt_1")).await.unwrap();
        eventually("the first attempt arrives", || !receiver.seen().is_empty()).await;
        stop_worker(stop, running).await;
        assert!(receiver.seen().iter().all(|(_, _, status)| *status == 503));
        assert!(
            stores.queue.pending().await.unwrap() >= 1,
            "a retry is pending"
        );
    }
    // WHEN the receiver recovers and a new worker starts on the same file
    receiver.healthy.store(true, Ordering::SeqCst);
    let stores = LocalStores::open(&path, Arc::new(SystemClock)).unwrap();
    let (stop, running) = spawn_worker(guarded_worker(&stores));
    eventually("a delivery succeeds", || {
        receiver.seen().iter().any(|(_, _, status)| *status == 200)
    })
    .await;
    stop_worker(stop, running).await;
    // THEN the retry was delivered with the same delivery id and a later attempt
    let seen = receiver.seen();
    let delivery = DeliveryId::derive(&event("evt_1").id, &hook.id);
    assert!(seen.iter().all(|(id, _, _)| id == delivery.as_str()));
    let attempts: Vec<u32> = seen.iter().map(|(_, attempt, _)| *attempt).collect();
    assert!(attempts.windows(2).all(|w| w[0] < w[1]), "{attempts:?}");
    assert_eq!(seen.last().map(|s| s.2), Some(200));
    // AND the log ends with the success
    let logged = stores.logs.attempts(&hook.id, &delivery).await.unwrap();
    assert_eq!(logged.len(), seen.len());
    assert_eq!(
        logged.last().map(|a| a.record.outcome),
        Some(Outcome::Succeeded)
    );
    assert_eq!(stores.queue.pending().await.unwrap(), 0);
}
