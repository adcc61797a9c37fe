//! `/webhooks` CRUD.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use super::body::JsonObject;
use super::problem::{ApiError, ApiResult, Problem};
use super::query::{encode_cursor, QueryParams};
use super::validate::{self, SecretChange, WebhookFields};
use super::ApiState;
use crate::catalogue;
use crate::ids::WebhookId;
use crate::ports::{StoreError, WebhookFilter};
use crate::signing::generate_secret;
use crate::time::Timestamp;
use crate::webhook::{Webhook, WebhookView};

/// A webhook as returned by create and update; `secret` only when the service
/// generated one, in this response only.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: WebhookView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookPage {
    pub items: Vec<WebhookView>,
    pub next_cursor: Option<String>,
}

/// Create body (documentation of the accepted shape; parsing is field-by-field).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct CreateWebhook {
    /// 1–128 characters.
    name: String,
    url: String,
    /// An event type id from `GET /event-types`.
    event: String,
    /// `"all"` or 1–100 client ids.
    clients: crate::webhook::ClientScope,
    /// 16–256 characters, or `"generate"`. Write-only.
    secret: Option<String>,
    enabled: Option<bool>,
}

/// Update body: any subset of the create fields; `"secret": null` removes the secret.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UpdateWebhook {
    name: Option<String>,
    url: Option<String>,
    event: Option<String>,
    clients: Option<crate::webhook::ClientScope>,
    secret: Option<String>,
    enabled: Option<bool>,
}

fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

fn with_etag(webhook: &Webhook, body: impl Serialize) -> Response {
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::ETAG, etag(webhook.version));
    response
}

pub(super) async fn load(state: &ApiState, id: &str) -> ApiResult<Webhook> {
    state
        .webhooks
        .get(&WebhookId::from_trusted(id))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("webhook {id}")))
}

async fn apply_secret(
    state: &ApiState,
    id: &WebhookId,
    change: &SecretChange,
    now: Timestamp,
) -> ApiResult<(Option<String>, Option<String>)> {
    match change {
        SecretChange::Set(secret) => Ok((Some(state.secrets.put(id, secret, now).await?), None)),
        SecretChange::Generate => {
            let secret = generate_secret();
            let reference = state.secrets.put(id, &secret, now).await?;
            Ok((Some(reference), Some(secret)))
        }
        SecretChange::Remove => {
            state.secrets.remove(id).await?;
            Ok((None, None))
        }
    }
}

