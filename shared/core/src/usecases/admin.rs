//! The admin use case: create, update and delete a webhook with its signing secret and
//! its custom headers.
//! The HTTP handlers validate a request into [`WebhookFields`] and call this; what a
//! change means (a version check, re-enabling starts afresh, a secret generated once)
//! is decided here.

use crate::domain::custom_headers::CustomHeaders;
use crate::domain::ids::WebhookId;
use crate::domain::secret::SecretRef;
use crate::domain::signing::generate_secret;
use crate::domain::time::{Clock, Timestamp};
use crate::domain::webhook::{ClientScope, Webhook};
use crate::ports::{SecretWriter, StoreError, WebhookRegistry};

/// What to do with a webhook's secret.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretChange {
    Set(String),
    Generate,
    Remove,
}

impl std::fmt::Debug for SecretChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SecretChange::Set(_) => "Set(<redacted>)",
            SecretChange::Generate => "Generate",
            SecretChange::Remove => "Remove",
        })
    }
}

/// The fields of a create or update request, each validated; `None` = not given.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct WebhookFields {
    pub name: Option<String>,
    pub url: Option<String>,
    pub event: Option<String>,
    pub clients: Option<ClientScope>,
    pub secret: Option<SecretChange>,
    pub enabled: Option<bool>,
    /// `Some(None)`: remove the limit.
    pub rate_limit_per_second: Option<Option<u32>>,
    /// The whole new set of custom headers; `Some` of an empty set removes them.
    pub headers: Option<CustomHeaders>,
}

/// Why an admin change did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("webhook {0} not found")]
    NotFound(WebhookId),
    #[error("the webhook is at version {current}; If-Match asked for version {expected}")]
    VersionMismatch { current: u64, expected: u64 },
    /// A create without every required field: validation should have refused it.
    #[error("a create lacks the required field {0}")]
    MissingField(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A webhook as stored after a change, with the secret the service generated for it
/// (shown once, in this answer only).
#[derive(Debug)]
pub struct Changed {
    pub webhook: Webhook,
    pub generated_secret: Option<String>,
}

/// What a secret change left: the reference to store on the webhook, and the secret
/// itself when the service generated it (shown to the admin once).
#[derive(Default)]
struct AppliedSecret {
    reference: Option<SecretRef>,
    generated: Option<String>,
}

/// Tries of an update without `If-Match` that keeps losing races (each race has one
/// winner, so this many admins editing one webhook at once all get through).
const UPDATE_TRIES: usize = 32;

/// `current` with the given fields applied (the secret aside). Re-enabling clears the
/// disabled reason and the run of failures; disabling by hand clears the reason.
fn with_fields(current: &Webhook, fields: WebhookFields) -> Webhook {
    let mut updated = current.clone();
    if let Some(name) = fields.name {
        updated.name = name;
    }
    if let Some(url) = fields.url {
        updated.url = url;
    }
    if let Some(event) = fields.event {
        updated.event = event;
    }
    if let Some(clients) = fields.clients {
        updated.clients = clients;
    }
    if let Some(rate) = fields.rate_limit_per_second {
        updated.rate_limit_per_second = rate;
    }
    if let Some(headers) = &fields.headers {
        updated.header_names = headers.names();
    }
    if let Some(enabled) = fields.enabled {
        if enabled && !current.enabled {
            updated.disabled_reason = None;
            updated.failing_since = None;
        }
        if !enabled && current.enabled {
            updated.disabled_reason = None;
        }
        updated.enabled = enabled;
    }
    updated
}

/// Admin changes on the webhook and secret stores.
pub struct WebhookAdmin<'a> {
    pub webhooks: &'a dyn WebhookRegistry,
    pub secrets: &'a dyn SecretWriter,
    pub clock: &'a dyn Clock,
}

