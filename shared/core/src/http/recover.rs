//! `POST /webhooks/{id}/recover`: redeliver every failed delivery of a period.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{Map, Value};

use super::body::JsonObject;
use super::problem::{ApiError, ApiResult, FieldError, Problem};
use super::webhooks::load;
use super::ApiState;
use crate::domain::delivery_log::Outcome;
use crate::domain::time::Timestamp;
use crate::usecases::recover::{
    recover as recover_period, Period, RecoverError, Recovered, DEFAULT_OUTCOMES,
};

/// Recover body (documentation of the accepted shape; parsing is field-by-field).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct RecoverPeriod {
    /// RFC 3339: the period's start.
    since: String,
    /// RFC 3339; now when absent. Before `since`, the period is empty.
    until: Option<String>,
    /// The outcomes to recover; `["exhausted", "failed", "rejected"]` when absent.
    outcomes: Option<Vec<Outcome>>,
}

#[utoipa::path(post, path = "/webhooks/{id}/recover", tag = "logs",
    params(("id" = String, Path, description = "wh_...")),
    request_body(content = RecoverPeriod, content_type = "application/json"),
    responses(
        (status = 202, description = "Queued: a new attempt series for each failed delivery of the period", body = Recovered),
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The webhook is disabled", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid", body = Problem, content_type = "application/problem+json")))]
pub async fn recover(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<(StatusCode, Json<Recovered>)> {
    let now = state.clock.now();
    let period = parse(&body, now)?;
    let webhook = load(&state, &id).await?;
    let recovered = recover_period(state.logs.as_ref(), state.queue.as_ref(), &webhook, &period)
        .await
        .map_err(|error| match error {
            RecoverError::Disabled(_) => ApiError::Conflict(error.to_string()),
            RecoverError::Store(store) => store.into(),
        })?;
    Ok((StatusCode::ACCEPTED, Json(recovered)))
}

/// The period of a recover body, every bad field named at once.
fn parse(body: &Map<String, Value>, now: Timestamp) -> ApiResult<Period> {
    let mut errors = Vec::new();
    let mut time = |field: &str| match body.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Timestamp::parse(text).or_else(|| {
            errors.push(FieldError::new(field, "must be an RFC 3339 timestamp"));
            None
        }),
        Some(_) => {
            errors.push(FieldError::new(field, "must be an RFC 3339 timestamp"));
            None
        }
    };
    let since = time("since");
    let until = time("until");
    if since.is_none() && !errors.iter().any(|e| e.field == "since") {
        errors.push(FieldError::new("since", "is required"));
    }
    let outcomes = match body.get("outcomes") {
        None | Some(Value::Null) => DEFAULT_OUTCOMES.to_vec(),
        Some(Value::Array(items)) if !items.is_empty() => {
            let parsed: Option<Vec<Outcome>> = items
                .iter()
                .map(|item| item.as_str().and_then(Outcome::parse))
                .collect();
            parsed.unwrap_or_else(|| {
                errors.push(FieldError::new("outcomes", outcomes_message()));
                Vec::new()
            })
        }
        Some(_) => {
            errors.push(FieldError::new("outcomes", outcomes_message()));
            Vec::new()
        }
    };
    for key in body.keys() {
        if !["since", "until", "outcomes"].contains(&key.as_str()) {
            errors.push(FieldError::new(
                key,
                "unknown field; known fields: since, until, outcomes",
            ));
        }
    }
    // An `until` before `since` is an empty period (nothing to recover), not an error:
    // the OpenAPI document cannot say that one field must follow another.
    let until = until.unwrap_or(now);
    match since {
        Some(since) if errors.is_empty() => Ok(Period {
            since,
            until,
            outcomes,
        }),
        _ => Err(ApiError::Validation(errors)),
    }
}

fn outcomes_message() -> String {
    let names: Vec<_> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
    format!("must be a non-empty list of {}", names.join(", "))
}
