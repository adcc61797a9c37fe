//! Custom headers in the admin use case: names on the webhook, values in the secret
//! store written only once the webhook's conditional write won.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use super::*;
use crate::domain::webhook::Webhook;
use crate::ports::{Page, SecretReader, WebhookFilter, WebhookReader, WebhookWriter};
use crate::testing::fakes::ManualClock;
use crate::testing::fixtures::{base_time, webhook};
use crate::testing::memory::{MemorySecretStore, MemoryWebhookStore};

type Turn<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Both stores, journaling the writes that matter in the order they happen; before
/// its first `replace` the webhook store lets `rival` (another admin's PATCH) run.
struct Journaled<'a> {
    webhooks: &'a MemoryWebhookStore,
    secrets: &'a MemorySecretStore,
    journal: &'a Mutex<Vec<&'static str>>,
    rival: Mutex<Option<Turn<'a>>>,
}

impl Journaled<'_> {
    fn note(&self, what: &'static str) {
        self.journal.lock().unwrap().push(what);
    }
}

#[async_trait::async_trait]
impl WebhookReader for Journaled<'_> {
    async fn get(&self, id: &WebhookId) -> Result<Option<Webhook>, StoreError> {
        self.webhooks.get(id).await
    }
}

#[async_trait::async_trait]
impl WebhookWriter for Journaled<'_> {
    async fn replace(&self, webhook: &Webhook, expected: u64) -> Result<(), StoreError> {
        let rival = self.rival.lock().unwrap().take();
        if let Some(rival) = rival {
            rival.await;
        }
        let result = self.webhooks.replace(webhook, expected).await;
        self.note(if result.is_ok() {
            "replace won"
        } else {
            "replace lost"
        });
        result
    }
}

#[async_trait::async_trait]
impl WebhookRegistry for Journaled<'_> {
    async fn insert(&self, webhook: &Webhook) -> Result<(), StoreError> {
        self.webhooks.insert(webhook).await?;
        self.note("insert");
        Ok(())
    }

    async fn delete(&self, id: &WebhookId) -> Result<Option<Webhook>, StoreError> {
        self.webhooks.delete(id).await
    }

    async fn list(
        &self,
        filter: &WebhookFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Webhook>, StoreError> {
        self.webhooks.list(filter, limit, cursor).await
    }
}

#[async_trait::async_trait]
impl SecretWriter for Journaled<'_> {
    async fn put(
        &self,
        id: &WebhookId,
        secret: &str,
        now: Timestamp,
    ) -> Result<SecretRef, StoreError> {
        self.note("put secret");
        self.secrets.put(id, secret, now).await
    }

    async fn remove(&self, id: &WebhookId) -> Result<(), StoreError> {
        self.note("remove");
        self.secrets.remove(id).await
    }

    async fn remove_signing(&self, id: &WebhookId) -> Result<(), StoreError> {
        self.note("remove signing");
        self.secrets.remove_signing(id).await
    }

    async fn put_headers(&self, id: &WebhookId, headers: &CustomHeaders) -> Result<(), StoreError> {
        self.note("put headers");
        self.secrets.put_headers(id, headers).await
    }

    async fn prepare(&self, id: &WebhookId) -> Result<SecretRef, StoreError> {
        self.secrets.prepare(id).await
    }
}

fn set(pairs: &[(&str, &str)]) -> CustomHeaders {
    CustomHeaders::parse(pairs.iter().map(|(n, v)| ((*n).into(), (*v).into()))).unwrap()
}

fn with_headers(headers: CustomHeaders) -> WebhookFields {
    WebhookFields {
        headers: Some(headers),
        ..WebhookFields::default()
    }
}

async fn stored(secrets: &MemorySecretStore, hook: &Webhook) -> Option<CustomHeaders> {
    secrets.headers(&hook.id, &hook.header_names).await.unwrap()
}

struct Fixture {
    webhooks: MemoryWebhookStore,
    secrets: MemorySecretStore,
    clock: ManualClock,
    journal: Mutex<Vec<&'static str>>,
}

impl Fixture {
    fn new() -> Self {
        Self {
            webhooks: MemoryWebhookStore::default(),
            secrets: MemorySecretStore::default(),
            clock: ManualClock::at(base_time()),
            journal: Mutex::new(Vec::new()),
        }
    }

    fn stores<'a>(&'a self, rival: Option<Turn<'a>>) -> Journaled<'a> {
        Journaled {
            webhooks: &self.webhooks,
            secrets: &self.secrets,
            journal: &self.journal,
            rival: Mutex::new(rival),
        }
    }

    fn journal(&self) -> Vec<&'static str> {
        self.journal.lock().unwrap().clone()
    }
}

