//! `webhooks listen`: a local receiver that accepts deliveries on any path, checks
//! both signatures when given the secret, prints each delivery, and answers a chosen
//! status (to watch the service retry, or disable a webhook with 410).

mod pretty;
mod render;
mod verify;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::error::CliError;
use crate::output;
use render::Received;
use verify::Verification;

/// Bodies up to this size are accepted (a delivery is at most ~256 KiB).
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, clap::Args)]
pub struct ListenArgs {
    /// Address to listen on (port 0: any free port, printed at start).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9000")]
    pub addr: SocketAddr,

    /// The webhook's signing secret: verify X-Authorization-HMAC-256 and the Standard
    /// Webhooks signature of each delivery.
    #[arg(long, value_name = "SECRET")]
    pub secret: Option<String>,

    /// Print one JSON object per delivery and line instead of the readable form.
    #[arg(long)]
    pub json: bool,

    /// The HTTP status to answer every delivery with.
    #[arg(long, value_name = "CODE", default_value_t = 200,
          value_parser = clap::value_parser!(u16).range(200..=599))]
    pub status: u16,
}

struct Receiver {
    secret: Option<String>,
    json: bool,
    status: StatusCode,
    /// Set when printing failed; the server then shuts down and reports it.
    failure: Mutex<Option<CliError>>,
    stop: Notify,
}

pub async fn run(args: ListenArgs) -> Result<(), CliError> {
    if args.secret.as_deref() == Some("") {
        return Err(CliError::invalid_argument("--secret", "must not be empty"));
    }
    let status = StatusCode::from_u16(args.status)
        .map_err(|_| CliError::invalid_argument("--status", "must be an HTTP status code"))?;
    let listener = TcpListener::bind(args.addr)
        .await
        .map_err(|source| CliError::Bind {
            addr: args.addr,
            source,
        })?;
    let local = listener.local_addr().map_err(|source| CliError::Bind {
        addr: args.addr,
        source,
    })?;

    let receiver = Arc::new(Receiver {
        secret: args.secret,
        json: args.json,
        status,
        failure: Mutex::new(None),
        stop: Notify::new(),
    });
    announce(local, &receiver)?;

    let app = Router::new()
        .fallback(receive)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(Arc::clone(&receiver));
    let shutdown = {
        let receiver = Arc::clone(&receiver);
        async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                () = receiver.stop.notified() => {}
            }
        }
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| CliError::runtime(format!("the listener on {local} failed: {e}")))?;

    let failure = receiver
        .failure
        .lock()
        .map_or(None, |mut failure| failure.take());
    match failure {
        Some(CliError::StdoutClosed) | None => Ok(()),
        Some(error) => Err(error),
    }
}

/// The start banner. With `--json` it goes to stderr, so stdout holds only deliveries.
fn announce(local: SocketAddr, receiver: &Receiver) -> Result<(), CliError> {
    let signatures = if receiver.secret.is_some() {
        "verifying X-Authorization-HMAC-256 and Standard Webhooks signatures with the given secret"
    } else {
        "signatures are shown but not verified (pass --secret to verify them)"
    };
    let text = format!(
        "listening on http://{local} — point a webhook at it (POST to any path)\n\
         {signatures}\n\
         answering {} to every delivery; Ctrl-C to stop\n\n",
        receiver.status
    );
    if receiver.json {
        eprint!("{text}");
        Ok(())
    } else {
        output::emit(&text)
    }
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if method != Method::POST {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "POST")],
            "webhooks listen accepts POST deliveries only\n",
        )
            .into_response();
    }
    let at = chrono::Utc::now();
    let verification = receiver
        .secret
        .as_deref()
        .map(|secret| Verification::check(secret, &headers, &body, at.timestamp()));
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let received = Received {
        at,
        path,
        headers: &headers,
        body: &body,
        verification,
    };
    let text = if receiver.json {
        render::json_line(&received)
    } else {
        render::human(&received)
    };
    if let Err(error) = output::emit(&text) {
        if let Ok(mut failure) = receiver.failure.lock() {
            failure.get_or_insert(error);
        }
        receiver.stop.notify_one();
    }
    receiver.status.into_response()
}
