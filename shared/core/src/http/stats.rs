//! `GET /webhooks/{id}/stats`: a webhook's health over a window, from its stored
//! tallies (one read of the window's buckets and one of its latest times).

use axum::extract::{Path, RawQuery, State};
use axum::Json;

use super::problem::{ApiError, ApiResult, Problem};
use super::query::QueryParams;
use super::webhooks::load;
use super::ApiState;
use crate::domain::health::{report, WebhookStats, Window};

#[utoipa::path(get, path = "/webhooks/{id}/stats", tag = "logs",
    params(("id" = String, Path, description = "wh_..."),
        ("window" = Option<String>, Query, description = "1h (24 buckets of 2.5 minutes), 24h (24 of an hour, the default) or 7d (7 UTC days)")),
    responses((status = 200, description = "The webhook's attempts over the window", body = WebhookStats),
        (status = 400, description = "A bad window", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json")))]
pub async fn stats(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<WebhookStats>> {
    let params = QueryParams::parse(raw.as_deref(), &["window"])?;
    let window = match params.text("window") {
        None => Window::default(),
        Some(text) => Window::parse(text).ok_or_else(|| {
            let names: Vec<_> = Window::ALL.iter().map(|w| w.as_str()).collect();
            ApiError::bad_query("window", format!("must be one of {}", names.join(", ")))
        })?,
    };
    let webhook = load(&state, &id).await?;
    let now = state.clock.now();
    let layout = window.layout(now);
    let (Some(&from), Some(&to)) = (layout.first(), layout.last()) else {
        return Err(ApiError::internal("a window without buckets"));
    };
    let stored = state
        .stats
        .buckets(&webhook.id, window.granularity(), from, to)
        .await?;
    let last = state.stats.last_seen(&webhook.id).await?;
    Ok(Json(report(window, now, &stored, last)))
}
