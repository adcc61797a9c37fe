//! The runbook's Logs Insights queries on the delivery log group (docs/operations.md,
//! blocks fenced `logs-insights delivery`) against the function's real log lines: a
//! fan-out, a failed attempt, a webhook disabled by a 410, a refused body. In a test
//! binary of its own, as `log_lines.rs` says why.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{delivery, sqs_event, TYPE};

use std::time::{Duration, Instant};

use lambda_runtime::Context;
use tracing::Instrument;
use webhooks_core::ports::WebhookRegistry;
use webhooks_core::testing::fakes::answer;
use webhooks_core::testing::fixtures::webhook;
use webhooks_lambda::capture::CapturedLogs;
use webhooks_lambda::{invocation_span, runbook};

#[tokio::test]
async fn every_field_and_message_of_the_runbooks_delivery_queries_is_in_the_functions_lines() {
    // GIVEN the function's JSON logs captured, and two webhooks of one event type whose
    // receivers answer 503 and 410 Gone
    let logs = CapturedLogs::default();
    let _default = tracing::subscriber::set_default(logs.subscriber());
    let (delivery, webhooks) = delivery([answer(503), answer(410)]);
    webhooks.insert(&webhook(TYPE)).await.unwrap();
    webhooks.insert(&webhook(TYPE)).await.unwrap();
    let event = format!(r#"{{"id": "evt_1", "type": "{TYPE}", "client_id": "acme"}}"#);
    let mut context = Context::default();
    context.request_id = "8f5c-request".to_owned();
    // WHEN an invocation brings the event and a body that is not JSON
    delivery
        .handle(
            sqs_event(&[("m-1", &event), ("m-2", "not json")]),
            Instant::now() + Duration::from_secs(60),
        )
        .instrument(invocation_span(&context))
        .await;
    // THEN the runbook has delivery queries, and every field and message they use is
    // in those lines
    let queries = runbook::runbook_queries("delivery");
    assert!(queries.len() >= 5, "{queries:?}");
    let lines = logs.lines();
    let problems = runbook::unmatched(&queries, &lines);
    assert!(
        problems.is_empty(),
        "{}\n\nlines: {lines:#?}",
        problems.join("\n\n")
    );
}
