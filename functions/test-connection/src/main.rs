//! Wiring only: tracing, configuration, clients built once, then serve the router,
//! each invocation in its request id's span.

use std::sync::Arc;

use lambda_http::lambda_runtime::Runtime;
use lambda_http::Adapter;
use webhooks_aws::AwsClients;
use webhooks_core::domain::time::SystemClock;
use webhooks_test_connection::{app, Config};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let config = webhooks_lambda::start(Config::from_env)?;
    let clients = AwsClients::from_env().await;
    let router = app(&clients, &config, Arc::new(SystemClock))?;
    Runtime::new(Adapter::from(router))
        .layer(webhooks_lambda::InvocationLayer)
        .run()
        .await
}
