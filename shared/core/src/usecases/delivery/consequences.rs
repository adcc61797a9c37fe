//! What an attempt's verdict means for the webhook and the delivery: its run of
//! failures, disabling (410 Gone, or five days of failures), the next attempt.

use tracing::warn;

use super::{verdict, Dispatcher, Verdict};
use crate::domain::delivery_log::Outcome;
use crate::domain::task::DeliveryTask;
use crate::domain::time::Timestamp;
use crate::domain::webhook::Webhook;
use crate::outbound::{OutboundResponse, SendError};
use crate::ports::StoreError;

/// What one attempt comes to: its outcome, the error to log, and when the next
/// attempt is due if there is one.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Consequence {
    pub outcome: Outcome,
    pub error: Option<String>,
    pub next_attempt_at: Option<Timestamp>,
}

impl Consequence {
    pub(super) fn of(outcome: Outcome) -> Self {
        Self {
            outcome,
            error: None,
            next_attempt_at: None,
        }
    }

    pub(super) fn because(self, error: impl Into<String>) -> Self {
        Self {
            error: Some(error.into()),
            ..self
        }
    }
}

impl Dispatcher {
    /// Applies what the attempt means: webhook health, disabling, the next attempt.
    pub(super) async fn consequences(
        &self,
        task: &DeliveryTask,
        webhook: &Webhook,
        result: &Result<OutboundResponse, SendError>,
        now: Timestamp,
    ) -> Result<Consequence, StoreError> {
        match verdict(result) {
            Verdict::Delivered => {
                self.record_failing_since(webhook, None).await;
                Ok(Consequence::of(Outcome::Succeeded))
            }
            Verdict::Gone => {
                let reason = format!("the endpoint answered 410 Gone at {now}");
                self.disable(webhook, &reason, now).await?;
                Ok(Consequence::of(Outcome::Disabled).because(reason))
            }
            Verdict::Refused(error) => Ok(Consequence::of(Outcome::Rejected).because(error)),
            Verdict::Failed { error, retry_after } => {
                let failing_since = webhook.failing_since.unwrap_or(now);
                self.record_failing_since(webhook, Some(now)).await;
                if failing_since.until(now) >= self.settings.disable_after {
                    let reason = format!("every delivery failed since {failing_since}");
                    self.disable(webhook, &reason, now).await?;
                    return Ok(
                        Consequence::of(Outcome::Disabled).because(format!("{error}; {reason}"))
                    );
                }
                match self
                    .settings
                    .schedule
                    .next_delay(task.attempt_in_series(), retry_after)
                {
                    Some(delay) => {
                        let at = now.plus(delay);
                        self.ports.queue.enqueue(&task.next(at), delay).await?;
                        Ok(Consequence {
                            next_attempt_at: Some(at),
                            ..Consequence::of(Outcome::Retrying).because(error)
                        })
                    }
                    None => Ok(Consequence::of(Outcome::Exhausted).because(error)),
                }
            }
        }
    }

    /// Records the start (`Some`) or the end (`None`) of the webhook's run of failures,
    /// once per change in this process however stale the webhook read was; the store
    /// keeps the earliest start. Bookkeeping only: a failure to write it is logged
    /// and tried again on the next attempt, never a reason to repeat the delivery.
    async fn record_failing_since(&self, webhook: &Webhook, wanted: Option<Timestamp>) {
        if !self
            .isolation
            .failing_since_needs_write(&webhook.id, webhook.failing_since, wanted)
        {
            return;
        }
        if let Err(error) = self
            .ports
            .webhooks
            .set_failing_since(&webhook.id, wanted)
            .await
        {
            self.isolation.failing_since_unknown(&webhook.id);
            warn!(webhook_id = %webhook.id, error = %error, "could not record the webhook's run of failures");
        }
    }

    /// Disables a webhook with a reason, retrying a few times on a concurrent edit.
    /// It starts from the stored webhook, not from `webhook`: fan-out's copy (a
    /// subscription item, a cached read) may be a moment old and lacks the run of
    /// failures, which a replace must keep.
    async fn disable(
        &self,
        webhook: &Webhook,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let Some(mut current) = self.ports.webhooks.get(&webhook.id).await? else {
            return Ok(());
        };
        for _ in 0..3 {
            if !current.enabled {
                return Ok(());
            }
            let mut disabled = current.clone();
            disabled.enabled = false;
            disabled.disabled_reason = Some(reason.to_owned());
            disabled.version = current.version + 1;
            disabled.updated_at = now;
            match self
                .ports
                .webhooks
                .replace(&disabled, current.version)
                .await
            {
                Ok(()) => {
                    warn!(webhook_id = %webhook.id, reason, "webhook disabled");
                    self.announce_disabled(&disabled, now).await;
                    return Ok(());
                }
                Err(StoreError::Conflict) => match self.ports.webhooks.get(&webhook.id).await? {
                    Some(fresh) => current = fresh,
                    None => return Ok(()),
                },
                Err(StoreError::NotFound) => return Ok(()),
                Err(other) => return Err(other),
            }
        }
        Err(StoreError::Conflict)
    }
}
