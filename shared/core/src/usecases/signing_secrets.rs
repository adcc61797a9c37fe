//! Which secrets sign a webhook's requests: its deliveries and its connection tests.

use crate::domain::signing::SigningSecrets;
use crate::domain::time::Timestamp;
use crate::domain::webhook::Webhook;
use crate::ports::{SecretReader, StoreError};

/// A webhook without a secret reference sends unsigned; one with a reference signs with
/// what the store holds. The store holding nothing for it means the secret is still
/// being stored (a first secret is recorded on the webhook just before its value is
/// written) or was lost outside the service: then nothing is sent unsigned; the caller
/// tries later ([`StoreError::Unavailable`]).
pub async fn signing_secrets(
    store: &dyn SecretReader,
    webhook: &Webhook,
    now: Timestamp,
) -> Result<Option<SigningSecrets>, StoreError> {
    if webhook.secret_ref.is_none() {
        return Ok(None);
    }
    match store.get(&webhook.id, now).await? {
        Some(secrets) => Ok(Some(secrets)),
        None => Err(StoreError::Unavailable(
            format!("the secret of webhook {} is not stored (yet)", webhook.id).into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::secret::SecretRef;
    use crate::ports::SecretWriter;
    use crate::testing::fixtures::{base_time, webhook};
    use crate::testing::memory::MemorySecretStore;

    #[tokio::test]
    async fn a_webhook_whose_secret_is_not_stored_is_never_sent_unsigned() {
        // GIVEN a webhook without a secret, and one whose reference is set but whose
        // secret is not stored yet
        let store = MemorySecretStore::default();
        let unsigned = webhook("report.publish_status");
        let mut pending = webhook("report.publish_status");
        pending.secret_ref = Some(SecretRef::new("memory:pending"));
        // WHEN their signing secrets are asked for
        // THEN the first sends unsigned and the second must wait
        assert_eq!(
            signing_secrets(&store, &unsigned, base_time())
                .await
                .unwrap(),
            None
        );
        let waiting = signing_secrets(&store, &pending, base_time()).await;
        assert!(
            matches!(waiting, Err(StoreError::Unavailable(_))),
            "{waiting:?}"
        );
        // AND once stored, it signs
        store
            .put(&pending.id, "the-stored-secret-0001", base_time())
            .await
            .unwrap();
        let signing = signing_secrets(&store, &pending, base_time())
            .await
            .unwrap();
        assert_eq!(
            signing.map(|s| s.current).as_deref(),
            Some("the-stored-secret-0001")
        );
    }
}
