//! `GET /event-types` and, in local mode, `POST /events`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;

use super::body::RawBody;
use super::problem::{ApiError, ApiResult, FieldError, Problem};
use super::ApiState;
use crate::domain::catalogue::{self, EventTypeView};
use crate::domain::event::{Event, EventRejection, MAX_EVENT_BYTES};
use crate::domain::ids::EventId;

#[utoipa::path(get, path = "/event-types", tag = "events",
    responses((status = 200, description = "The event catalogue", body = [EventTypeView])))]
pub async fn event_types() -> Json<Vec<EventTypeView>> {
    Json(catalogue::views())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Accepted {
    #[schema(value_type = String)]
    pub id: EventId,
}

/// Ingest body (documentation of the accepted shape).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct IngestEvent {
    /// Optional producer id; `evt_` + ULID when absent.
    id: Option<String>,
    /// An event type id from `GET /event-types`.
    #[schema(rename = "type")]
    event_type: String,
    client_id: String,
    /// RFC 3339; the receive time when absent.
    occurred_at: Option<String>,
    #[schema(value_type = Object)]
    data: Option<serde_json::Value>,
}

#[utoipa::path(post, path = "/events", tag = "events",
    request_body(content = IngestEvent, content_type = "application/json"),
    responses((status = 202, description = "Queued for fan-out (local mode only)", body = Accepted),
        (status = 413, description = "Over 256 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid event", body = Problem, content_type = "application/problem+json")))]
pub async fn ingest(
    State(state): State<ApiState>,
    RawBody(body): RawBody,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    let Some(sink) = &state.events else {
        return Err(ApiError::NotFound(
            "POST /events (events go to the SQS events queue here)".to_owned(),
        ));
    };
    let event = Event::parse(&body, EventId::generate, state.clock.now()).map_err(|rejection| {
        match rejection {
            EventRejection::TooLarge { .. } => ApiError::PayloadTooLarge {
                limit: MAX_EVENT_BYTES,
            },
            EventRejection::NotJson(_) | EventRejection::NotAnObject => ApiError::BadRequest {
                detail: rejection.to_string(),
                errors: vec![FieldError::new("body", rejection.to_string())],
            },
            other => {
                let field = other.field().unwrap_or("body").to_owned();
                let message = match &other {
                    EventRejection::InvalidField { message, .. } => message.clone(),
                    _ => "unknown field".to_owned(),
                };
                ApiError::Validation(vec![FieldError::new(field, message)])
            }
        }
    })?;
    sink.ingest(&event).await?;
    tracing::info!(event_id = %event.id, event = %event.event_type, "event accepted");
    Ok((StatusCode::ACCEPTED, Json(Accepted { id: event.id })))
}
