//! Signing secrets in Secrets Manager: one secret per webhook, named
//! `{SECRET_PREFIX}{webhook_id}`, whose value is the JSON
//! `{"current": "...", "previous": "..."|null, "rotated_at": "<RFC 3339>"|null}`, so
//! one `GetSecretValue` gives both secrets of a rotation. Secret values never appear
//! in a log line or an error.

use async_trait::async_trait;
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use aws_sdk_secretsmanager::Client;
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::secret::{SecretRef, StoredSecret};
use webhooks_core::domain::signing::SigningSecrets;
use webhooks_core::domain::time::Timestamp;
use webhooks_core::ports::{SecretReader, SecretWriter, StoreError};

use crate::error::{sdk_error, AwsError};
use crate::secret_cache::SecretLoader;

/// Days a removed secret can still be restored by an operator (`DeleteSecret`'s
/// recovery window). A new secret for the same webhook restores and overwrites it.
pub const RECOVERY_WINDOW_DAYS: i64 = 7;

/// Tries of a `put` that races another writer of the same secret.
const PUT_TRIES: usize = 3;

/// The JSON text of a stored secret, and its parsing: the value type and its rotation
/// rule are core's [`StoredSecret`].
trait SecretValueJson: Sized {
    fn to_json(&self) -> String;
    fn parse(name: &str, text: &str) -> Result<Self, StoreError>;
}

impl SecretValueJson for StoredSecret {
    fn to_json(&self) -> String {
        serde_json::json!({
            "current": self.current,
            "previous": self.previous,
            "rotated_at": self.rotated_at,
        })
        .to_string()
    }

    /// Parses a secret value; the error says where it is malformed but never quotes
    /// it.
    fn parse(name: &str, text: &str) -> Result<Self, StoreError> {
        serde_json::from_str(text).map_err(|error| {
            AwsError::new(
                "GetSecretValue",
                format!(
                    "the value of secret {name} is not the expected JSON object \
                     (current, previous, rotated_at): {:?} error at line {} column {}",
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
    Found(StoredSecret),
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
}

impl SecretsManagerStore {
    /// `prefix` is `SECRET_PREFIX` (see [`crate::config::secret_prefix`]).
    pub fn new(client: Client, prefix: impl Into<String>) -> Self {
        Self {
            client,
            prefix: prefix.into(),
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
                Ok(Lookup::Found(StoredSecret::parse(name, text)?))
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

    async fn put_value(&self, name: &str, value: &StoredSecret) -> Result<SecretRef, StoreError> {
        let output = self
            .client
            .put_secret_value()
            .secret_id(name)
            .secret_string(value.to_json())
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
        value: Option<&StoredSecret>,
    ) -> Result<Option<SecretRef>, StoreError> {
        let result = self
            .client
            .create_secret()
            .name(name)
            .description(format!("Signing secret of webhook {id}"))
            .set_secret_string(value.map(StoredSecret::to_json))
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

#[async_trait]
impl SecretWriter for SecretsManagerStore {
    /// Creates the secret (`CreateSecret`), or rotates it (`PutSecretValue` with the
    /// current value as `previous` and `rotated_at` = `now`). A removed secret is
    /// restored and overwritten, starting without a previous one. Returns the ARN.
    async fn put(
        &self,
        id: &WebhookId,
        secret: &str,
        now: Timestamp,
    ) -> Result<SecretRef, StoreError> {
        let name = self.secret_name(id);
        let mut exists = false;
        for _ in 0..PUT_TRIES {
            match self.lookup(&name).await? {
                Lookup::Found(value) => {
                    return self.put_value(&name, &value.rotated(secret, now)).await;
                }
                // It exists without a value (prepared): this is its first value.
                Lookup::Missing if exists => {
                    return self.put_value(&name, &StoredSecret::new(secret)).await;
                }
                Lookup::Missing => {
                    let first = StoredSecret::new(secret);
                    if let Some(arn) = self.create(id, &name, Some(&first)).await? {
                        return Ok(arn);
                    }
                    // It exists: prepared without a value, or created with one by
                    // another writer meanwhile (then the next lookup rotates it).
                    exists = true;
                }
                Lookup::Deleted => {
                    self.client
                        .restore_secret()
                        .secret_id(&name)
                        .send()
                        .await
                        .map_err(sdk_error("RestoreSecret"))?;
                    return self.put_value(&name, &StoredSecret::new(secret)).await;
                }
            }
        }
        Err(AwsError::new(
            "CreateSecret",
            format!("secret {name} kept changing while it was being set"),
        )
        .into())
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
        Ok(self.load(id).await?.map(|value| value.signing(now)))
    }
}

#[async_trait]
impl SecretLoader for SecretsManagerStore {
    async fn load(&self, id: &WebhookId) -> Result<Option<StoredSecret>, StoreError> {
        match self.lookup(&self.secret_name(id)).await? {
            Lookup::Found(value) => Ok(Some(value)),
            Lookup::Missing | Lookup::Deleted => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(seconds: u64) -> Timestamp {
        Timestamp::parse("2026-11-28T12:00:00Z")
            .unwrap()
            .plus(Duration::from_secs(seconds))
    }

    #[test]
    fn the_value_is_the_documented_json() {
        let value = StoredSecret {
            current: "new-secret".into(),
            previous: Some("old-secret".into()),
            rotated_at: Some(at(0)),
        };
        let json: serde_json::Value = serde_json::from_str(&value.to_json()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"current": "new-secret", "previous": "old-secret",
                "rotated_at": "2026-11-28T12:00:00.000Z"})
        );
        let fresh: serde_json::Value =
            serde_json::from_str(&StoredSecret::new("s").to_json()).unwrap();
        assert_eq!(
            fresh,
            serde_json::json!({"current": "s", "previous": null, "rotated_at": null})
        );
    }

    #[test]
    fn a_malformed_value_is_reported_without_quoting_it() {
        let error = StoredSecret::parse("webhooks/wh_1", "\"whsec_plaintextSecret\"").unwrap_err();
        let text = error.to_string();
        assert!(text.contains("webhooks/wh_1"), "{text}");
        assert!(!text.contains("plaintextSecret"), "{text}");
        assert!(!format!("{:?}", StoredSecret::new("hidden-value")).contains("hidden-value"));
    }
}
