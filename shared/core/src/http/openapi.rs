//! `GET /openapi.json`: the OpenAPI 3.1 document, generated from the handlers.

use axum::Json;
use utoipa::OpenApi;

use super::{events, logs, problem, webhooks};

#[derive(OpenApi)]
#[openapi(
    info(title = "Webhooks API", description = "Register webhooks, read their delivery log, redeliver."),
    paths(
        events::event_types, events::ingest,
        webhooks::create, webhooks::list, webhooks::get, webhooks::update, webhooks::delete,
        logs::list, logs::delivery, logs::redeliver,
    ),
    components(schemas(problem::Problem, problem::FieldError, crate::domain::delivery_log::Outcome)),
    tags((name = "webhooks"), (name = "logs"), (name = "events"))
)]
struct ApiDoc;

/// The document, with the connection-test routes merged in.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(super::test_connection::ConnectionDoc::openapi());
    doc
}

pub(super) async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi())
}
