//! A loopback receiver for tests: answers a script of statuses and records every
//! request it gets.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Router;

/// One request as the receiver saw it.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// When it arrived.
    pub at: Instant,
}

impl Delivery {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Delivery>>>,
    concurrency: Arc<Mutex<(usize, usize)>>,
}

impl Receiver {
    /// Answers `statuses[n]` to the n-th request, then the last status forever.
    pub async fn start(statuses: Vec<u16>) -> Receiver {
        Self::answering_after(statuses, Duration::ZERO).await
    }

    /// Like [`start`](Self::start), each answer `delay` after the request arrived (a
    /// slow receiver; one past the delivery timeout hangs). Requests are recorded as
    /// they arrive.
    pub async fn answering_after(statuses: Vec<u16>, delay: Duration) -> Receiver {
        let received: Arc<Mutex<Vec<Delivery>>> = Arc::default();
        let concurrency: Arc<Mutex<(usize, usize)>> = Arc::default();
        let log = received.clone();
        let open = concurrency.clone();
        let script = Arc::new(statuses);
        let app = Router::new().fallback(
            move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
                let log = log.clone();
                let open = open.clone();
                let script = script.clone();
                async move {
                    let status = {
                        let mut requests = log.lock().unwrap_or_else(|e| e.into_inner());
                        let status = script
                            .get(requests.len())
                            .or(script.last())
                            .copied()
                            .unwrap_or(200);
                        requests.push(Delivery {
                            path: uri.path().to_owned(),
                            headers,
                            body,
                            at: Instant::now(),
                        });
                        status
                    };
                    {
                        let mut open = open.lock().unwrap_or_else(|e| e.into_inner());
                        open.0 += 1;
                        open.1 = open.1.max(open.0);
                    }
                    tokio::time::sleep(delay).await;
                    open.lock().unwrap_or_else(|e| e.into_inner()).0 -= 1;
                    StatusCode::from_u16(status)
                        .unwrap_or(StatusCode::OK)
                        .into_response()
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        Receiver {
            addr,
            received,
            concurrency,
        }
    }

    /// The most requests it held open at once (answered ones do not count).
    pub fn max_concurrent(&self) -> usize {
        self.concurrency.lock().unwrap_or_else(|e| e.into_inner()).1
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits (at most `within`) until `count` requests have arrived.
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Delivery> {
        let deadline = Instant::now() + within;
        loop {
            let deliveries = self.deliveries();
            if deliveries.len() >= count || Instant::now() >= deadline {
                return deliveries;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
