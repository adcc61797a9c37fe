//! What every [`SecretStore`] must do with custom header values, which it keeps
//! beside the signing secret: each part changes without touching the other.

use webhooks_core::domain::custom_headers::CustomHeaders;
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::ports::SecretStore;

use super::support::at;

/// Expands to one `#[tokio::test]` per case below; [`secret_store_conformance`]
/// includes it, so every secret store runs these too.
///
/// [`secret_store_conformance`]: crate::secret_store_conformance
#[macro_export]
macro_rules! secret_headers_conformance {
    ($store:expr) => {
        $crate::conformance_tests!(
            secret_headers,
            $store,
            [
                headers_of_a_webhook_without_any_are_none_and_none_asked_are_empty,
                stored_headers_are_answered_by_name_and_only_when_all_are_stored,
                put_headers_replaces_the_whole_set,
                headers_and_the_signing_secret_change_apart,
                remove_deletes_the_headers_with_the_secret_and_they_can_come_back,
                a_first_secret_after_headers_keeps_them_under_the_prepared_reference,
            ]
        );
    };
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|name| (*name).to_owned()).collect()
}

fn set(pairs: &[(&str, &str)]) -> CustomHeaders {
    CustomHeaders::from_stored(
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
    )
}

pub async fn headers_of_a_webhook_without_any_are_none_and_none_asked_are_empty(
    store: &dyn SecretStore,
) {
    // GIVEN a webhook with nothing stored
    let id = WebhookId::generate();
    // WHEN a header is asked for, and no header
    let one = store
        .headers(&id, &names(&["Authorization"]))
        .await
        .expect("headers");
    let none = store.headers(&id, &[]).await.expect("headers");
    // THEN the first is not stored and the second is an empty set
    assert_eq!(one, None);
    assert_eq!(none, Some(CustomHeaders::default()));
}

pub async fn stored_headers_are_answered_by_name_and_only_when_all_are_stored(
    store: &dyn SecretStore,
) {
    // GIVEN a webhook with two header values and no secret
    let id = WebhookId::generate();
    let both = set(&[("Authorization", "Splunk 0123-abcd"), ("X-Channel", "c 1")]);
    store.put_headers(&id, &both).await.expect("put headers");
    // WHEN both, one, and one plus a missing name are asked for
    let all = store
        .headers(&id, &names(&["Authorization", "X-Channel"]))
        .await;
    let one = store.headers(&id, &names(&["X-Channel"])).await;
    let missing = store
        .headers(&id, &names(&["Authorization", "X-Other"]))
        .await;
    // THEN the values come back as given, and a missing name makes the answer None
    assert_eq!(all.expect("headers"), Some(both));
    assert_eq!(one.expect("headers"), Some(set(&[("X-Channel", "c 1")])));
    assert_eq!(missing.expect("headers"), None);
    // AND nothing signs
    assert_eq!(store.get(&id, at(0)).await.expect("get"), None);
}

pub async fn put_headers_replaces_the_whole_set(store: &dyn SecretStore) {
    // GIVEN a webhook with headers A and B
    let id = WebhookId::generate();
    store
        .put_headers(&id, &set(&[("A", "1"), ("B", "2")]))
        .await
        .expect("put headers");
    // WHEN its set becomes C alone
    store
        .put_headers(&id, &set(&[("C", "3")]))
        .await
        .expect("replace");
    // THEN A and B are gone and C is stored
    assert_eq!(
        store.headers(&id, &names(&["A"])).await.expect("headers"),
        None
    );
    assert_eq!(
        store.headers(&id, &names(&["B"])).await.expect("headers"),
        None
    );
    assert_eq!(
        store.headers(&id, &names(&["C"])).await.expect("headers"),
        Some(set(&[("C", "3")]))
    );
}

