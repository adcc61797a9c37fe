//! The span of one invocation: `invocation{request_id}`, the Lambda request id from
//! the runtime's `Context`, around everything the handler does, so every log line
//! of the invocation carries it (`log_format`). The functions run with this layer in
//! place of the runtime's own tracing layer, whose span would add a second,
//! camel-cased request id.

use std::task;

use lambda_runtime::tower::{Layer, Service};
use lambda_runtime::{Context, LambdaInvocation};
use tracing::instrument::Instrumented;
use tracing::{Instrument, Span};

/// The invocation's span. At `ERROR` level, so that whatever `RUST_LOG` lets through
/// still carries the request id.
pub fn invocation_span(context: &Context) -> Span {
    tracing::error_span!("invocation", request_id = %context.request_id)
}

/// Wraps each invocation in [`invocation_span`]; give it to
/// `lambda_runtime::Runtime::layer`.
#[derive(Clone, Copy, Debug, Default)]
pub struct InvocationLayer;

impl<S> Layer<S> for InvocationLayer {
    type Service = InvocationService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        InvocationService { inner }
    }
}

/// The service [`InvocationLayer`] makes.
#[derive(Clone, Debug)]
pub struct InvocationService<S> {
    inner: S,
}

impl<S> Service<LambdaInvocation> for InvocationService<S>
where
    S: Service<LambdaInvocation>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Instrumented<S::Future>;

    fn poll_ready(&mut self, cx: &mut task::Context<'_>) -> task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, invocation: LambdaInvocation) -> Self::Future {
        let span = invocation_span(&invocation.context);
        // Entered while the inner service builds its future, so spans it opens then
        // are children of this one too.
        let future = span.in_scope(|| self.inner.call(invocation));
        future.instrument(span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::CapturedLogs;
    use lambda_runtime::tower::service_fn;

    fn invocation(request_id: &str) -> LambdaInvocation {
        let mut context = Context::default();
        context.request_id = request_id.to_owned();
        LambdaInvocation {
            parts: http::Response::new(()).into_parts().0,
            body: bytes::Bytes::new(),
            context,
        }
    }

    #[tokio::test]
    async fn every_line_of_an_invocation_carries_its_request_id() {
        // GIVEN the functions' log format and a handler that logs inside a span of its own
        let logs = CapturedLogs::default();
        let _default = tracing::subscriber::set_default(logs.subscriber());
        let mut service = InvocationLayer.layer(service_fn(|_: LambdaInvocation| async {
            tracing::info!("handling");
            let record = tracing::info_span!("record", message_id = "m-1");
            async { tracing::warn!(attempt = 1, "delivery failed") }
                .instrument(record)
                .await;
            Ok::<(), lambda_runtime::Error>(())
        }));
        // WHEN two invocations run
        service.call(invocation("req-a")).await.unwrap();
        service.call(invocation("req-b")).await.unwrap();
        // THEN each line names its own invocation's request id, the record's next to it
        let lines = logs.lines();
        let ids: Vec<_> = lines.iter().map(|l| l["request_id"].clone()).collect();
        assert_eq!(ids, ["req-a", "req-a", "req-b", "req-b"]);
        assert_eq!(lines[1]["message_id"], "m-1");
        assert_eq!(lines[1]["attempt"], 1);
        // AND nothing is logged outside an invocation with a request id of another
        tracing::info!("between invocations");
        assert!(logs.lines()[4].get("request_id").is_none());
    }
}
