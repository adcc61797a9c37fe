//! Signing secrets and custom header values envelope-encrypted under one KMS key
//! (`SECRETS_MODE=kms`): each webhook's [`SecretEntry`] JSON (the same value the
//! Secrets Manager adapter stores) is sealed with AES-256-GCM under a fresh data key
//! from `GenerateDataKey`, and kept in the secrets table, one item per webhook:
//! `webhook_id` (S, key), `key_id` (S), `wrapped_key`, `nonce`, `ciphertext` (B),
//! `version` (N). The data key is wrapped with the encryption context
//! `{"webhook_id": <id>}` (and `"stack"` when set), so each `Decrypt` names its
//! webhook in CloudTrail, and the GCM tag also binds the webhook id. Plaintext never
//! appears in a log line or an error.

use std::collections::HashMap;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use async_trait::async_trait;
use aws_sdk_dynamodb::primitives::Blob as DynamoBlob;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_kms::primitives::Blob as KmsBlob;
use aws_sdk_kms::types::DataKeySpec;
use webhooks_core::domain::custom_headers::CustomHeaders;
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::secret::SecretRef;
use webhooks_core::domain::secret_entry::SecretEntry;
use webhooks_core::domain::signing::SigningSecrets;
use webhooks_core::domain::time::Timestamp;
use webhooks_core::ports::{SecretReader, SecretWriter, StoreError};

use crate::error::{sdk_error, AwsError};
use crate::secret_cache::{headers_of, signing_of, SecretLoader};

/// The encryption-context key naming the webhook (IAM conditions use it:
/// `kms:EncryptionContext:webhook_id`).
pub const CONTEXT_WEBHOOK_ID: &str = "webhook_id";
/// The encryption-context key naming the stack, when the store has one.
pub const CONTEXT_STACK: &str = "stack";

/// Tries of a write that races another writer of the same webhook's item.
const PUT_TRIES: usize = 3;
/// AES-GCM's nonce, in bytes.
const NONCE_BYTES: usize = 12;

/// A sealed entry as stored: the wrapped data key, the nonce and the ciphertext.
struct Sealed {
    key_id: String,
    wrapped_key: Vec<u8>,
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
}

/// [`SecretStore`](webhooks_core::ports::SecretStore) on KMS and DynamoDB.
#[derive(Clone, Debug)]
pub struct KmsSecretStore {
    kms: aws_sdk_kms::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    table: String,
    key_id: String,
    stack: Option<String>,
}

impl KmsSecretStore {
    /// `table` is `SECRETS_TABLE`, `key_id` is `SECRETS_KMS_KEY_ID` (an ARN or id).
    pub fn new(
        kms: aws_sdk_kms::Client,
        dynamodb: aws_sdk_dynamodb::Client,
        table: impl Into<String>,
        key_id: impl Into<String>,
    ) -> Self {
        Self {
            kms,
            dynamodb,
            table: table.into(),
            key_id: key_id.into(),
            stack: None,
        }
    }

    /// Data keys are also bound to `"stack": stack` in their encryption context.
    pub fn for_stack(self, stack: Option<String>) -> Self {
        Self { stack, ..self }
    }

    /// The reference recorded on the webhook: the table and the item's key.
    pub fn reference(&self, id: &WebhookId) -> SecretRef {
        SecretRef::new(format!("kms:{}/{}", self.table, id))
    }

    fn context(&self, id: &WebhookId) -> HashMap<String, String> {
        let mut context = HashMap::from([(CONTEXT_WEBHOOK_ID.to_owned(), id.to_string())]);
        if let Some(stack) = &self.stack {
            context.insert(CONTEXT_STACK.to_owned(), stack.clone());
        }
        context
    }

