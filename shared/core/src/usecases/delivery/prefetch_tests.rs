//! The fan-out tells the secret store, before the first read, which webhooks'
//! secrets it is about to read (a cold cache reads them in one batch).

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::tests::{stored, world_with_secrets, TYPE};
use super::DeliverySettings;
use crate::domain::custom_headers::CustomHeaders;
use crate::domain::ids::WebhookId;
use crate::domain::signing::SigningSecrets;
use crate::domain::time::Timestamp;
use crate::ports::{SecretReader, SecretWriter, StoreError};
use crate::testing::fakes::ScriptedSender;
use crate::testing::fixtures::{base_time, event, webhook};
use crate::testing::memory::MemorySecretStore;

/// A secret store that writes down the calls it gets, in order.
#[derive(Default)]
struct RecordingSecrets {
    store: MemorySecretStore,
    calls: Mutex<Vec<String>>,
}

impl RecordingSecrets {
    fn note(&self, call: String) {
        self.calls.lock().expect("calls").push(call);
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().expect("calls").clone()
    }
}

#[async_trait]
impl SecretReader for RecordingSecrets {
    async fn get(
        &self,
        id: &WebhookId,
        now: Timestamp,
    ) -> Result<Option<SigningSecrets>, StoreError> {
        self.note(format!("get {id}"));
        self.store.get(id, now).await
    }

    async fn headers(
        &self,
        id: &WebhookId,
        names: &[String],
    ) -> Result<Option<CustomHeaders>, StoreError> {
        self.store.headers(id, names).await
    }

    async fn prefetch(&self, ids: &[WebhookId]) {
        let mut ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        ids.sort();
        self.note(format!("prefetch {}", ids.join(",")));
    }
}

#[tokio::test]
async fn a_fan_out_names_its_signed_webhooks_to_the_secret_store_before_reading_one() {
    // GIVEN three webhooks of the type: two signed, one without a secret
    let secrets = Arc::new(RecordingSecrets::default());
    let world = world_with_secrets(
        ScriptedSender::answering([]),
        DeliverySettings::default(),
        secrets.clone(),
    );
    let mut signed = Vec::new();
    for name in ["first", "second"] {
        let mut hook = webhook(TYPE);
        hook.secret_ref = Some(
            secrets
                .store
                .put(&hook.id, &format!("whsec_{name}"), base_time())
                .await
                .expect("secret"),
        );
        signed.push(stored(&world, &hook).await.id.to_string());
    }
    stored(&world, &webhook(TYPE)).await;
    // WHEN an event of the type is processed
    world
        .dispatcher
        .process_event(&event(TYPE, "acme"), None)
        .await
        .expect("process");
    // THEN the store hears of the two signed webhooks at once, before either is read
    signed.sort();
    let calls = secrets.calls();
    assert_eq!(calls[0], format!("prefetch {}", signed.join(",")));
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert!(calls[1..].iter().all(|call| call.starts_with("get ")));
}

#[tokio::test]
async fn a_fan_out_to_one_webhook_reads_its_secret_without_a_prefetch() {
    // GIVEN one signed webhook of the type
    let secrets = Arc::new(RecordingSecrets::default());
    let world = world_with_secrets(
        ScriptedSender::answering([]),
        DeliverySettings::default(),
        secrets.clone(),
    );
    let mut hook = webhook(TYPE);
    hook.secret_ref = Some(
        secrets
            .store
            .put(&hook.id, "whsec_only", base_time())
            .await
            .expect("secret"),
    );
    stored(&world, &hook).await;
    // WHEN an event of the type is processed
    world
        .dispatcher
        .process_event(&event(TYPE, "acme"), None)
        .await
        .expect("process");
    // THEN the secret is read as usual, with no batch asked for
    assert_eq!(secrets.calls(), [format!("get {}", hook.id)]);
}
