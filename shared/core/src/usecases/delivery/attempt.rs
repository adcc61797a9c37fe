//! One attempt: send through the webhook's lane, classify the answer, apply its
//! consequences, and record it (parking the record when the log cannot take it).

use std::time::{Duration, Instant};

use tokio::sync::OwnedSemaphorePermit;
use tracing::{debug, warn, Instrument};

use super::consequences::Consequence;
use super::{delivery_request, Dispatcher};
use crate::domain::custom_headers::CustomHeaders;
use crate::domain::delivery_log::{DeliveryLogRecord, LoggedAttempt, Outcome};
use crate::domain::signing::SigningSecrets;
use crate::domain::task::DeliveryTask;
use crate::domain::time::Timestamp;
use crate::domain::webhook::Webhook;
use crate::outbound::{OutboundResponse, SendError};
use crate::ports::StoreError;
use crate::usecases::custom_headers::custom_headers;
use crate::usecases::signing_secrets::signing_secrets;

/// What signing and sending to an enabled webhook needs from the secret store. It is
/// read before the webhook's lane is asked for a place, so that a lane's permit covers
/// the request alone: a cold cache's reads must not hold a burst's places.
pub(super) struct Material {
    secrets: Option<SigningSecrets>,
    custom: CustomHeaders,
}

impl Dispatcher {
    /// The secret material of `webhook`; `None` when it is disabled (nothing is sent).
    pub(super) async fn material(&self, webhook: &Webhook) -> Result<Option<Material>, StoreError> {
        if !webhook.enabled {
            return Ok(None);
        }
        let now = self.ports.clock.now();
        Ok(Some(Material {
            secrets: signing_secrets(self.ports.secrets.as_ref(), webhook, now).await?,
            custom: custom_headers(self.ports.secrets.as_ref(), webhook).await?,
        }))
    }

    /// Logs an attempt and tells the observer.
    async fn report(&self, attempt: &LoggedAttempt) -> Result<(), StoreError> {
        if let Some(observer) = &self.observer {
            observer.attempted(&attempt.record);
        }
        self.ports.logs.record(attempt).await
    }

    /// Logs an attempt that was sent. The record is its own obligation: if the log
    /// cannot take it, it is parked on the task queue to be written later, and the
    /// delivery counts as done; only when the queue refuses it too is the error
    /// returned (and the attempt may then be made again).
    async fn report_sent(&self, attempt: &LoggedAttempt) -> Result<(), StoreError> {
        let Err(error) = self.report(attempt).await else {
            return Ok(());
        };
        warn!(delivery_id = %attempt.record.delivery_id, attempt = attempt.record.attempt,
            error = %error, "could not record the attempt; parking its log record");
        self.ports.queue.park_log(attempt).await
    }

    /// Writes a log record that was parked (its delivery is not attempted again).
    pub async fn record_parked(&self, attempt: &LoggedAttempt) -> Result<(), StoreError> {
        self.ports.logs.record(attempt).await
    }

    /// One attempt to `webhook` (as read for it, with its `material`: `None` when it is
    /// disabled), holding its lane's `permit`: send, classify, schedule what follows,
    /// record it.
    pub(super) async fn attempt(
        &self,
        task: &DeliveryTask,
        webhook: Webhook,
        material: Option<Material>,
        permit: OwnedSemaphorePermit,
    ) -> Result<Outcome, StoreError> {
        // A debug span: at the default level nothing is formatted per successful
        // delivery; the events logged at info and above name the delivery themselves.
        let span = tracing::debug_span!("delivery", webhook_id = %task.webhook_id, event_id = %task.event.id,
            delivery_id = %task.delivery_id, attempt = task.attempt);
        self.attempt_inner(task, webhook, material, permit)
            .instrument(span)
            .await
    }

    async fn attempt_inner(
        &self,
        task: &DeliveryTask,
        webhook: Webhook,
        material: Option<Material>,
        permit: OwnedSemaphorePermit,
    ) -> Result<Outcome, StoreError> {
        let now = self.ports.clock.now();
        let Some(Material { secrets, custom }) = material else {
            let reason = webhook
                .disabled_reason
                .clone()
                .unwrap_or_else(|| "disabled by an admin".to_owned());
            let unsent =
                Consequence::of(Outcome::Failed).because(format!("webhook is disabled: {reason}"));
            let record = self.record(task, now, unsent, None, None);
            self.report(&record).await?;
            return Ok(Outcome::Failed);
        };
        let started = Instant::now();
        let result = match url::Url::parse(&webhook.url) {
            Ok(url) => {
                let request = delivery_request(
                    url,
                    task,
                    secrets.as_ref(),
                    &custom,
                    now,
                    self.settings.timeout,
                );
                // Never closed, so acquiring only waits.
                let _slot = self.requests.acquire().await.ok();
                self.ports.sender.post(request).await
            }
            Err(error) => Err(SendError::Refused(crate::outbound::Refusal::InvalidUrl(
                error.to_string(),
            ))),
        };
        // A timed-out or failed request is logged with the time it took too.
        let elapsed = match &result {
            Ok(response) => response.elapsed,
            Err(SendError::Timeout(limit)) => *limit,
            Err(_) => started.elapsed(),
        };
        drop(permit);
        self.isolation.observe(&webhook.id, &result);
        let finished = self.ports.clock.now();
        let consequence = self.consequences(task, &webhook, &result, finished).await?;
        let outcome = consequence.outcome;
        let record = self.record(
            task,
            finished,
            consequence,
            result.as_ref().ok(),
            Some(elapsed),
        );
        self.report_sent(&record).await?;
        // Successes are the bulk of the traffic and are in the delivery log already:
        // debug. Failures stay warnings, with the fields that identify them.
        match outcome {
            Outcome::Succeeded => debug!(outcome = outcome.as_str(), "delivered"),
            _ => warn!(
                webhook_id = %task.webhook_id,
                event_id = %task.event.id,
                delivery_id = %task.delivery_id,
                attempt = task.attempt,
                outcome = outcome.as_str(),
                error = record.record.error.as_deref().unwrap_or(""),
                "delivery failed"
            ),
        }
        Ok(outcome)
    }

    pub(super) fn record(
        &self,
        task: &DeliveryTask,
        at: Timestamp,
        consequence: Consequence,
        response: Option<&OutboundResponse>,
        elapsed: Option<Duration>,
    ) -> LoggedAttempt {
        let Consequence {
            outcome,
            error,
            next_attempt_at,
        } = consequence;
        LoggedAttempt {
            record: DeliveryLogRecord {
                delivery_id: task.delivery_id.clone(),
                webhook_id: task.webhook_id.clone(),
                event_id: task.event.id.clone(),
                event: task.event.event_type.clone(),
                client_id: task.event.client_id.clone(),
                attempt: task.attempt,
                outcome,
                status_code: response.map(|r| r.status),
                elapsed_ms: elapsed.map(|e| u64::try_from(e.as_millis()).unwrap_or(u64::MAX)),
                error,
                response_excerpt: response
                    .map(|r| r.excerpt.clone())
                    .filter(|e| !e.is_empty()),
                at,
                next_attempt_at,
            },
            occurred_at: task.event.occurred_at,
            data: task.event.data.clone(),
        }
    }
}
