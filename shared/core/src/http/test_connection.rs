//! The connection-test routes: `POST /webhooks/test` (an unsaved config) and
//! `POST /webhooks/{id}/test` (a saved webhook with its stored secret). A failing
//! endpoint is a failed check in a 200 answer, never an HTTP error.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};

use super::{ApiError, ApiResult, FieldError, JsonObject, Problem, MAX_BODY_BYTES};
use crate::domain::catalogue;
use crate::domain::custom_headers::CustomHeaders;
use crate::domain::ids::WebhookId;
use crate::domain::signing::SigningSecrets;
use crate::domain::time::Clock;
use crate::outbound::GuardedSender;
use crate::ports::{SecretReader, WebhookReader};
use crate::usecases::connection::{
    probe, Check, CheckName, CheckStatus, ConnectionReport, ProbeSettings, ProbeTarget,
};
use crate::usecases::custom_headers::custom_headers;
use crate::usecases::signing_secrets::signing_secrets;

pub struct ConnectionContext {
    pub webhooks: Arc<dyn WebhookReader>,
    pub secrets: Arc<dyn SecretReader>,
    pub clock: Arc<dyn Clock>,
    pub sender: GuardedSender,
    pub settings: ProbeSettings,
}

#[derive(Clone)]
pub struct ConnectionState(Arc<ConnectionContext>);

impl ConnectionState {
    pub fn new(context: ConnectionContext) -> Self {
        Self(Arc::new(context))
    }
}

/// The two `/test` routes (the test-connection function on AWS).
pub fn router(state: ConnectionState) -> Router {
    Router::new()
        .route("/webhooks/test", post(test_unsaved))
        .route("/webhooks/{id}/test", post(test_saved))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES + 1))
        .layer(axum::middleware::from_fn(super::early::refuse_early))
        .with_state(state)
}

/// Test body (documentation of the accepted shape).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TestUnsaved {
    url: String,
    /// Signs the test request when given (16–256 characters). Never stored.
    secret: Option<String>,
    /// The event type whose sample the test request carries.
    event: Option<String>,
}

#[utoipa::path(post, path = "/webhooks/test", tag = "webhooks",
    request_body(content = TestUnsaved, content_type = "application/json"),
    responses((status = 200, description = "The report; a failing endpoint is a failed check", body = ConnectionReport),
        (status = 422, description = "The body is invalid", body = Problem, content_type = "application/problem+json")))]
pub async fn test_unsaved(
    State(state): State<ConnectionState>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<ConnectionReport>> {
    let mut errors = Vec::new();
    let mut url = None;
    let mut secret = None;
    let mut event = None;
    for (key, value) in &body {
        match (key.as_str(), value) {
            ("url", serde_json::Value::String(text)) => url = Some(text.clone()),
            ("url", _) => errors.push(FieldError::new("url", "must be a string")),
            ("secret", serde_json::Value::Null) => {}
            ("secret", serde_json::Value::String(text))
                if super::validate::SECRET_CHARS.contains(&text.chars().count()) =>
            {
                secret = Some(text.clone())
            }
            ("secret", _) => errors.push(FieldError::new("secret", "must be 16–256 characters")),
            ("event", serde_json::Value::Null) => {}
            ("event", serde_json::Value::String(text)) if catalogue::find(text).is_some() => {
                event = Some(text.clone())
            }
            ("event", _) => errors.push(FieldError::new(
                "event",
                "must be an event type from GET /event-types",
            )),
            (unknown, _) => errors.push(FieldError::new(
                unknown,
                "unknown field; known fields: url, secret, event",
            )),
        }
    }
    if url.is_none() && !errors.iter().any(|e| e.field == "url") {
        errors.push(FieldError::new("url", "is required"));
    }
    let (Some(url), true) = (url, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let target = ProbeTarget {
        url: &url,
        secrets: secret.map(|current| SigningSecrets {
            current,
            previous: None,
        }),
        headers: CustomHeaders::default(),
        event_type: event.as_deref(),
        webhook_id: None,
    };
    Ok(Json(
        probe(
            &state.0.sender,
            &state.0.settings,
            target,
            state.0.clock.now(),
        )
        .await,
    ))
}

#[utoipa::path(post, path = "/webhooks/{id}/test", tag = "webhooks",
    params(("id" = String, Path, description = "wh_...")),
    responses((status = 200, description = "The report, signed with the stored secret", body = ConnectionReport),
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json")))]
pub async fn test_saved(
    State(state): State<ConnectionState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<ConnectionReport>> {
    refuse_body_fields(&body)?;
    let context = &state.0;
    let webhook_id = WebhookId::from_trusted(&id);
    let webhook = context
        .webhooks
        .get(&webhook_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("webhook {id}")))?;
    let now = context.clock.now();
    let secrets = signing_secrets(context.secrets.as_ref(), &webhook, now).await?;
    let headers = custom_headers(context.secrets.as_ref(), &webhook).await?;
    let target = ProbeTarget {
        url: &webhook.url,
        secrets,
        headers,
        event_type: Some(&webhook.event),
        webhook_id: Some(&webhook.id),
    };
    Ok(Json(
        probe(&context.sender, &context.settings, target, now).await,
    ))
}

/// The saved webhook's test takes everything from the webhook: a body may be absent
/// or `{}`, and any field in it is refused rather than silently ignored.
fn refuse_body_fields(body: &[u8]) -> ApiResult<()> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(fields)) if fields.is_empty() => Ok(()),
        Ok(serde_json::Value::Object(fields)) => Err(ApiError::Validation(
            fields
                .keys()
                .map(|key| {
                    FieldError::new(
                        key,
                        "unknown field; this test uses the saved webhook (send no body)",
                    )
                })
                .collect(),
        )),
        _ => Err(ApiError::BadRequest {
            detail: "the body must be absent or a JSON object".to_owned(),
            errors: vec![],
        }),
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(test_unsaved, test_saved),
    components(schemas(ConnectionReport, Check, CheckName, CheckStatus))
)]
pub struct ConnectionDoc;
