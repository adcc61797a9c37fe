//! Wiring only: tracing, configuration, clients built once, then handle SQS batches,
//! each invocation in its request id's span.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{service_fn, LambdaEvent, Runtime};
use webhooks_aws::AwsClients;
use webhooks_core::domain::time::SystemClock;
use webhooks_delivery::{Config, Delivery};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = webhooks_lambda::start(Config::from_env)?;
    let clients = AwsClients::from_env().await;
    let delivery = Arc::new(Delivery::new(&clients, &config, Arc::new(SystemClock))?);
    let handler = service_fn(move |event: LambdaEvent<SqsEvent>| {
        let delivery = delivery.clone();
        async move {
            let deadline = webhooks_lambda::deadline(event.context.deadline);
            let response = delivery.handle(event.payload, deadline).await;
            for line in delivery.metric_lines() {
                println!("{line}");
            }
            Ok::<_, lambda_runtime::Error>(response)
        }
    });
    Runtime::new(handler)
        .layer(webhooks_lambda::InvocationLayer)
        .run()
        .await
}
