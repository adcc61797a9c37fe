//! The HTTP API, one axum router for API Gateway and `webhooks serve` alike.

mod auth;
mod body;
mod early;
pub use early::declared_body_length;
pub mod events;
pub mod logs;
mod openapi;
mod openapi_contract;
pub mod problem;
mod query;
pub mod recover;
pub mod stats;
pub mod test_connection;
pub mod validate;
pub mod webhooks;

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

pub use auth::require_bearer;
pub use body::{JsonObject, RawBody, MAX_BODY_BYTES};
pub use openapi::openapi;
pub use problem::{ApiError, ApiResult, FieldError, Problem, PROBLEM_JSON};

use crate::domain::time::Clock;
use crate::outbound::OutboundPolicy;
use crate::ports::{EventSink, LogReader, SecretWriter, StatsReader, TaskQueue, WebhookRegistry};

/// What the API handlers use.
pub struct ApiContext {
    pub webhooks: Arc<dyn WebhookRegistry>,
    pub secrets: Arc<dyn SecretWriter>,
    pub logs: Arc<dyn LogReader>,
    /// A webhook's health (`GET /webhooks/{id}/stats`).
    pub stats: Arc<dyn StatsReader>,
    pub queue: Arc<dyn TaskQueue>,
    /// Present in local mode only: `POST /events`.
    pub events: Option<Arc<dyn EventSink>>,
    pub clock: Arc<dyn Clock>,
    /// Validates webhook URLs as deliveries will.
    pub policy: OutboundPolicy,
}

#[derive(Clone)]
pub struct ApiState(Arc<ApiContext>);

impl ApiState {
    pub fn new(context: ApiContext) -> Self {
        Self(Arc::new(context))
    }
}

impl Deref for ApiState {
    type Target = ApiContext;

    fn deref(&self) -> &ApiContext {
        &self.0
    }
}

/// Every API route except the connection tests.
pub fn router(state: ApiState) -> Router {
    let mut routes = Router::new()
        .route("/event-types", get(events::event_types))
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route(
            "/webhooks/{id}",
            get(webhooks::get)
                .patch(webhooks::update)
                .delete(webhooks::delete),
        )
        .route("/webhooks/{id}/logs", get(logs::list))
        .route("/webhooks/{id}/logs/{delivery_id}", get(logs::delivery))
        .route(
            "/webhooks/{id}/logs/{delivery_id}/redeliver",
            post(logs::redeliver),
        )
        .route("/webhooks/{id}/recover", post(recover::recover))
        .route("/webhooks/{id}/stats", get(stats::stats))
        .route("/openapi.json", get(openapi::serve));
    if state.events.is_some() {
        routes = routes.route("/events", post(events::ingest));
    }
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // One byte over the limit is enough to answer 413.
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES + 1))
        .layer(axum::middleware::from_fn(early::refuse_early))
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("route {}", uri.path()))
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{method} is not allowed on {}", uri.path()))
}
