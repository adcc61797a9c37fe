//! The loopback receiver: answers 200 with an empty body at once to every delivery
//! (any POST), on keep-alive HTTP/1.1, on one thread. It counts deliveries and the
//! distinct `X-Delivery-Id`s among them, so duplicates show, and the connections it
//! accepted (a keep-alive sender opens one per request it has in flight at once).
//!
//! Control routes (the driver's, never counted): `POST /__reset` zeroes the tally;
//! `GET /__wait?n=N` answers `{"count": C, "distinct": D, "connections": K}` once
//! C ≥ N (K: connections accepted since the reset, the driver's own included).

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;

#[derive(Default)]
struct Tally {
    count: AtomicU64,
    target: AtomicU64,
    connections: AtomicU64,
    ids: Mutex<HashSet<Box<str>>>,
    reached: Notify,
}

impl Tally {
    fn delivered(&self, delivery_id: Option<&str>) {
        if let Some(id) = delivery_id {
            let mut ids = self.ids.lock().unwrap_or_else(PoisonError::into_inner);
            if !ids.contains(id) {
                ids.insert(id.into());
            }
        }
        let count = self.count.fetch_add(1, Ordering::AcqRel) + 1;
        if count >= self.target.load(Ordering::Acquire) {
            self.reached.notify_waiters();
        }
    }

    fn reset(&self) {
        self.ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.count.store(0, Ordering::Release);
        self.connections.store(0, Ordering::Release);
        self.target.store(u64::MAX, Ordering::Release);
    }

    fn distinct(&self) -> usize {
        self.ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    async fn wait_for(&self, n: u64) {
        self.target.store(n, Ordering::Release);
        loop {
            let notified = self.reached.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.count.load(Ordering::Acquire) >= n {
                return;
            }
            notified.await;
        }
    }
}

/// Serves on `listener` forever.
pub async fn serve(listener: TcpListener) {
    let tally = Arc::new(Tally::default());
    tally.reset();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        tally.connections.fetch_add(1, Ordering::AcqRel);
        let tally = tally.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(tally.clone(), request));
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(
    tally: Arc<Tally>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path();
    if path == "/__wait" {
        let n = request
            .uri()
            .query()
            .and_then(|q| q.strip_prefix("n="))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        tally.wait_for(n).await;
        let body = format!(
            r#"{{"count":{},"distinct":{},"connections":{}}}"#,
            tally.count.load(Ordering::Acquire),
            tally.distinct(),
            tally.connections.load(Ordering::Acquire)
        );
        return Ok(Response::new(Full::new(Bytes::from(body))));
    }
    if path == "/__reset" {
        tally.reset();
        return Ok(Response::new(Full::new(Bytes::new())));
    }
    if request.method() != Method::POST {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        return Ok(response);
    }
    let delivery_id = request
        .headers()
        .get("x-delivery-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // Read the body so the connection stays reusable.
    let _ = request.into_body().collect().await;
    tally.delivered(delivery_id.as_deref());
    Ok(Response::new(Full::new(Bytes::new())))
}

/// Runs the receiver as this process's only job: binds 127.0.0.1:0, prints the address
/// on stdout, and serves until stdin closes (the driver holds it: the receiver ends
/// with the driver).
pub fn run_process() -> crate::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        println!("{}", listener.local_addr()?);
        use std::io::Write;
        std::io::stdout().flush()?;
        tokio::spawn(serve(listener));
        let mut stdin = tokio::io::stdin();
        let mut sink = tokio::io::sink();
        let _ = tokio::io::copy(&mut stdin, &mut sink).await;
        Ok(())
    })
}
