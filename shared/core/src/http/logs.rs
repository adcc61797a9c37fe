//! The delivery log of a webhook, one delivery's attempts, and redelivery.

use std::time::Duration;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;

use super::problem::{ApiError, ApiResult, Problem};
use super::query::{encode_cursor, QueryParams};
use super::webhooks::load;
use super::ApiState;
use crate::domain::delivery_log::{DeliveryLogRecord, LoggedAttempt, Outcome};
use crate::domain::ids::{DeliveryId, WebhookId};
use crate::domain::task::DeliveryTask;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LogPage {
    pub items: Vec<DeliveryLogRecord>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryAttempts {
    #[schema(value_type = String)]
    pub delivery_id: DeliveryId,
    #[schema(value_type = String)]
    pub webhook_id: WebhookId,
    pub attempts: Vec<DeliveryLogRecord>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Redelivery {
    #[schema(value_type = String)]
    pub delivery_id: DeliveryId,
    /// The attempt number the redelivery will make.
    pub attempt: u32,
}

#[utoipa::path(get, path = "/webhooks/{id}/logs", tag = "logs",
    params(("id" = String, Path, description = "wh_..."),
        ("outcome" = Option<Outcome>, Query, description = "Only attempts with this outcome"),
        ("limit" = Option<usize>, Query, description = "1–100, default 50"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page")),
    responses((status = 200, description = "Attempts, newest first", body = LogPage),
        (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook and no log", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<LogPage>> {
    let params = QueryParams::parse(raw.as_deref(), &["outcome", "limit", "cursor"])?;
    let outcome = match params.text("outcome") {
        None => None,
        Some(text) => Some(Outcome::parse(text).ok_or_else(|| {
            let names: Vec<_> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
            ApiError::bad_query("outcome", format!("must be one of {}", names.join(", ")))
        })?),
    };
    let webhook_id = WebhookId::from_trusted(&id);
    let page = state
        .logs
        .list(
            &webhook_id,
            outcome,
            params.limit()?,
            params.cursor()?.as_deref(),
        )
        .await?;
    // A deleted webhook's log stays readable; an id that never had either is a 404.
    if page.items.is_empty() && state.webhooks.get(&webhook_id).await?.is_none() {
        return Err(ApiError::NotFound(format!("webhook {id}")));
    }
    Ok(Json(LogPage {
        items: page.items.into_iter().map(|a| a.record).collect(),
        next_cursor: page.next_cursor.as_deref().map(encode_cursor),
    }))
}

async fn attempts_of(
    state: &ApiState,
    id: &str,
    delivery_id: &str,
) -> ApiResult<Vec<LoggedAttempt>> {
    let attempts = state
        .logs
        .attempts(
            &WebhookId::from_trusted(id),
            &DeliveryId::from_trusted(delivery_id),
        )
        .await?;
    if attempts.is_empty() {
        return Err(ApiError::NotFound(format!(
            "delivery {delivery_id} of webhook {id}"
        )));
    }
    Ok(attempts)
}

#[utoipa::path(get, path = "/webhooks/{id}/logs/{delivery_id}", tag = "logs",
    params(("id" = String, Path, description = "wh_..."), ("delivery_id" = String, Path, description = "dlv_...")),
    responses((status = 200, description = "Every attempt, in order", body = DeliveryAttempts),
        (status = 404, description = "No such delivery", body = Problem, content_type = "application/problem+json")))]
pub async fn delivery(
    State(state): State<ApiState>,
    Path((id, delivery_id)): Path<(String, String)>,
) -> ApiResult<Json<DeliveryAttempts>> {
    let attempts = attempts_of(&state, &id, &delivery_id).await?;
    Ok(Json(DeliveryAttempts {
        delivery_id: DeliveryId::from_trusted(delivery_id),
        webhook_id: WebhookId::from_trusted(id),
        attempts: attempts.into_iter().map(|a| a.record).collect(),
    }))
}

#[utoipa::path(post, path = "/webhooks/{id}/logs/{delivery_id}/redeliver", tag = "logs",
    params(("id" = String, Path, description = "wh_..."), ("delivery_id" = String, Path, description = "dlv_...")),
    responses((status = 202, description = "Queued: a new attempt series with the same delivery id", body = Redelivery),
        (status = 404, description = "No such webhook or delivery", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The webhook is disabled, or a retry is already scheduled", body = Problem, content_type = "application/problem+json")))]
pub async fn redeliver(
    State(state): State<ApiState>,
    Path((id, delivery_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<Redelivery>)> {
    let webhook = load(&state, &id).await?;
    let attempts = attempts_of(&state, &id, &delivery_id).await?;
    let Some(last) = attempts.iter().max_by_key(|a| a.record.attempt) else {
        return Err(ApiError::NotFound(format!(
            "delivery {delivery_id} of webhook {id}"
        )));
    };
    if !webhook.enabled {
        return Err(ApiError::Conflict(format!(
            "webhook {id} is disabled; enable it before redelivering"
        )));
    }
    if last.record.outcome == Outcome::Retrying {
        let when = last
            .record
            .next_attempt_at
            .map(|t| t.to_string())
            .unwrap_or_default();
        return Err(ApiError::Conflict(format!(
            "delivery {delivery_id} already has a retry scheduled at {when}"
        )));
    }
    let attempt = last.record.attempt + 1;
    let task = DeliveryTask {
        delivery_id: last.record.delivery_id.clone(),
        webhook_id: webhook.id.clone(),
        event: last.event(),
        attempt,
        series_start: attempt,
        not_before: None,
    };
    state.queue.enqueue(&task, Duration::ZERO).await?;
    tracing::info!(webhook_id = %webhook.id, delivery_id = %task.delivery_id, attempt, "redelivery queued");
    Ok((
        StatusCode::ACCEPTED,
        Json(Redelivery {
            delivery_id: task.delivery_id,
            attempt,
        }),
    ))
}
