//! `GET /openapi.json`: the OpenAPI 3.1 document, generated from the handlers.

use axum::Json;
use utoipa::OpenApi;

use super::{events, logs, problem, recover, stats, webhooks};

#[derive(OpenApi)]
#[openapi(
    info(title = "Webhooks API", description = "Register webhooks, read their delivery log, redeliver."),
    paths(
        events::event_types, events::ingest,
        webhooks::create, webhooks::list, webhooks::get, webhooks::update, webhooks::delete,
        logs::list, logs::delivery, logs::redeliver, recover::recover, stats::stats,
    ),
    components(schemas(problem::Problem, problem::FieldError, crate::domain::delivery_log::Outcome)),
    tags((name = "webhooks"), (name = "logs"), (name = "events"))
)]
struct ApiDoc;

/// The document, with the connection-test routes merged in and the constraints the
/// API enforces stated ([`super::openapi_contract`]).
pub fn openapi() -> serde_json::Value {
    let mut generated = ApiDoc::openapi();
    generated.merge(super::test_connection::ConnectionDoc::openapi());
    let mut doc = serde_json::to_value(generated).unwrap_or_default();
    super::openapi_contract::apply(&mut doc);
    doc
}

pub(super) async fn serve() -> Json<serde_json::Value> {
    Json(openapi())
}
