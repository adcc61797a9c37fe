//! Builds the signed POST of one delivery attempt.

use std::time::Duration;

use bytes::Bytes;
use url::Url;

use crate::domain::custom_headers::{is_reserved, CustomHeaders};
use crate::domain::signing::{signature_headers, SigningSecrets};
use crate::domain::task::DeliveryTask;
use crate::domain::time::Timestamp;
use crate::outbound::OutboundRequest;

/// The request for one attempt: body as the design fixes it, the delivery headers, the
/// webhook's custom headers, and both signatures when the webhook has a secret. A
/// custom header never stands in for one of the service's own (reserved names are
/// refused when the set is given, and left out here should one be stored).
pub fn delivery_request(
    url: Url,
    task: &DeliveryTask,
    secrets: Option<&SigningSecrets>,
    custom: &CustomHeaders,
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
    headers.extend(
        custom
            .iter()
            .filter(|(name, _)| !is_reserved(name))
            .map(|(name, value)| (name.to_owned(), value.to_owned())),
    );
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{DeliveryId, WebhookId};
    use crate::testing::fixtures::{base_time, event};

    #[test]
    fn custom_headers_come_after_the_delivery_headers_and_before_the_signatures() {
        // GIVEN a task, a secret, and custom headers (one reserved name slipped in)
        let task = DeliveryTask {
            delivery_id: DeliveryId::from_trusted("dlv_1"),
            webhook_id: WebhookId::from_trusted("wh_1"),
            event: event("report.publish_status", "acme"),
            attempt: 1,
            series_start: 1,
            not_before: None,
        };
        let secrets = SigningSecrets {
            current: "whsec_dGVzdC1zZWNyZXQtMDEyMzQ1Njc4OQ==".into(),
            previous: None,
        };
        let custom = CustomHeaders::from_stored([
            ("Authorization".to_owned(), "Splunk t0ken".to_owned()),
            ("x-webhook-id".to_owned(), "forged".to_owned()),
        ]);
        // WHEN the request is built
        let request = delivery_request(
            Url::parse("https://receiver.example/").unwrap(),
            &task,
            Some(&secrets),
            &custom,
            base_time(),
            Duration::from_secs(5),
        );
        // THEN the order is delivery headers, custom headers, signatures, and the
        // reserved one is left out
        let names: Vec<&str> = request.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "Content-Type",
                "X-Webhook-Id",
                "X-Webhook-Event",
                "X-Delivery-Id",
                "X-Delivery-Attempt",
                "Authorization",
                "X-Authorization-HMAC-256",
                "webhook-id",
                "webhook-timestamp",
                "webhook-signature"
            ]
        );
        assert!(request.headers.iter().all(|(_, v)| v != "forged"));
    }
}
