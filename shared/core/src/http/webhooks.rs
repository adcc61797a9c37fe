//! `/webhooks` CRUD.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use super::body::JsonObject;
use super::problem::{ApiError, ApiResult, Problem};
use super::query::{encode_cursor, QueryParams};
use super::validate;
use super::ApiState;
use crate::domain::catalogue;
use crate::domain::ids::WebhookId;
use crate::domain::webhook::{Webhook, WebhookView};
use crate::ports::WebhookFilter;
use crate::usecases::admin::{Changed, WebhookAdmin};

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
    clients: crate::domain::webhook::ClientScope,
    /// 16–256 characters, or `"generate"`. Write-only.
    secret: Option<String>,
    enabled: Option<bool>,
    /// Requests a second at most (deliveries beyond it wait; none is dropped);
    /// `null` or absent: no limit.
    #[schema(minimum = 1, maximum = 10000)]
    rate_limit_per_second: Option<u32>,
    /// Custom headers sent with every delivery and connection test: up to 10 names
    /// (HTTP tokens of at most 64 characters, not a reserved name) to values (visible
    /// ASCII and spaces, at most 1,024 bytes). Write-only: responses list only
    /// `header_names`. `null` or absent: none.
    headers: Option<std::collections::BTreeMap<String, String>>,
}

/// Update body: any subset of the create fields; `"secret": null` removes the secret,
/// `"rate_limit_per_second": null` the rate limit, `"headers": null` the custom headers.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UpdateWebhook {
    name: Option<String>,
    url: Option<String>,
    event: Option<String>,
    clients: Option<crate::domain::webhook::ClientScope>,
    secret: Option<String>,
    enabled: Option<bool>,
    #[schema(minimum = 1, maximum = 10000)]
    rate_limit_per_second: Option<u32>,
    /// The whole new set of custom headers (it replaces the old set; the values of
    /// headers kept must be given again); `null` removes them. Write-only.
    headers: Option<std::collections::BTreeMap<String, String>>,
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

/// The admin use case on this API's stores.
fn admin(state: &ApiState) -> WebhookAdmin<'_> {
    WebhookAdmin {
        webhooks: state.webhooks.as_ref(),
        secrets: state.secrets.as_ref(),
        clock: state.clock.as_ref(),
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
    let fields = validate::create(&body, &state.policy)?;
    let Changed {
        webhook,
        generated_secret,
    } = admin(&state).create(fields).await?;
    let id = &webhook.id;
    let mut response = with_etag(
        &webhook,
        WebhookWithSecret {
            webhook: webhook.view(),
            secret: generated_secret,
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
    let client = params.text("client").map(str::to_owned);
    if client
        .as_ref()
        .is_some_and(|id| id.chars().count() > validate::MAX_CLIENT_ID_CHARS)
    {
        return Err(ApiError::bad_query(
            "client",
            format!(
                "must be a client id of 1–{} characters",
                validate::MAX_CLIENT_ID_CHARS
            ),
        ));
    }
    let filter = WebhookFilter {
        event,
        client,
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
    // `*` matches any current version (RFC 9110, 13.1.1): no version to check.
    if text == "*" {
        return Ok(None);
    }
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
    let Changed {
        webhook,
        generated_secret,
    } = admin(&state)
        .update(&WebhookId::from_trusted(&id), fields, expected)
        .await?;
    Ok(with_etag(
        &webhook,
        WebhookWithSecret {
            webhook: webhook.view(),
            secret: generated_secret,
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
    admin(&state).delete(&WebhookId::from_trusted(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
