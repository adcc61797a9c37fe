//! What the client commands (`send`, `logs`, `test`) share: where the API is, how
//! requests are authenticated (`crate::auth`), and turning every failure (no answer,
//! an error answer) into one readable line.

use std::time::Duration;

use reqwest::{RequestBuilder, StatusCode, Url};
use serde_json::Value;

use crate::auth::{Auth, AUTH_ENV};
use crate::error::CliError;

/// The environment variable holding the bearer token `webhooks serve --token` expects.
pub const TOKEN_ENV: &str = "WEBHOOKS_API_TOKEN";

const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The `--api`, `--auth` and `--region` flags, shared by the commands that call the API.
#[derive(Debug, Clone, clap::Args)]
pub struct ApiArgs {
    /// Base URL of the webhooks API (`webhooks serve`, or a stack's `ApiUrl`).
    #[arg(
        long = "api",
        value_name = "URL",
        env = "WEBHOOKS_API",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: String,

    /// How to authenticate: `sigv4` (AWS credentials), `bearer` (WEBHOOKS_API_TOKEN) or
    /// `none`. Default: SigV4 for an API on *.amazonaws.com when no token is set, else
    /// the bearer token when one is set, else none.
    #[arg(long = "auth", value_name = "sigv4|bearer|none", env = AUTH_ENV)]
    pub auth: Option<String>,

    /// The AWS region to sign for (SigV4). Default: the API host's
    /// (`<id>.execute-api.<region>.amazonaws.com`), else AWS_REGION.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

/// A client of the webhooks HTTP API.
#[derive(Debug)]
pub struct ApiClient {
    base: Url,
    /// The base URL as the user wrote it, for messages.
    shown: String,
    auth: Auth,
    http: reqwest::Client,
}

impl ApiClient {
    /// The client for `--api`, authenticated as `--auth` (or the default rule) says,
    /// with the token from `WEBHOOKS_API_TOKEN` when set.
    pub async fn from_args(args: &ApiArgs) -> Result<Self, CliError> {
        let token = std::env::var(TOKEN_ENV)
            .ok()
            .filter(|token| !token.trim().is_empty());
        let base = parse_base(&args.url)?;
        let host = base.host_str().unwrap_or_default().to_owned();
        let auth =
            Auth::resolve(args.auth.as_deref(), &host, token, args.region.as_deref()).await?;
        Self::new(&args.url, auth)
    }

    pub fn new(base: &str, auth: Auth) -> Result<Self, CliError> {
        let shown = base.trim_end_matches('/').to_owned();
        let parsed = parse_base(base)?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("webhooks-cli/", env!("CARGO_PKG_VERSION")))
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| CliError::runtime(format!("cannot set up the HTTP client: {e}")))?;
        Ok(Self {
            base: parsed,
            shown,
            auth,
            http,
        })
    }

    /// `{base}/{segments...}?{query}`; each segment is percent-encoded, so an id can
    /// never change the path.
    pub fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    pub async fn get(&self, segments: &[&str], query: &[(&str, &str)]) -> Result<Value, CliError> {
        self.call(self.http.get(self.url(segments, query))).await
    }

    pub async fn post(&self, segments: &[&str], body: &Value) -> Result<Value, CliError> {
        self.call(self.http.post(self.url(segments, &[])).json(body))
            .await
    }

    /// Sends a request, authenticated, and returns its JSON answer (`null` for an
    /// empty one).
    async fn call(&self, request: RequestBuilder) -> Result<Value, CliError> {
        let request = match &self.auth {
            Auth::Bearer(token) => request.bearer_auth(token),
            Auth::None | Auth::SigV4(_) => request,
        };
        let mut request = request
            .build()
            .map_err(|e| CliError::runtime(format!("cannot build the request: {e}")))?;
        if let Auth::SigV4(signer) = &self.auth {
            signer.sign(&mut request).await?;
        }
        let response = self
            .http
            .execute(request)
            .await
            .map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(&e))?;
        if !status.is_success() {
            let mut message = render_problem(status, &body);
            let host = self.base.host_str().unwrap_or_default();
            if let Some(hint) = self.auth.hint(status.as_u16(), host) {
                message.push_str(hint);
            }
            return Err(CliError::Api(message));
        }
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&body).map_err(|_| {
            CliError::runtime(format!(
                "the webhooks API at {} answered {status} with a body that is not JSON: {}",
                self.shown,
                excerpt(&body)
            ))
        })
    }

    fn transport_error(&self, error: &reqwest::Error) -> CliError {
        if error.is_connect() {
            CliError::Unreachable {
                url: self.shown.clone(),
            }
        } else if error.is_timeout() {
            CliError::runtime(format!(
                "the webhooks API at {} did not answer within {} s",
                self.shown,
                REQUEST_TIMEOUT.as_secs()
            ))
        } else {
            CliError::runtime(format!(
                "request to the webhooks API at {} failed: {error}",
                self.shown
            ))
        }
    }
}

