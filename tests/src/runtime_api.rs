//! A tiny Lambda runtime API (the HTTP interface a Lambda bootstrap polls), so tests
//! can run a function's real binary on loopback: hand it invocations, collect its
//! answers, and see when it first asked for work.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::Notify;

/// How a function answered one invocation.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    Response(serde_json::Value),
    Error(serde_json::Value),
}

#[derive(Default)]
struct Inner {
    pending: VecDeque<(String, serde_json::Value, Duration)>,
    /// Each answer by request id, with when it arrived (for timings).
    answers: Vec<(String, Answer, Instant)>,
    init_error: Option<serde_json::Value>,
    first_poll: Option<Instant>,
}

impl Inner {
    fn answered(&mut self, request_id: String, answer: Answer) {
        self.answers.push((request_id, answer, Instant::now()));
    }

    fn answer_to(&self, request_id: &str) -> Option<&(String, Answer, Instant)> {
        self.answers.iter().find(|(id, _, _)| id == request_id)
    }
}

#[derive(Clone)]
pub struct RuntimeApi {
    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    inner: Arc<Mutex<Inner>>,
    wake: Arc<Notify>,
}

impl RuntimeApi {
    pub async fn start() -> RuntimeApi {
        let inner: Arc<Mutex<Inner>> = Arc::default();
        let wake = Arc::new(Notify::new());
        let state = (inner.clone(), wake.clone());
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(respond),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        RuntimeApi {
            address: addr.to_string(),
            inner,
            wake,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues an invocation with `budget` before its deadline; returns its request id.
    pub fn invoke(&self, event: serde_json::Value, budget: Duration) -> String {
        let id = format!("req-{}", ulid_like());
        self.lock().pending.push_back((id.clone(), event, budget));
        self.wake.notify_waiters();
        id
    }

    /// Waits (at most `within`) for the answer to `request_id`.
    pub async fn answer(&self, request_id: &str, within: Duration) -> Option<Answer> {
        let deadline = Instant::now() + within;
        loop {
            {
                let inner = self.lock();
                if let Some((_, answer, _)) = inner.answer_to(request_id) {
                    return Some(answer.clone());
                }
                if inner.init_error.is_some() {
                    return None;
                }
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// When the function first asked for an invocation (its init finished).
    pub fn first_poll(&self) -> Option<Instant> {
        self.lock().first_poll
    }

    /// When the answer to `request_id` arrived, if it did.
    pub fn answered_at(&self, request_id: &str) -> Option<Instant> {
        self.lock().answer_to(request_id).map(|&(_, _, at)| at)
    }

    pub fn init_error(&self) -> Option<serde_json::Value> {
        self.lock().init_error.clone()
    }
}

type Shared = (Arc<Mutex<Inner>>, Arc<Notify>);

async fn next(State((inner, wake)): State<Shared>) -> Response {
    {
        let mut guard = inner.lock().unwrap_or_else(|e| e.into_inner());
        guard.first_poll.get_or_insert_with(Instant::now);
    }
    // Long poll, like the real API, bounded so a forgotten test cannot hang forever.
    let give_up = Instant::now() + Duration::from_secs(300);
    loop {
        let notified = wake.notified();
        let popped = inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pending
            .pop_front();
        if let Some((id, event, budget)) = popped {
            let deadline = std::time::SystemTime::now() + budget;
            let deadline_ms = deadline
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0);
            let mut headers = HeaderMap::new();
            let mut put = |name: &'static str, value: String| {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    headers.insert(name, value);
                }
            };
            put("lambda-runtime-aws-request-id", id);
            put("lambda-runtime-deadline-ms", deadline_ms.to_string());
            put(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:000000000000:function:test".into(),
            );
            put(
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000".into(),
            );
            return (StatusCode::OK, headers, event.to_string()).into_response();
        }
        if Instant::now() >= give_up {
            return StatusCode::GATEWAY_TIMEOUT.into_response();
        }
        let _ = tokio::time::timeout(Duration::from_millis(200), notified).await;
    }
}

fn parse(body: &Bytes) -> serde_json::Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(body).into_owned()))
}

async fn respond(
    State((inner, _)): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    inner
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .answered(id, Answer::Response(parse(&body)));
    StatusCode::ACCEPTED
}

async fn fail(State((inner, _)): State<Shared>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    inner
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .answered(id, Answer::Error(parse(&body)));
    StatusCode::ACCEPTED
}

async fn init_error(State((inner, _)): State<Shared>, body: Bytes) -> StatusCode {
    inner.lock().unwrap_or_else(|e| e.into_inner()).init_error = Some(parse(&body));
    StatusCode::ACCEPTED
}

fn ulid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{:016x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The environment the Lambda service gives every function, pointed at `api`.
pub fn lambda_env(api: &RuntimeApi, function: &str) -> Vec<(String, String)> {
    [
        ("AWS_LAMBDA_RUNTIME_API", api.address.as_str()),
        ("AWS_LAMBDA_FUNCTION_NAME", function),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/test"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "test"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}
