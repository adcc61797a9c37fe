//! Which custom headers go with a webhook's requests: its deliveries and its connection
//! tests.

use crate::domain::custom_headers::CustomHeaders;
use crate::domain::webhook::Webhook;
use crate::ports::{SecretReader, StoreError};

/// The webhook's custom headers, as the store holds them for the names the webhook
/// lists. The store lacking one of them means the values are still being stored (the
/// names are recorded on the webhook just before the values are written) or were lost
/// outside the service: then nothing is sent without them; the caller tries later
/// ([`StoreError::Unavailable`]).
pub async fn custom_headers(
    store: &dyn SecretReader,
    webhook: &Webhook,
) -> Result<CustomHeaders, StoreError> {
    if webhook.header_names.is_empty() {
        return Ok(CustomHeaders::default());
    }
    match store.headers(&webhook.id, &webhook.header_names).await? {
        Some(headers) => Ok(headers),
        None => Err(StoreError::Unavailable(
            format!(
                "the custom header values of webhook {} are not stored (yet)",
                webhook.id
            )
            .into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::SecretWriter;
    use crate::testing::fixtures::webhook;
    use crate::testing::memory::MemorySecretStore;

    fn values(pairs: &[(&str, &str)]) -> CustomHeaders {
        CustomHeaders::from_stored(pairs.iter().map(|(n, v)| ((*n).into(), (*v).into())))
    }

    #[tokio::test]
    async fn a_webhook_whose_header_values_are_not_stored_is_never_sent_without_them() {
        // GIVEN a webhook listing Authorization and X-Key, whose store holds only X-Key,
        // and one listing no headers
        let store = MemorySecretStore::default();
        let mut listed = webhook("report.publish_status");
        listed.header_names = vec!["Authorization".into(), "X-Key".into()];
        store
            .put_headers(&listed.id, &values(&[("X-Key", "k")]))
            .await
            .unwrap();
        let plain = webhook("report.publish_status");
        // WHEN their headers are asked for
        let waiting = custom_headers(&store, &listed).await;
        let none = custom_headers(&store, &plain).await.unwrap();
        // THEN the first must wait and the second has none
        assert!(
            matches!(waiting, Err(StoreError::Unavailable(_))),
            "{waiting:?}"
        );
        assert!(none.is_empty());
        // AND once both are stored, exactly the listed ones come back (a stale extra
        // value is never sent)
        store
            .put_headers(
                &listed.id,
                &values(&[("Authorization", "a"), ("X-Key", "k"), ("X-Old", "o")]),
            )
            .await
            .unwrap();
        let found = custom_headers(&store, &listed).await.unwrap();
        assert_eq!(found, values(&[("Authorization", "a"), ("X-Key", "k")]));
    }
}
