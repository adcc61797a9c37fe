//! The HTTP side of the local service: the API, the connection tests and `POST
//! /events` on the SQLite adapters, with an optional bearer token in front.

use std::sync::Arc;

use axum::Router;
use webhooks_core::config::OutboundConfig;
use webhooks_core::http::test_connection::{self, ConnectionContext, ConnectionState};
use webhooks_core::http::{self as api, ApiContext, ApiState};
use webhooks_core::outbound::GuardedSender;
use webhooks_core::usecases::connection::ProbeSettings;

use crate::LocalStores;

/// Every route `webhooks serve` answers. With a `token`, each needs
/// `Authorization: Bearer <token>`.
pub fn http_app(
    stores: &LocalStores,
    sender: GuardedSender,
    config: &OutboundConfig,
    token: Option<&str>,
) -> Router {
    let api = api::router(ApiState::new(ApiContext {
        webhooks: stores.webhooks.clone(),
        secrets: stores.secrets.clone(),
        logs: stores.logs.clone(),
        stats: stores.stats.clone(),
        queue: stores.queue.clone(),
        events: Some(stores.queue.clone()),
        clock: stores.clock.clone(),
        policy: config.policy.clone(),
    }));
    let tests = test_connection::router(ConnectionState::new(ConnectionContext {
        webhooks: stores.webhooks.clone(),
        secrets: stores.secrets.clone(),
        clock: stores.clock.clone(),
        sender,
        settings: ProbeSettings {
            limit: config.timeout,
            ..ProbeSettings::default()
        },
    }));
    let routes = tests.merge(api);
    match token {
        Some(token) => routes.layer(axum::middleware::from_fn_with_state(
            Arc::<str>::from(token),
            api::require_bearer,
        )),
        None => routes,
    }
}