#[utoipa::path(post, path = "/webhooks", tag = "webhooks",
    request_body(content = CreateWebhook, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = WebhookWithSecret,
         headers(("Location" = String, description = "/webhooks/{id}"))),
        (status = 422, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 256 KiB", body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(state): State<ApiState>,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let WebhookFields {
        name,
        url,
        event,
        clients,
        secret,
        enabled,
    } = validate::create(&body, &state.policy)?;
    let (Some(name), Some(url), Some(event), Some(clients)) = (name, url, event, clients) else {
        return Err(ApiError::internal(
            "validated create body lacks a required field",
        ));
    };
    let now = state.clock.now();
    let id = WebhookId::generate();
    let (secret_ref, revealed) = match &secret {
        Some(change) => apply_secret(&state, &id, change, now).await?,
        None => (None, None),
    };
    let webhook = Webhook {
        id: id.clone(),
        name,
        url,
        event,
        clients,
        enabled: enabled.unwrap_or(true),
        secret_ref,
        disabled_reason: None,
        version: 1,
        created_at: now,
        updated_at: now,
        failing_since: None,
    };
    if let Err(error) = state.webhooks.insert(&webhook).await {
        if webhook.secret_ref.is_some() {
            let _ = state.secrets.remove(&id).await;
        }
        return Err(error.into());
    }
    tracing::info!(webhook_id = %id, event = %webhook.event, "webhook created");
    let mut response = with_etag(
        &webhook,
        WebhookWithSecret {
            webhook: webhook.view(),
            secret: revealed,
        },
    );
    *response.status_mut() = StatusCode::CREATED;
    if let Ok(location) = HeaderValue::from_str(&format!("/webhooks/{id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

#[utoipa::path(get, path = "/webhooks", tag = "webhooks",
    params(
        ("event" = Option<String>, Query, description = "Only webhooks of this event type"),
        ("client" = Option<String>, Query, description = "Only webhooks that receive this client's events"),
        ("enabled" = Option<bool>, Query, description = "Only enabled (true) or disabled (false) webhooks"),
        ("limit" = Option<usize>, Query, description = "1–100, default 50"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page")),
    responses((status = 200, description = "One page, ordered by id", body = WebhookPage),
        (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<ApiState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<WebhookPage>> {
    let params = QueryParams::parse(
        raw.as_deref(),
        &["event", "client", "enabled", "limit", "cursor"],
    )?;
    let event = params.text("event").map(str::to_owned);
    if let Some(event) = &event {
        if catalogue::find(event).is_none() {
            return Err(ApiError::bad_query(
                "event",
                format!("unknown event type {event:?}"),
            ));
        }
    }
    let filter = WebhookFilter {
        event,
        client: params.text("client").map(str::to_owned),
        enabled: params.boolean("enabled")?,
    };
    let page = state
        .webhooks
        .list(&filter, params.limit()?, params.cursor()?.as_deref())
        .await?;
    Ok(Json(WebhookPage {
        items: page.items.iter().map(Webhook::view).collect(),
        next_cursor: page.next_cursor.as_deref().map(encode_cursor),
    }))
}

#[utoipa::path(get, path = "/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "wh_...")),
    responses((status = 200, description = "The webhook", body = WebhookView, headers(("ETag" = String, description = "\"<version>\""))),
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json")))]
pub async fn get(State(state): State<ApiState>, Path(id): Path<String>) -> ApiResult<Response> {
    let webhook = load(&state, &id).await?;
    Ok(with_etag(&webhook, webhook.view()))
}

fn if_match(headers: &HeaderMap) -> ApiResult<Option<u64>> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("").trim();
    let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    text.parse::<u64>()
        .map(Some)
        .map_err(|_| ApiError::BadRequest {
            detail: "If-Match must be a webhook version, e.g. \"3\"".to_owned(),
            errors: vec![super::problem::FieldError::new(
                "If-Match",
                "must be a version number",
            )],
        })
}

fn mismatch(current: u64, expected: u64) -> ApiError {
    ApiError::PreconditionFailed {
        detail: format!(
            "the webhook is at version {current}; If-Match asked for version {expected}"
        ),
    }
}

#[utoipa::path(patch, path = "/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "wh_..."),
        ("If-Match" = Option<String>, Header, description = "Apply only if the webhook is at this version")),
    request_body(content = UpdateWebhook, content_type = "application/json"),
    responses((status = 200, description = "Updated", body = WebhookWithSecret),
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The version did not match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid", body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let expected = if_match(&headers)?;
    let fields = validate::update(&body, &state.policy)?;
    let current = load(&state, &id).await?;
    if let Some(expected) = expected {
        if expected != current.version {
            return Err(mismatch(current.version, expected));
        }
    }
    let now = state.clock.now();
    let mut updated = current.clone();
    let mut revealed = None;
    if let Some(change) = &fields.secret {
        let (secret_ref, generated) = apply_secret(&state, &current.id, change, now).await?;
        updated.secret_ref = secret_ref;
        revealed = generated;
    }
    if let Some(name) = fields.name {
        updated.name = name;
    }
    if let Some(url) = fields.url {
        updated.url = url;
    }
    if let Some(event) = fields.event {
        updated.event = event;
    }
    if let Some(clients) = fields.clients {
        updated.clients = clients;
    }
    if let Some(enabled) = fields.enabled {
        if enabled && !current.enabled {
            // Re-enabling starts afresh: no reason, no failure run.
            updated.disabled_reason = None;
            updated.failing_since = None;
        }
        if !enabled && current.enabled {
            updated.disabled_reason = None;
        }
        updated.enabled = enabled;
    }
    updated.version = current.version + 1;
    updated.updated_at = now;
    match state.webhooks.replace(&updated, current.version).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => {
            let fresh = load(&state, &id).await?;
            return Err(mismatch(fresh.version, expected.unwrap_or(current.version)));
        }
        Err(StoreError::NotFound) => return Err(ApiError::NotFound(format!("webhook {id}"))),
        Err(other) => return Err(other.into()),
    }
    tracing::info!(webhook_id = %updated.id, version = updated.version, "webhook updated");
    Ok(with_etag(
        &updated,
        WebhookWithSecret {
            webhook: updated.view(),
            secret: revealed,
        },
    ))
}

#[utoipa::path(delete, path = "/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "wh_...")),
    responses((status = 204, description = "Deleted; its secret is scheduled for deletion"),
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let webhook_id = WebhookId::from_trusted(&id);
    let removed = state
        .webhooks
        .delete(&webhook_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("webhook {id}")))?;
    if removed.secret_ref.is_some() {
        state.secrets.remove(&webhook_id).await?;
    }
    tracing::info!(webhook_id = %webhook_id, "webhook deleted");
    Ok(StatusCode::NO_CONTENT)
}
