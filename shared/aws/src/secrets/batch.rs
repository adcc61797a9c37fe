//! Several webhooks' secrets in one `BatchGetSecretValue` (at most 20 names a call):
//! a cold delivery container's fan-out reads its webhooks' secrets together.

use std::collections::HashMap;

use tracing::debug;
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::secret_entry::SecretEntry;
use webhooks_core::ports::StoreError;

use super::{SecretValueJson, SecretsManagerStore};
use crate::error::sdk_error;

/// The most secret names one `BatchGetSecretValue` takes.
pub const MAX_NAMES_PER_BATCH: usize = 20;

impl SecretsManagerStore {
    /// The entries of `ids`, in order. Found values come from the batches; a name a
    /// batch reports an error for, or leaves out, is read alone (`GetSecretValue`,
    /// which tells a missing secret from one scheduled for deletion, as `load` does);
    /// so is every name of a batch that failed as a whole.
    pub(super) async fn load_batched(
        &self,
        ids: &[WebhookId],
    ) -> Vec<Result<Option<SecretEntry>, StoreError>> {
        let mut loaded = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_NAMES_PER_BATCH) {
            let names: Vec<String> = chunk.iter().map(|id| self.secret_name(id)).collect();
            match self.batch_values(&names).await {
                Ok(mut found) => {
                    for (id, name) in chunk.iter().zip(&names) {
                        let entry = match found.remove(name) {
                            Some(text) => SecretEntry::parse(name, &text).map(Some),
                            None => self.load_one(id).await,
                        };
                        loaded.push(entry);
                    }
                }
                Err(error) => {
                    // One secret can fail the whole call (moto: a secret without a
                    // value), so the chunk is read one by one rather than failed.
                    debug!(error = %error, secrets = chunk.len(), "a batched secret read failed; reading one by one");
                    for id in chunk {
                        loaded.push(self.load_one(id).await);
                    }
                }
            }
        }
        loaded
    }

    /// The string values the batch found, by secret name.
    async fn batch_values(&self, names: &[String]) -> Result<HashMap<String, String>, StoreError> {
        let output = self
            .client
            .batch_get_secret_value()
            .set_secret_id_list(Some(names.to_vec()))
            .send()
            .await
            .map_err(sdk_error("BatchGetSecretValue"))?;
        Ok(output
            .secret_values()
            .iter()
            .filter_map(|entry| Some((entry.name()?.to_owned(), entry.secret_string()?.to_owned())))
            .collect())
    }
}
