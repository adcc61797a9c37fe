//! The three receivers of the noisy-neighbour shape, each on a loopback port and a
//! thread of its own (a current-thread runtime each, so a neighbour's work never
//! delays the healthy receiver's clock): healthy answers 200 at once and notes when
//! each event's first delivery arrived; hanging reads the request and answers only
//! after [`HANG`]; failing answers 500 at once. Dropping a receiver stops its runtime:
//! the requests the hanging one still holds are cut, so it never keeps the bench
//! waiting.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::Result;

/// How long the hanging receiver holds each request before answering.
pub const HANG: Duration = Duration::from_secs(30);

/// What a receiver does with every request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// 200 at once; arrivals noted per event.
    Healthy,
    /// Reads the request, answers 200 after [`HANG`].
    Hanging,
    /// 500 at once.
    Failing,
}

/// What a receiver saw.
#[derive(Default)]
struct Seen {
    requests: AtomicU64,
    duplicates: AtomicU64,
    /// The first delivery's arrival per event number (`data.report_id` = `r-NNNNNN`).
    first: Mutex<Vec<Option<Instant>>>,
}

/// One receiver; stopped when dropped.
pub struct ReceiverThread {
    pub addr: SocketAddr,
    seen: Arc<Seen>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ReceiverThread {
    /// Binds 127.0.0.1:0 and serves on a new thread; `events` sizes the arrival table.
    pub fn start(behaviour: Behaviour, events: usize) -> Result<ReceiverThread> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let seen = Arc::new(Seen {
            first: Mutex::new(vec![None; events]),
            ..Seen::default()
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let state = seen.clone();
        let thread = std::thread::Builder::new()
            .name(format!("receiver-{behaviour:?}").to_lowercase())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = TcpListener::from_std(listener) else {
                        return;
                    };
                    tokio::select! {
                        () = serve(listener, behaviour, state) => {}
                        _ = stopped => {}
                    }
                });
                // Dropping the runtime here cancels every connection still open.
            })?;
        Ok(ReceiverThread {
            addr,
            seen,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Every request received (deliveries, duplicates included).
    pub fn requests(&self) -> u64 {
        self.seen.requests.load(Ordering::Acquire)
    }

    /// Deliveries of an event whose first delivery had already arrived.
    pub fn duplicates(&self) -> u64 {
        self.seen.duplicates.load(Ordering::Acquire)
    }

    /// The first arrival per event number.
    pub fn arrivals(&self) -> Vec<Option<Instant>> {
        self.seen
            .first
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Events with at least one delivery.
    pub fn delivered(&self) -> usize {
        self.seen
            .first
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|at| at.is_some())
            .count()
    }

    /// Waits until every event has a delivery or `deadline` passed; true if all came.
    pub async fn wait_all(&self, deadline: Instant) -> bool {
        let events = self
            .seen
            .first
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        loop {
            if self.delivered() >= events {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl Drop for ReceiverThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(listener: TcpListener, behaviour: Behaviour, seen: Arc<Seen>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let seen = seen.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(behaviour, seen.clone(), request));
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(
    behaviour: Behaviour,
    seen: Arc<Seen>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = request
        .into_body()
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    let arrived = Instant::now();
    seen.requests.fetch_add(1, Ordering::AcqRel);
    let status = match behaviour {
        Behaviour::Healthy => {
            if let Some(n) = event_number(&body) {
                let mut first = seen.first.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(slot) = first.get_mut(n) {
                    if slot.is_some() {
                        seen.duplicates.fetch_add(1, Ordering::AcqRel);
                    } else {
                        *slot = Some(arrived);
                    }
                }
            }
            StatusCode::OK
        }
        Behaviour::Hanging => {
            tokio::time::sleep(HANG).await;
            StatusCode::OK
        }
        Behaviour::Failing => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    Ok(response)
}

/// `N` of a delivery whose event's `data.report_id` is `r-N`.
pub fn event_number(body: &[u8]) -> Option<usize> {
    let delivery: serde_json::Value = serde_json::from_slice(body).ok()?;
    delivery["data"]["report_id"]
        .as_str()?
        .strip_prefix("r-")?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_names_its_event_by_report_id() {
        let body = br#"{"id":"evt_1","type":"t","data":{"report_id":"r-000123","status":"x"}}"#;
        assert_eq!(event_number(body), Some(123));
        assert_eq!(event_number(b"{}"), None);
    }

    #[tokio::test]
    async fn the_healthy_receiver_notes_first_arrivals_and_duplicates() {
        let receiver = ReceiverThread::start(Behaviour::Healthy, 3).unwrap();
        let body = br#"{"data":{"report_id":"r-000001"}}"#;
        for _ in 0..2 {
            let (status, _) =
                crate::http::once(receiver.addr, "POST", "/h", Bytes::from(&body[..]))
                    .await
                    .unwrap();
            assert_eq!(status, 200);
        }
        assert_eq!(receiver.requests(), 2);
        assert_eq!(receiver.duplicates(), 1);
        assert_eq!(receiver.delivered(), 1);
        assert!(receiver.arrivals()[1].is_some());
        assert!(!receiver.wait_all(Instant::now()).await);
    }

    #[tokio::test]
    async fn dropping_the_hanging_receiver_cuts_the_requests_it_holds() {
        let receiver = ReceiverThread::start(Behaviour::Hanging, 0).unwrap();
        let addr = receiver.addr;
        let request =
            tokio::spawn(async move { crate::http::once(addr, "POST", "/h", Bytes::new()).await });
        let started = Instant::now();
        while receiver.requests() == 0 && started.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        drop(receiver);
        let answer = tokio::time::timeout(Duration::from_secs(5), request).await;
        assert!(matches!(answer, Ok(Ok(Err(_)))), "{answer:?}");
    }

    #[tokio::test]
    async fn the_failing_receiver_answers_500() {
        let receiver = ReceiverThread::start(Behaviour::Failing, 0).unwrap();
        let (status, _) = crate::http::once(receiver.addr, "POST", "/f", Bytes::new())
            .await
            .unwrap();
        assert_eq!(status, 500);
    }
}
