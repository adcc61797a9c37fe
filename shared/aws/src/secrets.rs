//! Signing secrets and custom header values in Secrets Manager: one secret per
//! webhook, named `{SECRET_PREFIX}{webhook_id}`, whose value is the JSON of core's
//! [`SecretEntry`]: `{"current": "..."|null, "previous": "..."|null, "rotated_at":
//! "<RFC 3339>"|null, "headers"?: {...}}`, so one `GetSecretValue` gives both secrets
//! of a rotation and the headers. Values never appear in a log line or an error.

use async_trait::async_trait;
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use aws_sdk_secretsmanager::types::Tag;
use aws_sdk_secretsmanager::Client;
use webhooks_core::domain::custom_headers::CustomHeaders;
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::secret::SecretRef;
use webhooks_core::domain::secret_entry::SecretEntry;
use webhooks_core::domain::signing::SigningSecrets;
use webhooks_core::domain::time::Timestamp;
use webhooks_core::ports::{SecretReader, SecretWriter, StoreError};

use crate::error::{sdk_error, AwsError};
use crate::secret_cache::{headers_of, signing_of, SecretLoader};

/// Days a removed secret can still be restored by an operator (`DeleteSecret`'s
/// recovery window). A new secret for the same webhook restores and overwrites it.
pub const RECOVERY_WINDOW_DAYS: i64 = 7;

/// Tries of a `put` that races another writer of the same secret.
const PUT_TRIES: usize = 3;

/// The JSON text of a stored entry, and its parsing: the value type, its JSON and its
/// rotation rule are core's [`SecretEntry`].
trait SecretValueJson: Sized {
    fn to_json(&self) -> Result<String, StoreError>;
    fn parse(name: &str, text: &str) -> Result<Self, StoreError>;
}

impl SecretValueJson for SecretEntry {
    fn to_json(&self) -> Result<String, StoreError> {
        serde_json::to_string(self).map_err(|error| {
            AwsError::new(
                "PutSecretValue",
                format!(
                    "the secret value could not be written as JSON: {:?}",
                    error.classify()
                ),
            )
            .into()
        })
    }

    /// Parses a secret value; the error says where it is malformed but never quotes
    /// it.
    fn parse(name: &str, text: &str) -> Result<Self, StoreError> {
        serde_json::from_str(text).map_err(|error| {
            AwsError::new(
                "GetSecretValue",
                format!(
                    "the value of secret {name} is not the expected JSON object \
                     (current, previous, rotated_at, headers): {:?} error at line {} column {}",
                    error.classify(),
                    error.line(),
                    error.column()
                ),
            )
            .into()
        })
    }
}

/// What a lookup found.
enum Lookup {
    Found(SecretEntry),
    /// No such secret.
    Missing,
    /// Scheduled for deletion (removed), still restorable.
    Deleted,
}

/// [`SecretStore`] on Secrets Manager.
#[derive(Clone, Debug)]
pub struct SecretsManagerStore {
    client: Client,
    prefix: String,
    /// The `webhooks:stack` tag's value secrets are created with, when set.
    stack_tag: Option<String>,
}

/// The tag naming the stack a secret belongs to (its IAM policies require it).
pub const STACK_TAG_KEY: &str = "webhooks:stack";

impl SecretsManagerStore {
    /// `prefix` is `SECRET_PREFIX` (see [`crate::config::secret_prefix`]).
    pub fn new(client: Client, prefix: impl Into<String>) -> Self {
        Self {
            client,
            prefix: prefix.into(),
            stack_tag: None,
        }
    }

    /// Secrets this store creates carry the tag `webhooks:stack` = `stack`
    /// (`SECRETS_STACK_TAG`, see [`crate::config::secrets_stack_tag`]).
    pub fn tagged(self, stack: Option<String>) -> Self {
        Self {
            stack_tag: stack,
            ..self
        }
    }

    /// The secret's name: `{prefix}{webhook_id}`.
    pub fn secret_name(&self, id: &WebhookId) -> String {
        format!("{}{}", self.prefix, id)
    }