    /// The stored item and its version, `None` when there is none.
    async fn read(&self, id: &WebhookId) -> Result<Option<(Sealed, u64)>, StoreError> {
        let output = self
            .dynamodb
            .get_item()
            .table_name(&self.table)
            .key("webhook_id", AttributeValue::S(id.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error("GetItem"))?;
        output.item.map(|item| from_item(id, &item)).transpose()
    }

    async fn open(&self, id: &WebhookId, sealed: &Sealed) -> Result<SecretEntry, StoreError> {
        let output = self
            .kms
            .decrypt()
            .key_id(&sealed.key_id)
            .ciphertext_blob(KmsBlob::new(sealed.wrapped_key.clone()))
            .set_encryption_context(Some(self.context(id)))
            .send()
            .await
            .map_err(sdk_error("Decrypt"))?;
        let key = output
            .plaintext()
            .ok_or_else(|| AwsError::new("Decrypt", "KMS returned no plaintext key"))?;
        let cipher = Aes256Gcm::new_from_slice(key.as_ref())
            .map_err(|_| AwsError::new("Decrypt", "the data key is not 256 bits"))?;
        if sealed.nonce.len() != NONCE_BYTES {
            return Err(AwsError::new("Decrypt", format!("the nonce of {id} is malformed")).into());
        }
        let aad = id.to_string();
        let plain = cipher
            .decrypt(
                Nonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| {
                AwsError::new(
                    "Decrypt",
                    format!("the secret of {id} does not authenticate (altered or moved)"),
                )
            })?;
        serde_json::from_slice(&plain).map_err(|error| {
            AwsError::new(
                "Decrypt",
                format!(
                    "the secret of {id} is not the expected JSON object: {:?} error",
                    error.classify()
                ),
            )
            .into()
        })
    }

    async fn seal(&self, id: &WebhookId, entry: &SecretEntry) -> Result<Sealed, StoreError> {
        let output = self
            .kms
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .set_encryption_context(Some(self.context(id)))
            .send()
            .await
            .map_err(sdk_error("GenerateDataKey"))?;
        let (Some(key), Some(wrapped)) = (output.plaintext(), output.ciphertext_blob()) else {
            return Err(AwsError::new("GenerateDataKey", "KMS returned no data key").into());
        };
        let cipher = Aes256Gcm::new_from_slice(key.as_ref())
            .map_err(|_| AwsError::new("GenerateDataKey", "the data key is not 256 bits"))?;
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let json = serde_json::to_vec(entry).map_err(|error| {
            AwsError::new(
                "GenerateDataKey",
                format!(
                    "the secret could not be written as JSON: {:?}",
                    error.classify()
                ),
            )
        })?;
        let aad = id.to_string();
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: &json,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| AwsError::new("GenerateDataKey", "AES-GCM sealing failed"))?;
        Ok(Sealed {
            key_id: output.key_id().unwrap_or(&self.key_id).to_owned(),
            wrapped_key: wrapped.as_ref().to_vec(),
            nonce: nonce.to_vec(),
            ciphertext,
        })
    }

    /// Writes `sealed` as version `version + 1`, if the item is still at `version`
    /// (0: absent). `false` when another writer came first.
    async fn write(
        &self,
        id: &WebhookId,
        sealed: Sealed,
        version: u64,
    ) -> Result<bool, StoreError> {
        let condition = if version == 0 {
            "attribute_not_exists(webhook_id)"
        } else {
            "version = :version"
        };
        let result = self
            .dynamodb
            .put_item()
            .table_name(&self.table)
            .item("webhook_id", AttributeValue::S(id.to_string()))
            .item("key_id", AttributeValue::S(sealed.key_id))
            .item(
                "wrapped_key",
                AttributeValue::B(DynamoBlob::new(sealed.wrapped_key)),
            )
            .item("nonce", AttributeValue::B(DynamoBlob::new(sealed.nonce)))
            .item(
                "ciphertext",
                AttributeValue::B(DynamoBlob::new(sealed.ciphertext)),
            )
            .item("version", AttributeValue::N((version + 1).to_string()))
            .condition_expression(condition)
            .set_expression_attribute_values((version != 0).then(|| {
                HashMap::from([(
                    ":version".to_owned(),
                    AttributeValue::N(version.to_string()),
                )])
            }))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(error) => Err(sdk_error("PutItem")(error)),
        }
    }

    /// Reads the webhook's entry, applies `change` and writes the result under a new
    /// data key (deleting the item when the result is empty), retrying when another
    /// writer changed the item meanwhile.
    async fn update(
        &self,
        id: &WebhookId,
        change: impl Fn(&SecretEntry) -> SecretEntry + Send + Sync,
    ) -> Result<(), StoreError> {
        for _ in 0..PUT_TRIES {
            let (current, version) = match self.read(id).await? {
                Some((sealed, version)) => (self.open(id, &sealed).await?, version),
                None => (SecretEntry::default(), 0),
            };
            let next = change(&current);
            if next.is_empty() {
                return self.remove(id).await;
            }
            let sealed = self.seal(id, &next).await?;
            if self.write(id, sealed, version).await? {
                return Ok(());
            }
        }
        Err(AwsError::new(
            "PutItem",
            format!("the secret of {id} kept changing while it was being set"),
        )
        .into())
    }
}

