//! The outbound HTTP sender every delivery and connection test uses: it resolves a
//! host once, refuses unless every address is allowed, and connects only to the
//! checked addresses (reqwest asks our resolver, and no one else, for them). Redirects
//! are never followed and proxies from the environment are never used.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use url::Url;

use super::guard::{OutboundPolicy, Refusal};
use crate::domain::delivery_log::MAX_RESPONSE_EXCERPT;
use crate::domain::retry::parse_retry_after;
use crate::ports::BoxError;

pub const USER_AGENT: &str = concat!("webhooks/", env!("CARGO_PKG_VERSION"));

/// One POST to make.
#[derive(Clone, Debug)]
pub struct OutboundRequest {
    pub url: Url,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub timeout: Duration,
}

/// What came back.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboundResponse {
    pub status: u16,
    pub location: Option<String>,
    pub retry_after: Option<Duration>,
    pub excerpt: String,
    pub elapsed: Duration,
    /// The address the request went to.
    pub remote_addr: Option<SocketAddr>,
    pub tls: bool,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SendError {
    #[error("{0}")]
    Refused(Refusal),
    #[error("DNS lookup failed: {0}")]
    Dns(String),
    #[error("timeout after {}", describe_duration(*.0))]
    Timeout(Duration),
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("request failed: {0}")]
    Failed(String),
}

impl SendError {
    /// Whether the refusal comes from an address check (DNS may change, so such a
    /// delivery is retried) rather than from the URL's form.
    pub fn is_address_refusal(&self) -> bool {
        matches!(self, SendError::Refused(Refusal::Address { .. }))
    }
}

pub fn describe_duration(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{} ms", duration.as_millis())
    }
}

pub use crate::ports::HttpSender;

/// The production sender, guarded by an [`OutboundPolicy`].
#[derive(Clone)]
pub struct GuardedSender {
    policy: Arc<OutboundPolicy>,
    client: reqwest::Client,
}

impl GuardedSender {
    pub fn new(policy: OutboundPolicy) -> Result<Self, SendError> {
        let policy = Arc::new(policy);
        let client = base_client()
            .dns_resolver(Arc::new(GuardedResolver {
                policy: policy.clone(),
            }))
            .build()
            .map_err(|e| SendError::Failed(e.to_string()))?;
        Ok(Self { policy, client })
    }

    pub fn policy(&self) -> &OutboundPolicy {
        &self.policy
    }

    /// Sends to exactly `addrs`, already resolved and checked by the caller (the
    /// connection test reports those steps itself). A one-off client: no pooling.
    pub async fn post_pinned(
        &self,
        request: OutboundRequest,
        addrs: &[SocketAddr],
    ) -> Result<OutboundResponse, SendError> {
        let host = request
            .url
            .host_str()
            .ok_or(SendError::Refused(Refusal::NoHost))?
            .to_owned();
        let client = base_client()
            .resolve_to_addrs(&host, addrs)
            .build()
            .map_err(|e| SendError::Failed(e.to_string()))?;
        send(&client, request).await
    }
}

fn base_client() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(USER_AGENT)
        .pool_idle_timeout(Duration::from_secs(60))
        .tcp_nodelay(true)
}

#[async_trait]
impl HttpSender for GuardedSender {
    async fn post(&self, request: OutboundRequest) -> Result<OutboundResponse, SendError> {
        // Literal addresses never reach the resolver, so the URL check covers them.
        self.policy
            .check_url(request.url.as_str())
            .map_err(SendError::Refused)?;
        send(&self.client, request).await
    }
}

async fn send(
    client: &reqwest::Client,
    request: OutboundRequest,
) -> Result<OutboundResponse, SendError> {
    let timeout = request.timeout;
    let tls = request.url.scheme() == "https";
    let mut builder = client.post(request.url).timeout(timeout).body(request.body);
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let started = Instant::now();
    let mut response = builder.send().await.map_err(|e| classify(&e, timeout))?;
    let header = |name: reqwest::header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let location = header(reqwest::header::LOCATION);
    let retry_after = header(reqwest::header::RETRY_AFTER).and_then(|v| parse_retry_after(&v));
    let status = response.status().as_u16();
    let remote_addr = response.remote_addr();
    let mut body = Vec::new();
    while body.len() < MAX_RESPONSE_EXCERPT {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break,
            // The status already arrived; a body cut short does not undo it.
            Err(_) => break,
        }
    }
    Ok(OutboundResponse {
        status,
        location,
        retry_after,
        excerpt: crate::domain::delivery_log::excerpt(&body),
        elapsed: started.elapsed(),
        remote_addr,
        tls,
    })
}

fn classify(error: &reqwest::Error, timeout: Duration) -> SendError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(resolve) = current.downcast_ref::<ResolveError>() {
            return match resolve {
                ResolveError::Refused(refusal) => SendError::Refused(refusal.clone()),
                ResolveError::Lookup(message) => SendError::Dns(message.clone()),
            };
        }
        source = current.source();
    }
    if error.is_timeout() {
        SendError::Timeout(timeout)
    } else if error.is_connect() {
        SendError::Connect(root_cause(error))
    } else {
        SendError::Failed(root_cause(error))
    }
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

#[derive(Debug, thiserror::Error)]
enum ResolveError {
    #[error("{0}")]
    Refused(Refusal),
    #[error("{0}")]
    Lookup(String),
}

/// Resolves a host once and returns its addresses only if every one is allowed.
pub async fn resolve_checked(
    policy: &OutboundPolicy,
    host: &str,
) -> Result<Vec<IpAddr>, SendError> {
    let addrs = resolve(host).await.map_err(SendError::Dns)?;
    for addr in &addrs {
        policy.check_addr(*addr).map_err(SendError::Refused)?;
    }
    Ok(addrs)
}

/// One DNS lookup of `host`.
pub async fn resolve(host: &str) -> Result<Vec<IpAddr>, String> {
    let found = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|e| format!("{host}: {e}"))?;
    let mut addrs: Vec<IpAddr> = found.map(|sa| sa.ip()).collect();
    addrs.dedup();
    if addrs.is_empty() {
        return Err(format!("{host} has no address"));
    }
    Ok(addrs)
}

struct GuardedResolver {
    policy: Arc<OutboundPolicy>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let addrs = resolve(name.as_str())
                .await
                .map_err(|m| -> BoxError { Box::new(ResolveError::Lookup(m)) })?;
            for addr in &addrs {
                policy
                    .check_addr(*addr)
                    .map_err(|refusal| -> BoxError { Box::new(ResolveError::Refused(refusal)) })?;
            }
            let socket_addrs: Vec<SocketAddr> =
                addrs.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect();
            Ok(Box::new(socket_addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}