    async fn lookup(&self, name: &str) -> Result<Lookup, StoreError> {
        match self.client.get_secret_value().secret_id(name).send().await {
            Ok(output) => {
                let text = output.secret_string().ok_or_else(|| {
                    StoreError::from(AwsError::new(
                        "GetSecretValue",
                        format!("secret {name} holds no string value"),
                    ))
                })?;
                Ok(Lookup::Found(SecretEntry::parse(name, text)?))
            }
            Err(error) => match error.as_service_error() {
                Some(e) if e.is_resource_not_found_exception() => Ok(Lookup::Missing),
                // A secret scheduled for deletion answers InvalidRequestException.
                Some(e) if e.is_invalid_request_exception() => {
                    if self.scheduled_for_deletion(name).await? {
                        Ok(Lookup::Deleted)
                    } else {
                        Err(sdk_error("GetSecretValue")(error))
                    }
                }
                _ => Err(sdk_error("GetSecretValue")(error)),
            },
        }
    }

    /// The secret's ARN, when it exists (with a value or not, scheduled for deletion
    /// or not).
    async fn describe_arn(&self, name: &str) -> Result<Option<SecretRef>, StoreError> {
        match self.client.describe_secret().secret_id(name).send().await {
            Ok(output) => Ok(Some(SecretRef::new(output.arn().unwrap_or(name)))),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(error) => Err(sdk_error("DescribeSecret")(error)),
        }
    }

    async fn scheduled_for_deletion(&self, name: &str) -> Result<bool, StoreError> {
        match self.client.describe_secret().secret_id(name).send().await {
            Ok(output) => Ok(output.deleted_date().is_some()),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(false)
            }
            Err(error) => Err(sdk_error("DescribeSecret")(error)),
        }
    }

    async fn put_value(&self, name: &str, value: &SecretEntry) -> Result<SecretRef, StoreError> {
        let output = self
            .client
            .put_secret_value()
            .secret_id(name)
            .secret_string(value.to_json()?)
            .send()
            .await
            .map_err(sdk_error("PutSecretValue"))?;
        Ok(SecretRef::new(output.arn().unwrap_or(name)))
    }

    /// Creates the secret, with `value` or (prepared) none; `None` when it exists.
    async fn create(
        &self,
        id: &WebhookId,
        name: &str,
        value: Option<&SecretEntry>,
    ) -> Result<Option<SecretRef>, StoreError> {
        let result = self
            .client
            .create_secret()
            .name(name)
            .set_tags(
                self.stack_tag
                    .as_ref()
                    .map(|stack| vec![Tag::builder().key(STACK_TAG_KEY).value(stack).build()]),
            )
            .description(format!(
                "Signing secret and custom header values of webhook {id}"
            ))
            .set_secret_string(value.map(SecretEntry::to_json).transpose()?)
            .send()
            .await;
        match result {
            Ok(output) => Ok(Some(SecretRef::new(output.arn().unwrap_or(name)))),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_exists_exception()) =>
            {
                Ok(None)
            }
            Err(error) => Err(sdk_error("CreateSecret")(error)),
        }
    }
}

impl SecretsManagerStore {
    /// Reads the webhook's entry, applies `change` and writes the result: `PutSecretValue`
    /// on an existing secret, `CreateSecret` on a missing one, `RestoreSecret` first on
    /// one scheduled for deletion (whose old value is not a predecessor: `change`
    /// starts from an empty entry), and `DeleteSecret` when the result is empty. The
    /// ARN, when a value was written.
    async fn update(
        &self,
        id: &WebhookId,
        change: impl Fn(&SecretEntry) -> SecretEntry + Send + Sync,
    ) -> Result<Option<SecretRef>, StoreError> {
        let name = self.secret_name(id);
        let mut exists = false;
        for _ in 0..PUT_TRIES {
            let lookup = self.lookup(&name).await?;
            let next = match &lookup {
                Lookup::Found(value) => change(value),
                Lookup::Missing | Lookup::Deleted => change(&SecretEntry::default()),
            };
            if next.is_empty() {
                if !matches!(lookup, Lookup::Deleted) {
                    self.remove(id).await?;
                }
                return Ok(None);
            }
            match lookup {
                Lookup::Found(_) => return self.put_value(&name, &next).await.map(Some),
                // It exists without a value (prepared): this is its first value.
                Lookup::Missing if exists => return self.put_value(&name, &next).await.map(Some),
                Lookup::Missing => {
                    if let Some(arn) = self.create(id, &name, Some(&next)).await? {
                        return Ok(Some(arn));
                    }
                    // It exists: prepared without a value, or created with one by
                    // another writer meanwhile (then the next lookup changes that).
                    exists = true;
                }
                Lookup::Deleted => {
                    self.client
                        .restore_secret()
                        .secret_id(&name)
                        .send()
                        .await
                        .map_err(sdk_error("RestoreSecret"))?;
                    return self.put_value(&name, &next).await.map(Some);
                }
            }
        }
        Err(AwsError::new(
            "CreateSecret",
            format!("secret {name} kept changing while it was being set"),
        )
        .into())
    }
}

