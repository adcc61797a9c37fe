//! Wiring only: tracing, configuration, clients built once, then serve the router.

use std::sync::Arc;

use webhooks_api::{app, Config};
use webhooks_aws::AwsClients;
use webhooks_core::domain::time::SystemClock;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let config = webhooks_lambda::start(Config::from_env)?;
    let clients = AwsClients::from_env().await;
    lambda_http::run(app(&clients, &config, Arc::new(SystemClock))).await
}
