//! Wiring only: tracing, configuration, clients built once, then serve the router.

use std::sync::Arc;

use webhooks_api::{app, Config};
use webhooks_aws::AwsClients;
use webhooks_core::config::ProcessEnv;
use webhooks_core::time::SystemClock;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    webhooks_lambda::init_tracing();
    let config = Config::from_env(&ProcessEnv).inspect_err(|error| {
        tracing::error!(error = %error, "bad configuration");
    })?;
    let clients = AwsClients::from_env().await;
    lambda_http::run(app(&clients, &config, Arc::new(SystemClock))).await
}
