//! Builds the signed POST of one delivery attempt.

use std::time::Duration;

use bytes::Bytes;
use url::Url;

use crate::domain::signing::{signature_headers, SigningSecrets};
use crate::domain::task::DeliveryTask;
use crate::domain::time::Timestamp;
use crate::outbound::OutboundRequest;

/// The request for one attempt: body as the design fixes it, every header, and both
/// signatures when the webhook has a secret.
pub fn delivery_request(
    url: Url,
    task: &DeliveryTask,
    secrets: Option<&SigningSecrets>,
    now: Timestamp,
    timeout: Duration,
) -> OutboundRequest {
    let body = task.event.delivery_body(&task.webhook_id);
    let mut headers = vec![
        ("Content-Type".to_owned(), "application/json".to_owned()),
        ("X-Webhook-Id".to_owned(), task.webhook_id.to_string()),
        ("X-Webhook-Event".to_owned(), task.event.event_type.clone()),
        ("X-Delivery-Id".to_owned(), task.delivery_id.to_string()),
        ("X-Delivery-Attempt".to_owned(), task.attempt.to_string()),
    ];
    if let Some(secrets) = secrets {
        headers.extend(
            signature_headers(
                secrets,
                task.delivery_id.as_str(),
                now.unix_seconds(),
                &body,
            )
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value)),
        );
    }
    OutboundRequest {
        url,
        headers,
        body: Bytes::from(body),
        timeout,
    }
}