impl WebhookAdmin<'_> {
    /// Stores a new webhook (version 1, enabled unless asked otherwise) and its secret.
    pub async fn create(&self, fields: WebhookFields) -> Result<Changed, AdminError> {
        let name = fields.name.ok_or(AdminError::MissingField("name"))?;
        let url = fields.url.ok_or(AdminError::MissingField("url"))?;
        let event = fields.event.ok_or(AdminError::MissingField("event"))?;
        let clients = fields.clients.ok_or(AdminError::MissingField("clients"))?;
        let headers = fields.headers.unwrap_or_default();
        let now = self.clock.now();
        let id = WebhookId::generate();
        let applied = match &fields.secret {
            Some(change) => self.apply_secret(&id, change, now).await?,
            None => AppliedSecret::default(),
        };
        let generated_secret = applied.generated;
        let webhook = Webhook {
            id: id.clone(),
            name,
            url,
            event,
            clients,
            enabled: fields.enabled.unwrap_or(true),
            secret_ref: applied.reference,
            disabled_reason: None,
            version: 1,
            created_at: now,
            updated_at: now,
            failing_since: None,
            rate_limit_per_second: fields.rate_limit_per_second.flatten(),
            header_names: headers.names(),
        };
        if let Err(error) = self.webhooks.insert(&webhook).await {
            if webhook.secret_ref.is_some() {
                let _ = self.secrets.remove(&id).await;
            }
            return Err(error.into());
        }
        // The header values are stored once the webhook's (conditional) insert won;
        // failing that, the webhook goes again rather than wait for values forever.
        if !headers.is_empty() {
            if let Err(error) = self.secrets.put_headers(&id, &headers).await {
                let _ = self.webhooks.delete(&id).await;
                let _ = self.secrets.remove(&id).await;
                return Err(error.into());
            }
        }
        tracing::info!(webhook_id = %id, event = %webhook.event, "webhook created");
        Ok(Changed {
            webhook,
            generated_secret,
        })
    }

    /// Applies the given fields to a webhook, if it is at `expected` (when given).
    /// Re-enabling a webhook clears its disabled reason and its run of failures.
    /// Without `expected` a concurrent change never makes it fail: it applies to the
    /// version it finds, trying again a few times (the last writer wins).
    pub async fn update(
        &self,
        id: &WebhookId,
        fields: WebhookFields,
        expected: Option<u64>,
    ) -> Result<Changed, AdminError> {
        let tries = if expected.is_some() { 1 } else { UPDATE_TRIES };
        let mut last_seen = None;
        for _ in 0..tries {
            let current = self.load(id).await?;
            if let Some(expected) = expected {
                if expected != current.version {
                    return Err(AdminError::VersionMismatch {
                        current: current.version,
                        expected,
                    });
                }
            }
            last_seen = Some(current.version);
            if let Some(changed) = self.update_version(&current, &fields).await? {
                return Ok(changed);
            }
        }
        let fresh = self.load(id).await?;
        Err(AdminError::VersionMismatch {
            current: fresh.version,
            expected: expected.or(last_seen).unwrap_or(fresh.version),
        })
    }

    /// One try of [`update`](Self::update) on `current`; `None` when another change
    /// won the race. The secret store is written only once the conditional write of
    /// the webhook won, so a request that loses leaves no secret or header value of its
    /// own behind; a first secret's reference is [prepared](SecretWriter::prepare) (no
    /// value) for that write, and header names are recorded on the webhook before
    /// their values are stored (a delivery in between waits for them).
    async fn update_version(
        &self,
        current: &Webhook,
        fields: &WebhookFields,
    ) -> Result<Option<Changed>, AdminError> {
        let now = self.clock.now();
        let mut updated = with_fields(current, fields.clone());
        updated.version = current.version + 1;
        updated.updated_at = now;
        let mut generated_secret = None;
        let after_the_write = match &fields.secret {
            Some(SecretChange::Remove) => {
                updated.secret_ref = None;
                Some(SecretChange::Remove)
            }
            Some(change) => {
                if current.secret_ref.is_none() {
                    updated.secret_ref = Some(self.secrets.prepare(&current.id).await?);
                }
                Some(change.clone())
            }
            None => None,
        };
        match self.webhooks.replace(&updated, current.version).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => return Ok(None),
            Err(StoreError::NotFound) => return Err(AdminError::NotFound(current.id.clone())),
            Err(other) => return Err(other.into()),
        }
        if let Some(change) = after_the_write {
            let applied = self.apply_secret(&current.id, &change, now).await?;
            generated_secret = applied.generated;
        }
        if let Some(headers) = &fields.headers {
            // Nothing to replace when there were none and are none.
            if !(headers.is_empty() && current.header_names.is_empty()) {
                self.secrets.put_headers(&current.id, headers).await?;
            }
        }
        tracing::info!(webhook_id = %updated.id, version = updated.version, "webhook updated");
        Ok(Some(Changed {
            webhook: updated,
            generated_secret,
        }))
    }

    /// Removes a webhook and then its secret and header values; returns what was
    /// removed.
    pub async fn delete(&self, id: &WebhookId) -> Result<Webhook, AdminError> {
        let removed = self
            .webhooks
            .delete(id)
            .await?
            .ok_or_else(|| AdminError::NotFound(id.clone()))?;
        if removed.secret_ref.is_some() || !removed.header_names.is_empty() {
            self.secrets.remove(id).await?;
        }
        tracing::info!(webhook_id = %id, "webhook deleted");
        Ok(removed)
    }

    async fn load(&self, id: &WebhookId) -> Result<Webhook, AdminError> {
        self.webhooks
            .get(id)
            .await?
            .ok_or_else(|| AdminError::NotFound(id.clone()))
    }

    /// Stores, generates or removes the secret; the new reference, and the secret
    /// itself when the service made it.
    async fn apply_secret(
        &self,
        id: &WebhookId,
        change: &SecretChange,
        now: Timestamp,
    ) -> Result<AppliedSecret, StoreError> {
        match change {
            SecretChange::Set(secret) => Ok(AppliedSecret {
                reference: Some(self.secrets.put(id, secret, now).await?),
                generated: None,
            }),
            SecretChange::Generate => {
                let secret = generate_secret();
                let reference = self.secrets.put(id, &secret, now).await?;
                Ok(AppliedSecret {
                    reference: Some(reference),
                    generated: Some(secret),
                })
            }
            SecretChange::Remove => {
                self.secrets.remove_signing(id).await?;
                Ok(AppliedSecret::default())
            }
        }
    }
}

#[cfg(test)]
mod first_secret_race;
#[cfg(test)]
mod headers_tests;
#[cfg(test)]
mod tests;
