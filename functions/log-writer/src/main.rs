//! Wiring only: tracing, configuration, clients built once, then handle SQS batches,
//! each invocation in its request id's span.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{service_fn, LambdaEvent, Runtime};
use webhooks_aws::AwsClients;
use webhooks_core::domain::time::{Clock, SystemClock};
use webhooks_log_writer::{Config, LogWriter};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = webhooks_lambda::start(Config::from_env)?;
    let clients = AwsClients::from_env().await;
    let writer = Arc::new(LogWriter::new(&clients, &config));
    let handler = service_fn(move |event: LambdaEvent<SqsEvent>| {
        let writer = writer.clone();
        async move {
            Ok::<_, lambda_runtime::Error>(writer.handle(event.payload, SystemClock.now()).await)
        }
    });
    Runtime::new(handler)
        .layer(webhooks_lambda::InvocationLayer)
        .run()
        .await
}
