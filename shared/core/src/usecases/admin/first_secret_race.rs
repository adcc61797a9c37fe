//! Two PATCHes giving a webhook its first secret at once, both at the same version: the
//! winner's whole PATCH runs while the loser is between reading the webhook and its
//! conditional write. The secret that signs is the winner's, and the loser stores none.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::*;
use crate::ports::{SecretReader, WebhookRegistry};
use crate::testing::fakes::ManualClock;
use crate::testing::fixtures::{base_time, webhook};
use crate::testing::memory::{MemorySecretStore, MemoryWebhookStore};

type Winner<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// The loser's view of the secret store: its `prepare` lets `winner` run to the end
/// first; its puts are counted.
struct Interleaved<'a> {
    inner: &'a MemorySecretStore,
    winner: Mutex<Option<Winner<'a>>>,
    puts: AtomicUsize,
}

#[async_trait::async_trait]
impl SecretWriter for Interleaved<'_> {
    async fn put(
        &self,
        id: &WebhookId,
        secret: &str,
        now: Timestamp,
    ) -> Result<SecretRef, StoreError> {
        self.puts.fetch_add(1, Ordering::SeqCst);
        self.inner.put(id, secret, now).await
    }

    async fn remove(&self, id: &WebhookId) -> Result<(), StoreError> {
        self.inner.remove(id).await
    }

    async fn remove_signing(&self, id: &WebhookId) -> Result<(), StoreError> {
        self.inner.remove_signing(id).await
    }

    async fn put_headers(&self, id: &WebhookId, headers: &CustomHeaders) -> Result<(), StoreError> {
        self.puts.fetch_add(1, Ordering::SeqCst);
        self.inner.put_headers(id, headers).await
    }

    async fn prepare(&self, id: &WebhookId) -> Result<SecretRef, StoreError> {
        let winner = self.winner.lock().unwrap().take();
        if let Some(winner) = winner {
            winner.await;
        }
        self.inner.prepare(id).await
    }
}

fn set_secret(secret: &str) -> WebhookFields {
    WebhookFields {
        secret: Some(SecretChange::Set(secret.to_owned())),
        ..WebhookFields::default()
    }
}

#[tokio::test]
async fn a_first_secret_that_loses_its_race_is_never_stored() {
    // GIVEN a webhook without a secret, at version 1
    let (webhooks, secrets, clock) = (
        MemoryWebhookStore::default(),
        MemorySecretStore::default(),
        ManualClock::at(base_time()),
    );
    let hook = webhook("report.publish_status");
    webhooks.insert(&hook).await.expect("insert");
    let winner = WebhookAdmin {
        webhooks: &webhooks,
        secrets: &secrets,
        clock: &clock,
    };
    let id = hook.id.clone();
    let winning: Winner<'_> = Box::pin(async move {
        winner
            .update(&id, set_secret("the-winners-secret-0001"), Some(1))
            .await
            .expect("the winner's PATCH");
    });
    let loser_view = Interleaved {
        inner: &secrets,
        winner: Mutex::new(Some(winning)),
        puts: AtomicUsize::new(0),
    };
    let loser = WebhookAdmin {
        webhooks: &webhooks,
        secrets: &loser_view,
        clock: &clock,
    };
    // WHEN the loser PATCHes its own first secret at version 1 meanwhile
    let lost = loser
        .update(&hook.id, set_secret("the-losers-secret-00001"), Some(1))
        .await;
    // THEN the loser is told the version moved, never stored its secret, and only the
    // winner's signs
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
    assert_eq!(loser_view.puts.load(Ordering::SeqCst), 0);
    let stored = secrets
        .get(&hook.id, base_time())
        .await
        .expect("get")
        .expect("the winner's secret");
    assert_eq!(stored.current, "the-winners-secret-0001");
    assert_eq!(stored.previous, None);
}
