//! The admin use case on the in-memory stores.

use super::*;
use crate::ports::{SecretReader, WebhookRegistry};
use crate::testing::fakes::ManualClock;
use crate::testing::fixtures::{base_time, webhook};
use crate::testing::memory::{MemorySecretStore, MemoryWebhookStore};

const TYPE: &str = "report.publish_status";

struct Stores {
    webhooks: MemoryWebhookStore,
    secrets: MemorySecretStore,
    clock: ManualClock,
}

fn stores() -> Stores {
    Stores {
        webhooks: MemoryWebhookStore::default(),
        secrets: MemorySecretStore::default(),
        clock: ManualClock::at(base_time()),
    }
}

impl Stores {
    fn admin(&self) -> WebhookAdmin<'_> {
        WebhookAdmin {
            webhooks: &self.webhooks,
            secrets: &self.secrets,
            clock: &self.clock,
        }
    }
}

fn create_fields(secret: Option<SecretChange>) -> WebhookFields {
    WebhookFields {
        name: Some("SIEM relay".to_owned()),
        url: Some("https://receiver.example/hook".to_owned()),
        event: Some(TYPE.to_owned()),
        clients: Some(ClientScope::all()),
        secret,
        enabled: None,
        rate_limit_per_second: None,
        headers: None,
    }
}

#[tokio::test]
async fn create_with_a_generated_secret_reveals_it_once_and_stores_it() {
    // GIVEN empty stores
    let stores = stores();
    // WHEN a webhook is created asking for a generated secret
    let created = stores
        .admin()
        .create(create_fields(Some(SecretChange::Generate)))
        .await
        .expect("create");
    // THEN it is enabled at version 1, and the revealed secret is the one that signs
    let secret = created.generated_secret.expect("a generated secret");
    assert!(secret.starts_with("whsec_"));
    assert_eq!(
        (created.webhook.version, created.webhook.enabled),
        (1, true)
    );
    assert!(created.webhook.secret_ref.is_some());
    let signing = stores
        .secrets
        .get(&created.webhook.id, base_time())
        .await
        .expect("get");
    assert_eq!(signing.map(|s| s.current), Some(secret));
}

#[tokio::test]
async fn create_without_a_required_field_is_refused_and_stores_nothing() {
    // GIVEN a create that lacks its url
    let stores = stores();
    let mut fields = create_fields(None);
    fields.url = None;
    // WHEN it is made
    let result = stores.admin().create(fields).await;
    // THEN it names the field and nothing is stored
    assert!(
        matches!(result, Err(AdminError::MissingField("url"))),
        "{result:?}"
    );
    let page = stores
        .webhooks
        .list(&Default::default(), 10, None)
        .await
        .expect("list");
    assert!(page.items.is_empty());
}

#[tokio::test]
async fn an_update_at_a_stale_version_is_refused_and_changes_nothing() {
    // GIVEN a webhook at version 1
    let stores = stores();
    let hook = webhook(TYPE);
    stores.webhooks.insert(&hook).await.expect("insert");
    // WHEN it is renamed on the condition that it is at version 7
    let fields = WebhookFields {
        name: Some("renamed".to_owned()),
        ..WebhookFields::default()
    };
    let result = stores.admin().update(&hook.id, fields, Some(7)).await;
    // THEN the mismatch names both versions and the webhook is as it was
    assert!(
        matches!(
            result,
            Err(AdminError::VersionMismatch {
                current: 1,
                expected: 7
            })
        ),
        "{result:?}"
    );
    assert_eq!(stores.webhooks.stored(&hook.id), Some(hook));
}

#[tokio::test]
async fn re_enabling_a_disabled_webhook_starts_afresh() {
    // GIVEN a webhook the service disabled after a run of failures
    let stores = stores();
    let mut hook = webhook(TYPE);
    hook.enabled = false;
    hook.disabled_reason = Some("the endpoint answered 410 Gone".to_owned());
    hook.failing_since = Some(base_time());
    stores.webhooks.insert(&hook).await.expect("insert");
    stores.clock.advance(std::time::Duration::from_secs(60));
    // WHEN an admin enables it
    let fields = WebhookFields {
        enabled: Some(true),
        ..WebhookFields::default()
    };
    let changed = stores
        .admin()
        .update(&hook.id, fields, None)
        .await
        .expect("update");
    // THEN it has no reason, no failure run, a new version and the update time
    let after = changed.webhook;
    assert!(after.enabled);
    assert_eq!((after.disabled_reason, after.failing_since), (None, None));
    assert_eq!(after.version, 2);
    assert_eq!(
        after.updated_at,
        base_time().plus(std::time::Duration::from_secs(60))
    );
}

#[tokio::test]
async fn delete_removes_the_webhook_and_its_secret() {
    // GIVEN a webhook with a secret
    let stores = stores();
    let created = stores
        .admin()
        .create(create_fields(Some(SecretChange::Set(
            "a-secret-of-16-chars+".to_owned(),
        ))))
        .await
        .expect("create");
    let id = created.webhook.id;
    // WHEN it is deleted, twice
    stores.admin().delete(&id).await.expect("delete");
    let again = stores.admin().delete(&id).await;
    // THEN both are gone and the second delete is not found
    assert_eq!(stores.webhooks.stored(&id), None);
    assert_eq!(
        stores.secrets.get(&id, base_time()).await.expect("get"),
        None
    );
    assert!(matches!(again, Err(AdminError::NotFound(_))), "{again:?}");
}

#[tokio::test]
async fn a_rate_limit_is_set_on_create_kept_by_other_changes_and_removed_by_null() {
    // GIVEN a webhook created with a rate limit of 5 a second
    let stores = stores();
    let fields = WebhookFields {
        rate_limit_per_second: Some(Some(5)),
        ..create_fields(None)
    };
    let created = stores.admin().create(fields).await.expect("create");
    let id = created.webhook.id.clone();
    assert_eq!(created.webhook.rate_limit_per_second, Some(5));
    // WHEN it is renamed
    let rename = WebhookFields {
        name: Some("renamed".to_owned()),
        ..WebhookFields::default()
    };
    let renamed = stores
        .admin()
        .update(&id, rename, None)
        .await
        .expect("update");
    // THEN the limit stays
    assert_eq!(renamed.webhook.rate_limit_per_second, Some(5));
    // WHEN the limit is set to null
    let remove = WebhookFields {
        rate_limit_per_second: Some(None),
        ..WebhookFields::default()
    };
    let removed = stores
        .admin()
        .update(&id, remove, None)
        .await
        .expect("update");
    // THEN the webhook has none, as stored
    assert_eq!(removed.webhook.rate_limit_per_second, None);
    let stored = stores.webhooks.stored(&id).expect("stored");
    assert_eq!(stored.rate_limit_per_second, None);
}