fn from_item(
    id: &WebhookId,
    item: &HashMap<String, AttributeValue>,
) -> Result<(Sealed, u64), StoreError> {
    let missing = |name: &str| {
        StoreError::from(AwsError::new(
            "GetItem",
            format!("the secret item of {id} has no valid {name}"),
        ))
    };
    let bytes = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_b().ok())
            .map(|b| b.as_ref().to_vec())
            .ok_or_else(|| missing(name))
    };
    let key_id = item
        .get("key_id")
        .and_then(|v| v.as_s().ok())
        .cloned()
        .ok_or_else(|| missing("key_id"))?;
    let version = item
        .get("version")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| missing("version"))?;
    Ok((
        Sealed {
            key_id,
            wrapped_key: bytes("wrapped_key")?,
            nonce: bytes("nonce")?,
            ciphertext: bytes("ciphertext")?,
        },
        version,
    ))
}

#[async_trait]
impl SecretWriter for KmsSecretStore {
    /// Stores or rotates the secret (the previous one keeps signing during the grace
    /// period), keeping the header values; one `Decrypt` of the old entry, one
    /// `GenerateDataKey` for the new.
    async fn put(
        &self,
        id: &WebhookId,
        secret: &str,
        now: Timestamp,
    ) -> Result<SecretRef, StoreError> {
        self.update(id, |entry| entry.with_secret(secret, now))
            .await?;
        Ok(self.reference(id))
    }

    /// Deletes the item: there is no recovery window in this mode.
    async fn remove(&self, id: &WebhookId) -> Result<(), StoreError> {
        self.dynamodb
            .delete_item()
            .table_name(&self.table)
            .key("webhook_id", AttributeValue::S(id.to_string()))
            .send()
            .await
            .map_err(sdk_error("DeleteItem"))?;
        Ok(())
    }

    async fn remove_signing(&self, id: &WebhookId) -> Result<(), StoreError> {
        self.update(id, SecretEntry::without_secret).await
    }

    async fn put_headers(&self, id: &WebhookId, headers: &CustomHeaders) -> Result<(), StoreError> {
        self.update(id, |entry| entry.with_headers(headers)).await
    }

    /// The reference is the item's key, known before anything is stored: nothing is
    /// written, so no value is current until [`put`](Self::put).
    async fn prepare(&self, id: &WebhookId) -> Result<SecretRef, StoreError> {
        Ok(self.reference(id))
    }
}

#[async_trait]
impl SecretReader for KmsSecretStore {
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

/// One `GetItem` and one `Decrypt` per cold read.
#[async_trait]
impl SecretLoader for KmsSecretStore {
    async fn load(&self, id: &WebhookId) -> Result<Option<SecretEntry>, StoreError> {
        match self.read(id).await? {
            Some((sealed, _)) => self.open(id, &sealed).await.map(Some),
            None => Ok(None),
        }
    }
}