pub async fn headers_and_the_signing_secret_change_apart(store: &dyn SecretStore) {
    // GIVEN a webhook with a secret and a header
    let id = WebhookId::generate();
    let header = set(&[("Authorization", "Bearer t0ken")]);
    store
        .put(&id, "secret-a-0123456789ab", at(0))
        .await
        .expect("put");
    store.put_headers(&id, &header).await.expect("put headers");
    let asked = names(&["Authorization"]);
    // WHEN the secret is rotated THEN the header is kept and both secrets sign
    store
        .put(&id, "secret-b-0123456789ab", at(60))
        .await
        .expect("rotate");
    assert_eq!(
        store.headers(&id, &asked).await.expect("headers"),
        Some(header.clone())
    );
    let signing = store
        .get(&id, at(61))
        .await
        .expect("get")
        .expect("a secret");
    assert_eq!(signing.previous.as_deref(), Some("secret-a-0123456789ab"));
    // WHEN the headers are cleared THEN the secret still signs
    store
        .put_headers(&id, &CustomHeaders::default())
        .await
        .expect("clear");
    assert_eq!(store.headers(&id, &asked).await.expect("headers"), None);
    assert!(store.get(&id, at(62)).await.expect("get").is_some());
    // WHEN headers come back and the signing secret is removed THEN they are kept
    store.put_headers(&id, &header).await.expect("put headers");
    store.remove_signing(&id).await.expect("remove signing");
    assert_eq!(store.get(&id, at(63)).await.expect("get"), None);
    assert_eq!(
        store.headers(&id, &asked).await.expect("headers"),
        Some(header)
    );
    // AND a secret given afterwards is a first one
    store
        .put(&id, "secret-c-0123456789ab", at(64))
        .await
        .expect("put");
    let fresh = store
        .get(&id, at(65))
        .await
        .expect("get")
        .expect("a secret");
    assert_eq!(
        (fresh.current.as_str(), fresh.previous),
        ("secret-c-0123456789ab", None)
    );
}

pub async fn remove_deletes_the_headers_with_the_secret_and_they_can_come_back(
    store: &dyn SecretStore,
) {
    // GIVEN a webhook with a secret and a header
    let id = WebhookId::generate();
    store
        .put(&id, "secret-a-0123456789ab", at(0))
        .await
        .expect("put");
    store
        .put_headers(&id, &set(&[("A", "1")]))
        .await
        .expect("put headers");
    // WHEN everything is removed
    store.remove(&id).await.expect("remove");
    // THEN neither the secret nor the header is stored, and removing the signing
    // secret of nothing is not an error
    assert_eq!(store.get(&id, at(1)).await.expect("get"), None);
    assert_eq!(
        store.headers(&id, &names(&["A"])).await.expect("headers"),
        None
    );
    store
        .remove_signing(&id)
        .await
        .expect("remove signing of nothing");
    // AND headers stored again afterwards are there, alone
    store
        .put_headers(&id, &set(&[("B", "2")]))
        .await
        .expect("put headers again");
    assert_eq!(
        store.headers(&id, &names(&["B"])).await.expect("headers"),
        Some(set(&[("B", "2")]))
    );
    assert_eq!(store.get(&id, at(2)).await.expect("get"), None);
}

pub async fn a_first_secret_after_headers_keeps_them_under_the_prepared_reference(
    store: &dyn SecretStore,
) {
    // GIVEN a webhook with headers only
    let id = WebhookId::generate();
    store
        .put_headers(&id, &set(&[("A", "1")]))
        .await
        .expect("put headers");
    // WHEN its first secret is prepared and then stored
    let prepared = store.prepare(&id).await.expect("prepare");
    assert_eq!(store.get(&id, at(0)).await.expect("get"), None);
    let reference = store
        .put(&id, "first-secret-0123456789", at(1))
        .await
        .expect("put");
    // THEN the secret signs under the prepared reference, and the header is kept
    assert_eq!(reference, prepared);
    let signing = store.get(&id, at(2)).await.expect("get").expect("a secret");
    assert_eq!(signing.current, "first-secret-0123456789");
    assert_eq!(
        store.headers(&id, &names(&["A"])).await.expect("headers"),
        Some(set(&[("A", "1")]))
    );
}
