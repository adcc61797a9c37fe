//! The runbook's Logs Insights queries on the log-writer's log group
//! (docs/operations.md, blocks fenced `logs-insights log-writer`) against the function's
//! real log lines: a batch with a refused record and one the table fails on for now.
//! In a test binary of its own: `tracing` decides once per call site whether anyone
//! listens, and a test on another thread without a subscriber could decide for this one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use lambda_runtime::Context;
use tracing::Instrument;
use webhooks_core::domain::delivery_log::Outcome;
use webhooks_core::domain::ids::{DeliveryId, WebhookId};
use webhooks_core::testing::fakes::PickyLogs;
use webhooks_core::testing::fixtures::{attempt, base_time};
use webhooks_core::testing::memory::MemoryDeadLetters;
use webhooks_core::testing::memory_stats::MemoryStats;
use webhooks_lambda::capture::CapturedLogs;
use webhooks_lambda::{invocation_span, runbook};
use webhooks_log_writer::LogWriter;

#[tokio::test]
async fn every_field_and_message_of_the_runbooks_log_writer_queries_is_in_the_functions_lines() {
    // GIVEN the function's JSON logs captured, and a table that refuses delivery 2 and
    // throttles delivery 3
    let logs = CapturedLogs::default();
    let _default = tracing::subscriber::set_default(logs.subscriber());
    let table = Arc::new(PickyLogs::new(
        vec![DeliveryId::from_trusted("dlv_2")],
        vec![DeliveryId::from_trusted("dlv_3")],
    ));
    let writer = LogWriter::with_ports(
        table,
        Arc::new(MemoryStats::default()),
        Arc::new(MemoryDeadLetters::default()),
    );
    let webhook = WebhookId::from_trusted("wh_1");
    let mut event = SqsEvent::default();
    event.records = (1..=3)
        .map(|n| {
            let delivery = DeliveryId::from_trusted(format!("dlv_{n}"));
            let logged = attempt(&webhook, &delivery, 1, Outcome::Succeeded, base_time());
            let mut message = SqsMessage::default();
            message.message_id = Some(format!("m-{n}"));
            message.body = Some(serde_json::to_string(&logged).unwrap());
            message
        })
        .collect();
    let mut context = Context::default();
    context.request_id = "8f5c-request".to_owned();
    // WHEN an invocation brings the three records
    writer
        .handle(event, base_time())
        .instrument(invocation_span(&context))
        .await;
    // THEN the runbook has log-writer queries, and every field and message they use is
    // in those lines
    let queries = runbook::runbook_queries("log-writer");
    assert!(queries.len() >= 2, "{queries:?}");
    let lines = logs.lines();
    let problems = runbook::unmatched(&queries, &lines);
    assert!(
        problems.is_empty(),
        "{}\n\nlines: {lines:#?}",
        problems.join("\n\n")
    );
}
