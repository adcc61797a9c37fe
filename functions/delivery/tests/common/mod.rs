//! What the log-line test binaries share: an SQS event of bodies, and the delivery
//! function on in-memory ports whose receivers answer a script.
#![allow(dead_code)] // each test binary uses its part

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use webhooks_core::domain::time::Clock;
use webhooks_core::outbound::{OutboundResponse, SendError};
use webhooks_core::testing::fakes::{ManualClock, ScriptedSender};
use webhooks_core::testing::fixtures::base_time;
use webhooks_core::testing::memory::{
    MemoryDeadLetters, MemoryLogs, MemorySecretStore, MemoryTaskQueue, MemoryWebhookStore,
};
use webhooks_core::usecases::delivery::{DeliveryPorts, DeliverySettings};
use webhooks_delivery::Delivery;

pub const TYPE: &str = "report.publish_status";

/// An SQS event of `(message id, body)` records.
pub fn sqs_event(bodies: &[(&str, &str)]) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = bodies
        .iter()
        .map(|(id, body)| {
            let mut message = SqsMessage::default();
            message.message_id = Some((*id).to_owned());
            message.body = Some((*body).to_owned());
            message
        })
        .collect();
    event
}

/// The delivery function on memory ports, its receivers answering `script`, and its
/// webhook store.
pub fn delivery(
    script: impl IntoIterator<Item = Result<OutboundResponse, SendError>>,
) -> (Delivery, Arc<MemoryWebhookStore>) {
    let webhooks = Arc::new(MemoryWebhookStore::default());
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::at(base_time()));
    let ports = DeliveryPorts {
        webhooks: webhooks.clone(),
        secrets: Arc::new(MemorySecretStore::default()),
        queue: Arc::new(MemoryTaskQueue::default()),
        logs: Arc::new(MemoryLogs::default()),
        sender: Arc::new(ScriptedSender::answering(script)),
        clock,
    };
    let delivery = Delivery::with_ports(
        ports,
        DeliverySettings::default(),
        Arc::new(MemoryDeadLetters::default()),
        "webhooks-test",
    );
    (delivery, webhooks)
}
