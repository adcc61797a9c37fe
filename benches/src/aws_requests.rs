//! Counting the AWS requests a function process makes: a loopback HTTP proxy in front
//! of the emulator, given to the function as its `AWS_ENDPOINT_URL`. Every request is
//! forwarded unchanged (the emulator does not check signatures) on a connection of its
//! own that mirrors the function's, and counted by service (the SigV4 credential
//! scope) and action (the `X-Amz-Target` of the JSON protocols, else the query
//! protocol's `Action`). On AWS each counted request is a billed request.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, AUTHORIZATION};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex as AsyncMutex;

use crate::Result;

/// Requests by (service, action), e.g. `("sqs", "SendMessageBatch")`.
pub type Counts = BTreeMap<(String, String), u64>;

/// Requests and response bytes, by (service, action).
#[derive(Clone, Debug, Default)]
pub struct Tallies {
    pub requests: Counts,
    /// The response bodies' bytes: for DynamoDB reads about what the read units are
    /// charged on (4 KB a unit, half that for an eventually consistent read).
    pub response_bytes: Counts,
}

/// The proxy; it stops when dropped.
pub struct CountingProxy {
    /// What to give the function as `AWS_ENDPOINT_URL`.
    pub endpoint: String,
    counts: Arc<Mutex<Tallies>>,
    task: tokio::task::JoinHandle<()>,
}

impl CountingProxy {
    /// Listens on a free loopback port and forwards to `upstream` (`http://host:port`).
    pub async fn start(upstream: &str) -> Result<CountingProxy> {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .map_err(|e| format!("the emulator's endpoint {upstream:?} is not host:port: {e}"))?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let counts = Arc::new(Mutex::new(Tallies::default()));
        let task = tokio::spawn(accept(listener, upstream, counts.clone()));
        Ok(CountingProxy {
            endpoint,
            counts,
            task,
        })
    }

    /// The requests so far.
    pub fn counts(&self) -> Counts {
        self.tallies().requests
    }

    /// The requests and response bytes so far.
    pub fn tallies(&self) -> Tallies {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What `after` counted beyond `before`.
pub fn since(before: &Counts, after: &Counts) -> Counts {
    after
        .iter()
        .filter_map(|(key, n)| {
            let more = n.saturating_sub(before.get(key).copied().unwrap_or(0));
            (more > 0).then(|| (key.clone(), more))
        })
        .collect()
}

/// Every request in `counts`.
pub fn total(counts: &Counts) -> u64 {
    counts.values().sum()
}

async fn accept(listener: TcpListener, upstream: SocketAddr, counts: Arc<Mutex<Tallies>>) {
    while let Ok((stream, _)) = listener.accept().await {
        let counts = counts.clone();
        tokio::spawn(async move {
            // One upstream connection per function connection, opened on first use.
            let upstream_conn = Arc::new(AsyncMutex::new(None));
            let service = service_fn(move |request: Request<Incoming>| {
                let counts = counts.clone();
                let upstream_conn = upstream_conn.clone();
                async move { forward(request, upstream, &upstream_conn, &counts).await }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

type Upstream = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn forward(
    request: Request<Incoming>,
    upstream: SocketAddr,
    conn: &AsyncMutex<Option<Upstream>>,
    counts: &Mutex<Tallies>,
) -> std::result::Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => return Ok(bad_gateway(&format!("reading the request: {error}"))),
    };
    let key = (
        service(&parts.headers),
        action(&parts.headers, parts.uri.query(), &body),
    );
    *counts
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .requests
        .entry(key.clone())
        .or_insert(0) += 1;
    let mut forwarded = Request::from_parts(parts, Full::new(body));
    *forwarded.uri_mut() = forwarded
        .uri()
        .path_and_query()
        .map_or_else(|| "/".parse(), |pq| pq.as_str().parse())
        .unwrap_or_default();
    let mut conn = conn.lock().await;
    let response = match send(&mut conn, upstream, forwarded).await {
        Ok(response) => response,
        Err(error) => return Ok(bad_gateway(&error.to_string())),
    };
    let (parts, body) = response.into_parts();
    match body.collect().await {
        Ok(collected) => {
            let bytes = collected.to_bytes();
            *counts
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .response_bytes
                .entry(key)
                .or_insert(0) += bytes.len() as u64;
            Ok(Response::from_parts(parts, Full::new(bytes)))
        }
        Err(error) => Ok(bad_gateway(&format!("reading the response: {error}"))),
    }
}

/// Sends on the connection, opening it (again) when there is none or it closed.
async fn send(
    conn: &mut Option<Upstream>,
    upstream: SocketAddr,
    request: Request<Full<Bytes>>,
) -> Result<Response<Incoming>> {
    if conn.as_ref().is_none_or(|sender| sender.is_closed()) {
        let stream = TcpStream::connect(upstream).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        *conn = Some(sender);
    }
    let sender = conn.as_mut().ok_or("no upstream connection")?;
    sender.ready().await?;
    Ok(sender.send_request(request).await?)
}

fn bad_gateway(why: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(format!("proxy: {why}"))));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
}

/// The service of a SigV4-signed request: `Credential=KEY/DATE/REGION/SERVICE/aws4_request`.
fn service(headers: &HeaderMap) -> String {
    headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|credential| credential.split('/').nth(3))
        .unwrap_or("unsigned")
        .to_owned()
}

/// The action: `X-Amz-Target: Service_Version.Action`, else the query protocol's
/// `Action=` (in the query or the form body).
fn action(headers: &HeaderMap, query: Option<&str>, body: &Bytes) -> String {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        return target.rsplit('.').next().unwrap_or(target).to_owned();
    }
    let form = std::str::from_utf8(body).unwrap_or("");
    [query.unwrap_or(""), form]
        .into_iter()
        .flat_map(|pairs| pairs.split('&'))
        .find_map(|pair| pair.strip_prefix("Action="))
        .unwrap_or("unknown")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_named_by_its_credential_scope_and_target() {
        let mut headers = HeaderMap::new();
        headers.insert(
            AUTHORIZATION,
            "AWS4-HMAC-SHA256 Credential=test/20261202/us-east-1/dynamodb/aws4_request, \
             SignedHeaders=host, Signature=00"
                .parse()
                .unwrap(),
        );
        headers.insert("x-amz-target", "DynamoDB_20120810.Query".parse().unwrap());
        assert_eq!(service(&headers), "dynamodb");
        assert_eq!(action(&headers, None, &Bytes::new()), "Query");
        let form = Bytes::from_static(b"Action=SendMessage&Version=2012-11-05");
        assert_eq!(action(&HeaderMap::new(), None, &form), "SendMessage");
        assert_eq!(service(&HeaderMap::new()), "unsigned");
    }

    #[test]
    fn since_keeps_only_what_grew() {
        let key = |s: &str, a: &str| (s.to_owned(), a.to_owned());
        let before = Counts::from([(key("sqs", "SendMessage"), 2)]);
        let after = Counts::from([
            (key("sqs", "SendMessage"), 5),
            (key("dynamodb", "Query"), 1),
        ]);
        let grown = since(&before, &after);
        assert_eq!(grown.get(&key("sqs", "SendMessage")), Some(&3));
        assert_eq!(total(&grown), 4);
    }
}
