//! What every [`SecretStore`] must do.

use std::time::Duration;

use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::signing::SigningSecrets;
use webhooks_core::ports::{SecretStore, ROTATION_GRACE};

use super::support::{at, base_time};

/// Expands to one `#[tokio::test]` per case below, and the custom-header cases of
/// [`super::secret_headers`]; see [`crate::conformance`].
#[macro_export]
macro_rules! secret_store_conformance {
    ($store:expr) => {
        $crate::conformance_tests!(
            secret_store,
            $store,
            [
                get_of_a_webhook_without_a_secret_is_none,
                put_then_get_returns_the_secret_alone_and_a_reference_without_it,
                a_rotation_keeps_the_previous_secret_during_the_grace_period_only,
                a_second_rotation_replaces_the_previous_secret,
                remove_deletes_the_secret_and_can_be_repeated,
                a_secret_put_after_removal_starts_without_a_previous_one,
                secrets_of_different_webhooks_are_separate,
                prepare_names_the_secret_without_storing_one,
            ]
        );
        $crate::secret_headers_conformance!($store);
    };
}

const MINUTE: Duration = Duration::from_secs(60);

fn secrets(current: &str, previous: Option<&str>) -> Option<SigningSecrets> {
    Some(SigningSecrets {
        current: current.to_owned(),
        previous: previous.map(str::to_owned),
    })
}

pub async fn get_of_a_webhook_without_a_secret_is_none(store: &dyn SecretStore) {
    let found = store
        .get(&WebhookId::generate(), base_time())
        .await
        .expect("get");
    assert_eq!(found, None);
}

pub async fn put_then_get_returns_the_secret_alone_and_a_reference_without_it(
    store: &dyn SecretStore,
) {
    // GIVEN a webhook without a secret
    let id = WebhookId::generate();
    // WHEN a secret is stored
    let secret = "whsec_conformanceConformance0123";
    let reference = store.put(&id, secret, base_time()).await.expect("put");
    // THEN it signs alone, and the reference names it without containing it
    assert_eq!(
        store.get(&id, base_time()).await.expect("get"),
        secrets(secret, None)
    );
    assert!(!reference.as_str().is_empty());
    assert!(
        !reference.as_str().contains(secret),
        "the reference must not reveal the secret"
    );
}

pub async fn a_rotation_keeps_the_previous_secret_during_the_grace_period_only(
    store: &dyn SecretStore,
) {
    // GIVEN a secret rotated an hour after it was set
    let id = WebhookId::generate();
    store
        .put(&id, "first-secret-0123456789", base_time())
        .await
        .expect("put");
    let rotated_at = at(3600);
    store
        .put(&id, "second-secret-0123456789", rotated_at)
        .await
        .expect("rotate");
    // WHEN the secrets are read at the rotation, just inside the grace period and
    // just after it
    let at_rotation = store.get(&id, rotated_at).await.expect("get");
    let inside = store
        .get(&id, rotated_at.plus(ROTATION_GRACE - MINUTE))
        .await
        .expect("get");
    let after = store
        .get(&id, rotated_at.plus(ROTATION_GRACE + MINUTE))
        .await
        .expect("get");
    // THEN both sign until the grace period ends, then the new one alone
    let both = secrets("second-secret-0123456789", Some("first-secret-0123456789"));
    assert_eq!(at_rotation, both);
    assert_eq!(inside, both);
    assert_eq!(after, secrets("second-secret-0123456789", None));
}

pub async fn a_second_rotation_replaces_the_previous_secret(store: &dyn SecretStore) {
    // GIVEN a secret rotated twice
    let id = WebhookId::generate();
    store
        .put(&id, "secret-a-0123456789ab", at(0))
        .await
        .expect("put");
    store
        .put(&id, "secret-b-0123456789ab", at(60))
        .await
        .expect("rotate");
    store
        .put(&id, "secret-c-0123456789ab", at(120))
        .await
        .expect("rotate again");
    // WHEN read right after the second rotation
    let found = store.get(&id, at(180)).await.expect("get");
    // THEN the latest signs with the one it replaced; the oldest is gone
    assert_eq!(
        found,
        secrets("secret-c-0123456789ab", Some("secret-b-0123456789ab"))
    );
}

pub async fn remove_deletes_the_secret_and_can_be_repeated(store: &dyn SecretStore) {
    // GIVEN a rotated secret
    let id = WebhookId::generate();
    store
        .put(&id, "secret-a-0123456789ab", at(0))
        .await
        .expect("put");
    store
        .put(&id, "secret-b-0123456789ab", at(60))
        .await
        .expect("rotate");
    // WHEN it is removed, twice
    store.remove(&id).await.expect("remove");
    store
        .remove(&id)
        .await
        .expect("removing again is not an error");
    // THEN nothing signs any more
    assert_eq!(store.get(&id, at(120)).await.expect("get"), None);
}

pub async fn a_secret_put_after_removal_starts_without_a_previous_one(store: &dyn SecretStore) {
    // GIVEN a secret that was removed
    let id = WebhookId::generate();
    store
        .put(&id, "secret-a-0123456789ab", at(0))
        .await
        .expect("put");
    store.remove(&id).await.expect("remove");
    // WHEN a new secret is set
    store
        .put(&id, "secret-b-0123456789ab", at(60))
        .await
        .expect("put again");
    // THEN it signs alone: the removed one is not its predecessor
    assert_eq!(
        store.get(&id, at(61)).await.expect("get"),
        secrets("secret-b-0123456789ab", None)
    );
}

pub async fn secrets_of_different_webhooks_are_separate(store: &dyn SecretStore) {
    // GIVEN two webhooks with secrets
    let (one, two) = (WebhookId::generate(), WebhookId::generate());
    store
        .put(&one, "secret-one-0123456789", at(0))
        .await
        .expect("put");
    store
        .put(&two, "secret-two-0123456789", at(0))
        .await
        .expect("put");
    // WHEN one is rotated and the other removed
    store
        .put(&one, "secret-one-rotated-0123", at(10))
        .await
        .expect("rotate");
    store.remove(&two).await.expect("remove");
    // THEN each change touched only its own webhook
    assert_eq!(
        store.get(&one, at(11)).await.expect("get"),
        secrets("secret-one-rotated-0123", Some("secret-one-0123456789"))
    );
    assert_eq!(store.get(&two, at(11)).await.expect("get"), None);
}

pub async fn prepare_names_the_secret_without_storing_one(store: &dyn SecretStore) {
    // GIVEN a webhook without a secret
    let id = WebhookId::generate();
    // WHEN its secret is prepared, twice
    let prepared = store.prepare(&id).await.expect("prepare");
    let again = store.prepare(&id).await.expect("prepare again");
    // THEN both name it, and nothing signs yet
    assert_eq!(prepared, again);
    assert_eq!(store.get(&id, at(0)).await.expect("get"), None);
    // AND a secret put afterwards is its first, under the same reference
    let reference = store
        .put(&id, "first-secret-0123456789", at(1))
        .await
        .expect("put");
    assert_eq!(reference, prepared);
    assert_eq!(
        store.get(&id, at(2)).await.expect("get"),
        secrets("first-secret-0123456789", None)
    );
}