#[async_trait]
impl SecretWriter for SecretsManagerStore {
    /// Creates the secret (`CreateSecret`), or rotates it (`PutSecretValue` with the
    /// current value as `previous` and `rotated_at` = `now`), keeping the header values.
    /// A removed secret is restored and overwritten, starting without a previous one.
    /// Returns the ARN.
    async fn put(
        &self,
        id: &WebhookId,
        secret: &str,
        now: Timestamp,
    ) -> Result<SecretRef, StoreError> {
        let name = self.secret_name(id);
        let written = self
            .update(id, |entry| entry.with_secret(secret, now))
            .await?;
        written.ok_or_else(|| {
            AwsError::new("PutSecretValue", format!("secret {name} was not written")).into()
        })
    }

    /// Writes the entry without its signing secret; deletes it (as
    /// [`remove`](Self::remove)) when no header value is left.
    async fn remove_signing(&self, id: &WebhookId) -> Result<(), StoreError> {
        self.update(id, SecretEntry::without_secret).await.map(drop)
    }

    /// Writes the entry with `headers` in place of its header values; deletes it (as
    /// [`remove`](Self::remove)) when that leaves neither a secret nor a header.
    async fn put_headers(&self, id: &WebhookId, headers: &CustomHeaders) -> Result<(), StoreError> {
        self.update(id, |entry| entry.with_headers(headers))
            .await
            .map(drop)
    }

    /// Schedules the secret's deletion (`DeleteSecret` with a recovery window of
    /// [`RECOVERY_WINDOW_DAYS`]); from then on it reads as absent. Removing a secret
    /// that is missing or already scheduled is not an error.
    async fn remove(&self, id: &WebhookId) -> Result<(), StoreError> {
        let name = self.secret_name(id);
        let result = self
            .client
            .delete_secret()
            .secret_id(&name)
            .recovery_window_in_days(RECOVERY_WINDOW_DAYS)
            .force_delete_without_recovery(false)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => match error.as_service_error() {
                Some(e) if e.is_resource_not_found_exception() => Ok(()),
                Some(e) if e.is_invalid_request_exception() => {
                    if self.scheduled_for_deletion(&name).await? {
                        Ok(())
                    } else {
                        tracing::warn!(secret = %name, code = ?e.code(), "DeleteSecret refused");
                        Err(sdk_error("DeleteSecret")(error))
                    }
                }
                _ => Err(sdk_error("DeleteSecret")(error)),
            },
        }
    }

    /// The secret's ARN (`DescribeSecret`), creating it without a value when it does
    /// not exist (`CreateSecret`): no value is current until [`put`](Self::put).
    async fn prepare(&self, id: &WebhookId) -> Result<SecretRef, StoreError> {
        let name = self.secret_name(id);
        if let Some(arn) = self.describe_arn(&name).await? {
            return Ok(arn);
        }
        if let Some(arn) = self.create(id, &name, None).await? {
            return Ok(arn);
        }
        self.describe_arn(&name).await?.ok_or_else(|| {
            AwsError::new("CreateSecret", format!("secret {name} exists and does not")).into()
        })
    }
}

#[async_trait]
impl SecretReader for SecretsManagerStore {
    async fn get(
        &self,
        id: &WebhookId,
        now: Timestamp,
    ) -> Result<Option<SigningSecrets>, StoreError> {
        signing_of(self, id, now).await
    }

    async fn headers(
        &self,
        id: &WebhookId,
        names: &[String],
    ) -> Result<Option<CustomHeaders>, StoreError> {
        headers_of(self, id, names).await
    }
}

#[async_trait]
impl SecretLoader for SecretsManagerStore {
    async fn load(&self, id: &WebhookId) -> Result<Option<SecretEntry>, StoreError> {
        self.load_one(id).await
    }

    async fn load_many(&self, ids: &[WebhookId]) -> Vec<Result<Option<SecretEntry>, StoreError>> {
        self.load_batched(ids).await
    }
}

impl SecretsManagerStore {
    async fn load_one(&self, id: &WebhookId) -> Result<Option<SecretEntry>, StoreError> {
        match self.lookup(&self.secret_name(id)).await? {
            Lookup::Found(value) => Ok(Some(value)),
            Lookup::Missing | Lookup::Deleted => Ok(None),
        }
    }
}

mod batch;
pub use batch::MAX_NAMES_PER_BATCH;

#[cfg(test)]
mod tests;
