//! The secret store a [`SecretsMode`] names, as one type the functions wire (and the
//! delivery function's [`CachedSecrets`](crate::CachedSecrets) wraps), whichever
//! mode the stack runs.

use async_trait::async_trait;
use webhooks_core::domain::custom_headers::CustomHeaders;
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::secret::SecretRef;
use webhooks_core::domain::secret_entry::SecretEntry;
use webhooks_core::domain::signing::SigningSecrets;
use webhooks_core::domain::time::Timestamp;
use webhooks_core::ports::{SecretReader, SecretWriter, StoreError};

use crate::config::SecretsMode;
use crate::kms_secrets::KmsSecretStore;
use crate::sdk::AwsClients;
use crate::secret_cache::{headers_of, signing_of, SecretLoader};
use crate::secrets::SecretsManagerStore;

/// Secrets Manager or KMS envelope, as configured.
#[derive(Clone, Debug)]
pub enum ModeSecretStore {
    SecretsManager(SecretsManagerStore),
    Kms(KmsSecretStore),
}

impl ModeSecretStore {
    /// The store of `mode`; `stack_tag` tags the secrets Secrets Manager creates
    /// (the api function's `SECRETS_STACK_TAG`; the readers need none).
    pub fn new(clients: &AwsClients, mode: &SecretsMode, stack_tag: Option<String>) -> Self {
        match mode {
            SecretsMode::SecretsManager { prefix } => Self::SecretsManager(
                SecretsManagerStore::new(clients.secrets.clone(), prefix).tagged(stack_tag),
            ),
            SecretsMode::Kms {
                key_id,
                table,
                stack,
            } => Self::Kms(
                KmsSecretStore::new(clients.kms.clone(), clients.dynamodb.clone(), table, key_id)
                    .for_stack(stack.clone()),
            ),
        }
    }
}

#[async_trait]
impl SecretLoader for ModeSecretStore {
    async fn load(&self, id: &WebhookId) -> Result<Option<SecretEntry>, StoreError> {
        match self {
            Self::SecretsManager(store) => store.load(id).await,
            Self::Kms(store) => store.load(id).await,
        }
    }

    async fn load_many(&self, ids: &[WebhookId]) -> Vec<Result<Option<SecretEntry>, StoreError>> {
        match self {
            Self::SecretsManager(store) => store.load_many(ids).await,
            Self::Kms(store) => store.load_many(ids).await,
        }
    }
}

#[async_trait]
impl SecretReader for ModeSecretStore {
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
impl SecretWriter for ModeSecretStore {
    async fn put(
        &self,
        id: &WebhookId,
        secret: &str,
        now: Timestamp,
    ) -> Result<SecretRef, StoreError> {
        match self {
            Self::SecretsManager(store) => store.put(id, secret, now).await,
            Self::Kms(store) => store.put(id, secret, now).await,
        }
    }

    async fn remove(&self, id: &WebhookId) -> Result<(), StoreError> {
        match self {
            Self::SecretsManager(store) => store.remove(id).await,
            Self::Kms(store) => store.remove(id).await,
        }
    }

    async fn remove_signing(&self, id: &WebhookId) -> Result<(), StoreError> {
        match self {
            Self::SecretsManager(store) => store.remove_signing(id).await,
            Self::Kms(store) => store.remove_signing(id).await,
        }
    }

    async fn put_headers(&self, id: &WebhookId, headers: &CustomHeaders) -> Result<(), StoreError> {
        match self {
            Self::SecretsManager(store) => store.put_headers(id, headers).await,
            Self::Kms(store) => store.put_headers(id, headers).await,
        }
    }

    async fn prepare(&self, id: &WebhookId) -> Result<SecretRef, StoreError> {
        match self {
            Self::SecretsManager(store) => store.prepare(id).await,
            Self::Kms(store) => store.prepare(id).await,
        }
    }
}