/// `--api` as a base URL: http or https.
fn parse_base(base: &str) -> Result<Url, CliError> {
    let parsed = Url::parse(base.trim_end_matches('/'))
        .map_err(|e| CliError::invalid_argument("--api", format!("{base:?} is not a URL ({e})")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.cannot_be_a_base() {
        return Err(CliError::invalid_argument(
            "--api",
            format!("{base:?} is not an http or https URL"),
        ));
    }
    Ok(parsed)
}

/// An error answer on one line: `<title> (<status>): <detail>; <field>: <message>, ...`.
/// A body that is not problem+json is shown as the status and a short excerpt.
pub fn render_problem(status: StatusCode, body: &[u8]) -> String {
    let reason = status.canonical_reason().unwrap_or("Error");
    let Ok(Value::Object(problem)) = serde_json::from_slice::<Value>(body) else {
        let text = excerpt(body);
        return if text.is_empty() {
            format!("{reason} ({})", status.as_u16())
        } else {
            format!("{reason} ({}): {text}", status.as_u16())
        };
    };
    let title = problem
        .get("title")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .unwrap_or(reason);
    let code = problem
        .get("status")
        .and_then(Value::as_u64)
        .unwrap_or(u64::from(status.as_u16()));
    let mut parts = Vec::new();
    if let Some(detail) = problem
        .get("detail")
        .and_then(Value::as_str)
        .filter(|d| !d.is_empty())
    {
        parts.push(detail.to_owned());
    }
    let fields: Vec<String> = problem
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|error| {
            let field = error.get("field").and_then(Value::as_str).unwrap_or("?");
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("invalid");
            format!("{field}: {message}")
        })
        .collect();
    // The API's detail often is the field errors already: say them once.
    let fields = fields.join(", ");
    if !fields.is_empty() && parts.first() != Some(&fields) {
        parts.push(fields);
    }
    if parts.is_empty() {
        format!("{title} ({code})")
    } else {
        format!("{title} ({code}): {}", parts.join("; "))
    }
}

/// At most 200 characters of a body, on one line.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_problem_with_detail_and_field_errors_is_one_line() {
        let body = json!({"type": "about:blank", "title": "Unprocessable Content", "status": 422,
            "detail": "the request body is invalid",
            "errors": [{"field": "url", "message": "must be https"},
                       {"field": "name", "message": "is required"}]});
        assert_eq!(
            render_problem(StatusCode::UNPROCESSABLE_ENTITY, body.to_string().as_bytes()),
            "Unprocessable Content (422): the request body is invalid; url: must be https, name: is required"
        );
    }

    #[test]
    fn a_detail_that_is_the_field_errors_is_said_once() {
        let message = "type: unknown event type \"nope\"";
        let body = json!({"title": "Invalid request", "status": 422, "detail": message,
            "errors": [{"field": "type", "message": "unknown event type \"nope\""}]});
        assert_eq!(
            render_problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                body.to_string().as_bytes()
            ),
            format!("Invalid request (422): {message}")
        );
    }

    #[test]
    fn a_problem_without_field_errors_ends_at_its_detail() {
        let body = json!({"title": "Not Found", "status": 404, "detail": "no webhook wh_1"});
        assert_eq!(
            render_problem(StatusCode::NOT_FOUND, body.to_string().as_bytes()),
            "Not Found (404): no webhook wh_1"
        );
    }

    #[test]
    fn a_body_that_is_not_a_problem_shows_the_status_and_an_excerpt() {
        assert_eq!(
            render_problem(StatusCode::BAD_GATEWAY, b"<html>\n upstream down\n</html>"),
            "Bad Gateway (502): <html> upstream down </html>"
        );
        assert_eq!(
            render_problem(StatusCode::INTERNAL_SERVER_ERROR, b""),
            "Internal Server Error (500)"
        );
    }

    #[test]
    fn urls_keep_the_base_path_and_encode_segments() {
        let client = ApiClient::new("http://127.0.0.1:8080/base/", Auth::None).unwrap();
        let url = client.url(
            &["webhooks", "wh_1/../x?y", "logs"],
            &[("outcome", "failed")],
        );
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8080/base/webhooks/wh_1%2F..%2Fx%3Fy/logs?outcome=failed"
        );
    }

    #[test]
    fn a_bad_api_url_is_a_usage_error_naming_the_flag() {
        let err = ApiClient::new("not a url", Auth::None).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().starts_with("--api: "));
        assert!(ApiClient::new("ftp://example.com", Auth::None).is_err());
    }
}
