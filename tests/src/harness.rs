//! A local service for tests: SQLite in a temporary directory, the HTTP app on a
//! loopback port, the real worker loop, and a short retry schedule.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::sync::watch;
use webhooks_core::config::OutboundConfig;
use webhooks_core::domain::retry::RetrySchedule;
use webhooks_core::domain::time::{Clock, SystemClock};
use webhooks_core::outbound::{GuardedSender, OutboundPolicy};
use webhooks_core::usecases::delivery::DeliverySettings;
use webhooks_local::{http_app, LocalStores, WorkerSettings};

pub struct Options {
    pub policy: OutboundPolicy,
    pub schedule: RetrySchedule,
    pub token: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            policy: OutboundPolicy::local_default(),
            // Three retries, 50 ms apart, no jitter: minutes of schedule in milliseconds.
            schedule: RetrySchedule::new(vec![Duration::from_millis(50); 3], 0.0),
            token: None,
        }
    }
}

/// One running local service.
pub struct Harness {
    pub stores: LocalStores,
    pub base: String,
    pub client: reqwest::Client,
    db: PathBuf,
    stop: watch::Sender<bool>,
    worker: tokio::task::JoinHandle<()>,
    server: tokio::task::JoinHandle<()>,
}

/// An answer: status, JSON body (Null when empty) and headers.
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Harness {
    /// Starts a service on a fresh database in `dir`.
    pub async fn start(dir: &tempfile::TempDir, options: Options) -> Harness {
        Self::start_on(dir.path().join("webhooks.db"), options).await
    }

    /// Starts a service on an existing (or new) database file.
    pub async fn start_on(db: PathBuf, options: Options) -> Harness {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let stores = LocalStores::open(&db, clock).expect("open the database");
        let config = OutboundConfig {
            timeout: Duration::from_secs(2),
            policy: options.policy,
        };
        let sender = GuardedSender::new(config.policy.clone()).expect("sender");
        let dispatcher = stores.dispatcher(
            Arc::new(sender.clone()),
            DeliverySettings {
                timeout: config.timeout,
                schedule: options.schedule,
                ..DeliverySettings::default()
            },
        );
        let worker = stores.worker(
            dispatcher,
            WorkerSettings {
                idle_poll: Duration::from_millis(20),
                ..WorkerSettings::default()
            },
        );
        let app = http_app(&stores, sender, &config, options.token.as_deref());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stop_rx) = watch::channel(false);
        let mut worker_stop = stop_rx.clone();
        let worker = tokio::spawn(async move {
            let _ = worker
                .run(async move {
                    let _ = worker_stop.wait_for(|stopped| *stopped).await;
                })
                .await;
        });
        let mut server_stop = stop_rx;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = server_stop.wait_for(|stopped| *stopped).await;
                })
                .await;
        });
        Harness {
            stores,
            base,
            client: reqwest::Client::new(),
            db,
            stop,
            worker,
            server,
        }
    }

    /// Stops the service (in-flight work finishes) and returns its database file.
    pub async fn stop(self) -> PathBuf {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(10), self.worker).await;
        let _ = tokio::time::timeout(Duration::from_secs(10), self.server).await;
        self.db
    }

    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("the API answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("a body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            body,
            headers,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.request(reqwest::Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.request(reqwest::Method::POST, path, Some(body), &[])
            .await
    }

    pub async fn patch(&self, path: &str, body: Value, if_match: Option<&str>) -> Answer {
        let headers: Vec<(&str, &str)> = if_match.map(|v| ("if-match", v)).into_iter().collect();
        self.request(reqwest::Method::PATCH, path, Some(body), &headers)
            .await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.request(reqwest::Method::DELETE, path, None, &[]).await
    }

    /// Creates a webhook for `report.publish_status`, all clients, merged with `extra`.
    pub async fn create_webhook(&self, url: &str, extra: Value) -> Value {
        let mut body = json!({"name": "test hook", "url": url, "event": "report.publish_status", "clients": "all"});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let answer = self.post("/webhooks", body).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        answer.body
    }

    /// Sends an event through `POST /events`; returns its id.
    pub async fn send_event(&self, event: Value) -> String {
        let answer = self.post("/events", event).await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
        answer.body["id"].as_str().expect("an event id").to_owned()
    }

    /// The delivery log of a webhook, newest first (one page of up to 100).
    pub async fn logs(&self, webhook_id: &str) -> Vec<Value> {
        let answer = self
            .get(&format!("/webhooks/{webhook_id}/logs?limit=100"))
            .await;
        answer.body["items"].as_array().cloned().unwrap_or_default()
    }

    /// Waits (at most `within`) until the log of `webhook_id` has `count` records.
    pub async fn wait_for_logs(
        &self,
        webhook_id: &str,
        count: usize,
        within: Duration,
    ) -> Vec<Value> {
        let deadline = Instant::now() + within;
        loop {
            let logs = self.logs(webhook_id).await;
            if logs.len() >= count || Instant::now() >= deadline {
                return logs;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A `report.publish_status` event for `client`.
pub fn event(client: &str) -> Value {
    json!({"type": "report.publish_status", "client_id": client, "data": {"report_id": "r-42", "status": "published"}})
}