fn admin<'a, 'b>(stores: &'a Journaled<'b>, clock: &'a ManualClock) -> WebhookAdmin<'a> {
    WebhookAdmin {
        webhooks: stores,
        secrets: stores,
        clock,
    }
}

#[tokio::test]
async fn create_records_the_sorted_names_and_stores_the_values_after_the_insert() {
    // GIVEN empty stores
    let fixture = Fixture::new();
    let stores = fixture.stores(None);
    let fields = WebhookFields {
        name: Some("Splunk".into()),
        url: Some("https://splunk.example/services/collector".into()),
        event: Some("report.publish_status".into()),
        clients: Some(ClientScope::all()),
        ..with_headers(set(&[
            ("X-Channel", "c1"),
            ("Authorization", "Splunk t0ken"),
        ]))
    };
    // WHEN a webhook is created with two headers and no secret
    let created = admin(&stores, &fixture.clock).create(fields).await.unwrap();
    // THEN it lists their names, sorted, has no secret, and the values were stored
    // after the insert
    let hook = created.webhook;
    assert_eq!(hook.header_names, ["Authorization", "X-Channel"]);
    assert!(hook.secret_ref.is_none());
    assert_eq!(fixture.journal(), ["insert", "put headers"]);
    let values = stored(&fixture.secrets, &hook).await.unwrap();
    assert_eq!(
        values,
        set(&[("Authorization", "Splunk t0ken"), ("X-Channel", "c1")])
    );
}

#[tokio::test]
async fn a_patch_replaces_the_whole_set_null_removes_it_and_absence_keeps_it() {
    // GIVEN a webhook with headers A and B
    let fixture = Fixture::new();
    let stores = fixture.stores(None);
    let mut hook = webhook("report.publish_status");
    hook.header_names = vec!["A".into(), "B".into()];
    fixture.webhooks.insert(&hook).await.unwrap();
    fixture
        .secrets
        .put_headers(&hook.id, &set(&[("A", "1"), ("B", "2")]))
        .await
        .unwrap();
    let admin = admin(&stores, &fixture.clock);
    // WHEN a PATCH gives only C
    let replaced = admin
        .update(&hook.id, with_headers(set(&[("C", "3")])), None)
        .await
        .unwrap();
    // THEN C alone is listed and stored, written after the conditional write won
    assert_eq!(replaced.webhook.header_names, ["C"]);
    assert_eq!(
        stored(&fixture.secrets, &replaced.webhook).await,
        Some(set(&[("C", "3")]))
    );
    assert_eq!(fixture.journal(), ["replace won", "put headers"]);
    // AND a PATCH without `headers` keeps them
    let renamed = WebhookFields {
        name: Some("renamed".into()),
        ..WebhookFields::default()
    };
    let kept = admin.update(&hook.id, renamed, None).await.unwrap();
    assert_eq!(kept.webhook.header_names, ["C"]);
    // AND `"headers": null` removes names and values
    let removed = admin
        .update(&hook.id, with_headers(CustomHeaders::default()), None)
        .await
        .unwrap();
    assert!(removed.webhook.header_names.is_empty());
    let left = fixture
        .secrets
        .headers(&hook.id, &["C".into()])
        .await
        .unwrap();
    assert_eq!(left, None);
}

#[tokio::test]
async fn a_patch_that_loses_its_race_stores_no_header_value() {
    // GIVEN a webhook at version 1, and a rival PATCH giving it header X that runs
    // while ours is between reading the webhook and its conditional write
    let fixture = Fixture::new();
    let hook = webhook("report.publish_status");
    fixture.webhooks.insert(&hook).await.unwrap();
    let rival_stores = fixture.stores(None);
    let id = hook.id.clone();
    let clock = &fixture.clock;
    let rival: Turn<'_> = Box::pin(async move {
        let rival = admin(&rival_stores, clock);
        let fields = with_headers(set(&[("X-Rival", "theirs")]));
        rival.update(&id, fields, Some(1)).await.unwrap();
    });
    let stores = fixture.stores(Some(rival));
    // WHEN our PATCH at version 1 gives header X-Ours
    let lost = admin(&stores, clock)
        .update(&hook.id, with_headers(set(&[("X-Ours", "ours")])), Some(1))
        .await;
    // THEN it is refused, wrote no value, and the rival's header alone is stored
    assert!(
        matches!(
            lost,
            Err(AdminError::VersionMismatch {
                current: 2,
                expected: 1
            })
        ),
        "{lost:?}"
    );
    assert_eq!(
        fixture.journal(),
        ["replace won", "put headers", "replace lost"]
    );
    let now = fixture.webhooks.stored(&hook.id).unwrap();
    assert_eq!(now.header_names, ["X-Rival"]);
    assert_eq!(
        stored(&fixture.secrets, &now).await,
        Some(set(&[("X-Rival", "theirs")]))
    );
    let ours = fixture
        .secrets
        .headers(&hook.id, &["X-Ours".into()])
        .await
        .unwrap();
    assert_eq!(ours, None);
}

#[tokio::test]
async fn removing_the_secret_keeps_the_headers_and_delete_removes_both() {
    // GIVEN a webhook with a secret and a header
    let fixture = Fixture::new();
    let stores = fixture.stores(None);
    let admin = admin(&stores, &fixture.clock);
    let fields = WebhookFields {
        name: Some("both".into()),
        url: Some("https://receiver.example/".into()),
        event: Some("report.publish_status".into()),
        clients: Some(ClientScope::all()),
        secret: Some(SecretChange::Set("a-secret-of-16-chars".into())),
        ..with_headers(set(&[("Authorization", "Bearer t")]))
    };
    let hook = admin.create(fields).await.unwrap().webhook;
    // WHEN the secret is removed
    let unsigned = WebhookFields {
        secret: Some(SecretChange::Remove),
        ..WebhookFields::default()
    };
    let changed = admin
        .update(&hook.id, unsigned, None)
        .await
        .unwrap()
        .webhook;
    // THEN nothing signs, and the header is still stored
    assert_eq!(
        fixture.secrets.get(&hook.id, base_time()).await.unwrap(),
        None
    );
    assert!(stored(&fixture.secrets, &changed).await.is_some());
    // AND deleting the webhook removes the header values too
    admin.delete(&hook.id).await.unwrap();
    let after = fixture
        .secrets
        .headers(&hook.id, &changed.header_names)
        .await
        .unwrap();
    assert_eq!(after, None);
}
