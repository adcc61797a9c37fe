//! The `webhook.disabled` operational event: when the service disables a webhook it
//! tells the webhooks subscribed to that type (client `operations`), never the disabled
//! webhook itself, through the task queue as ordinary first attempts.

use std::time::Duration;

use serde_json::json;
use tracing::{error, info};

use super::Dispatcher;
use crate::domain::catalogue::{OPERATIONS_CLIENT, WEBHOOK_DISABLED};
use crate::domain::event::Event;
use crate::domain::ids::EventId;
use crate::domain::task::DeliveryTask;
use crate::domain::time::Timestamp;
use crate::domain::webhook::Webhook;

/// The notice of `disabled`'s disabling at `now`. Its id names the webhook and the
/// version the disabling wrote, so the notice of one disabling always has the same
/// delivery ids.
pub(super) fn disabled_notice(disabled: &Webhook, now: Timestamp) -> Event {
    let id = format!("evt_disabled_{}_{}", disabled.id, disabled.version);
    Event {
        id: EventId::from_producer(&id).unwrap_or_else(|_| EventId::generate()),
        event_type: WEBHOOK_DISABLED.to_owned(),
        client_id: OPERATIONS_CLIENT.to_owned(),
        occurred_at: now,
        data: json!({
            "webhook_id": disabled.id,
            "name": disabled.name,
            "url": disabled.url,
            "reason": disabled.disabled_reason,
            "disabled_at": now,
        }),
    }
}

impl Dispatcher {
    /// Queues the notice of `disabled`'s disabling for every webhook that wants it.
    /// The disabling stands whatever happens here: a failure is logged, not returned.
    pub(super) async fn announce_disabled(&self, disabled: &Webhook, now: Timestamp) {
        if let Some(observer) = &self.observer {
            observer.webhook_disabled(&disabled.id);
        }
        let notice = disabled_notice(disabled, now);
        let subscribers = match self
            .ports
            .webhooks
            .subscribers(WEBHOOK_DISABLED, OPERATIONS_CLIENT)
            .await
        {
            Ok(subscribers) => subscribers,
            Err(cause) => {
                error!(webhook_id = %disabled.id, error = %cause, "could not find who to tell that the webhook was disabled");
                return;
            }
        };
        let tasks: Vec<(DeliveryTask, Duration)> = subscribers
            .into_iter()
            .filter(|webhook| {
                webhook.id != disabled.id && webhook.wants(WEBHOOK_DISABLED, OPERATIONS_CLIENT)
            })
            .map(|webhook| {
                (
                    DeliveryTask::first(notice.clone(), webhook.id),
                    Duration::ZERO,
                )
            })
            .collect();
        if tasks.is_empty() {
            return;
        }
        let failed = self
            .ports
            .queue
            .enqueue_many(&tasks)
            .await
            .into_iter()
            .filter(Result::is_err)
            .count();
        if failed > 0 {
            error!(webhook_id = %disabled.id, event_id = %notice.id, failed, "could not queue every notice of the webhook's disabling");
        } else {
            info!(webhook_id = %disabled.id, event_id = %notice.id, notified = tasks.len(), "notice of the webhook's disabling queued");
        }
    }
}
