//! What keeps a web page from driving `webhooks serve`: the local API has no login by
//! default, so a page a developer opens must not be able to create a webhook or an
//! event (a cross-site `text/plain` POST), nor read the API through DNS rebinding.
//!
//! - A request body must be `application/json` (415 otherwise); bodyless calls pass.
//! - A request a browser marks as coming from another site (`Origin`, or
//!   `Sec-Fetch-Site: cross-site|same-site`) is refused (403) unless its origin is
//!   configured; following a link to the console (a navigation) is not refused.
//! - When serving on loopback, the `Host` must be the bound address, a loopback name,
//!   or a configured host (421 otherwise): a rebound DNS name is not.
//! - CORS preflights are answered only for configured origins.
//!
//! curl, the CLI and the console (same origin) send none of what is refused.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use webhooks_core::http::{declared_body_length, ApiError};

/// Who may talk to this server besides same-origin pages and non-browser clients.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BrowserPolicy {
    /// The address the server listens on.
    pub bound: Option<SocketAddr>,
    /// Origins (`https://console.example:8443`) allowed to call across sites
    /// (`WEBHOOKS_ALLOWED_ORIGINS`).
    pub allowed_origins: Vec<String>,
    /// Further `Host` values accepted on loopback (`WEBHOOKS_ALLOWED_HOSTS`).
    pub allowed_hosts: Vec<String>,
}

impl BrowserPolicy {
    /// Parses the two comma-separated lists; the error names the bad entry.
    pub fn from_lists(origins: &str, hosts: &str) -> Result<Self, String> {
        let allowed_origins = split(origins)
            .map(|origin| {
                let bare = origin.trim_end_matches('/');
                let ok = (bare.starts_with("http://") || bare.starts_with("https://"))
                    && !bare["https://".len().min(bare.len())..].contains('/');
                ok.then(|| bare.to_ascii_lowercase()).ok_or_else(|| {
                    format!("WEBHOOKS_ALLOWED_ORIGINS: {origin:?} is not an origin like https://host:port")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let allowed_hosts = split(hosts).map(str::to_ascii_lowercase).collect();
        Ok(Self {
            bound: None,
            allowed_origins,
            allowed_hosts,
        })
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        let origin = origin.to_ascii_lowercase();
        self.allowed_origins.contains(&origin)
    }

    /// Whether a `Host` header names this server: always unless it listens on
    /// loopback only (then a rebound DNS name would be read as ours).
    fn host_allowed(&self, host: Option<&str>) -> bool {
        let Some(bound) = self.bound.filter(|b| b.ip().is_loopback()) else {
            return true;
        };
        let Some(host) = host.map(str::to_ascii_lowercase) else {
            return false;
        };
        if self.allowed_hosts.contains(&host) {
            return true;
        }
        let (name, port) = split_host(&host);
        let port_ok = port.map_or(bound.port() == 80, |p| p == bound.port());
        let loopback_name = name == "localhost"
            || name
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        port_ok && loopback_name
    }
}

fn split(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// `host[:port]`, `[v6][:port]` → (host, port).
fn split_host(host: &str) -> (&str, Option<u16>) {
    let split_at = match host.rfind(']') {
        Some(end) => host[end..].find(':').map(|i| end + i),
        None => host.rfind(':'),
    };
    match split_at {
        Some(i) => (&host[..i], host[i + 1..].parse().ok()),
        None => (host, None),
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn has_body(request: &Request) -> bool {
    let headers = request.headers();
    headers.contains_key(header::TRANSFER_ENCODING)
        || declared_body_length(headers).is_some_and(|n| n > 0)
}

fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| v == "application/json" || v.ends_with("+json"))
}

/// Middleware: applies [`BrowserPolicy`] to every request.
pub async fn guard_browsers(
    State(policy): State<Arc<BrowserPolicy>>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    if !policy.host_allowed(header_str(headers, "host")) {
        return ApiError::Misdirected(
            "this server answers only to its own address and loopback names; set WEBHOOKS_ALLOWED_HOSTS to add one"
                .to_owned(),
        )
        .into_response();
    }
    let origin = header_str(headers, "origin").map(str::to_owned);
    let host = header_str(headers, "host").unwrap_or("");
    let same_origin = origin.as_deref().is_some_and(|o| {
        let o = o.to_ascii_lowercase();
        o == format!("http://{}", host.to_ascii_lowercase())
    });
    let allowed_cross = origin.as_deref().is_some_and(|o| policy.origin_allowed(o));
    let fetch_site = header_str(headers, "sec-fetch-site");
    let navigation = header_str(headers, "sec-fetch-mode") == Some("navigate")
        && matches!(*request.method(), Method::GET | Method::HEAD);
    let foreign_origin = origin.is_some() && !same_origin;
    let foreign_site = matches!(fetch_site, Some("cross-site" | "same-site"));

    if request.method() == Method::OPTIONS
        && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        return match (origin, allowed_cross) {
            (Some(origin), true) => preflight(&origin),
            _ => ApiError::Forbidden(
                "cross-origin calls are allowed only from WEBHOOKS_ALLOWED_ORIGINS".to_owned(),
            )
            .into_response(),
        };
    }
    if (foreign_origin || foreign_site) && !allowed_cross && !navigation {
        return ApiError::Forbidden(
            "a page from another site may not call this API; set WEBHOOKS_ALLOWED_ORIGINS to allow one"
                .to_owned(),
        )
        .into_response();
    }
    if has_body(&request) && !is_json(header_str(headers, "content-type")) {
        return ApiError::UnsupportedMediaType(
            "the request body must be JSON: send Content-Type: application/json".to_owned(),
        )
        .into_response();
    }
    let mut response = next.run(request).await;
    if let (Some(origin), true) = (origin, allowed_cross) {
        cors_headers(response.headers_mut(), &origin);
    }
    response
}

fn preflight(origin: &str) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    cors_headers(headers, origin);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, PATCH, DELETE"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("authorization, content-type, if-match"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    response
}

fn cors_headers(headers: &mut HeaderMap, origin: &str) {
    if let Ok(value) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    }
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("etag, location"),
    );
    headers.append(header::VARY, HeaderValue::from_static("origin"));
}

/// `router` behind the guard.
pub fn browser_guarded(router: axum::Router, policy: BrowserPolicy) -> axum::Router {
    router.layer(axum::middleware::from_fn_with_state(
        Arc::new(policy),
        guard_browsers,
    ))
}

#[cfg(test)]
mod tests;
