//! Secrets Manager's batched read (`BatchGetSecretValue`, 20 names a call) answers
//! what one `GetSecretValue` per webhook would: found, missing, prepared without a
//! value, and removed secrets, in order, across several batches.

use webhooks_aws::{SecretLoader, SecretsManagerStore, MAX_NAMES_PER_BATCH};
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::time::{Clock, SystemClock};
use webhooks_core::ports::SecretWriter;
use webhooks_tests::moto::Moto;

#[tokio::test]
async fn a_batched_load_answers_each_webhook_as_its_own_load_would() {
    // GIVEN more signed webhooks than one batch takes, and among them one never
    // stored, one prepared without a value, and one whose secret was removed
    let moto = Moto::connect().await;
    let store = SecretsManagerStore::new(moto.clients.secrets.clone(), moto.secret_prefix());
    let mut ids = Vec::new();
    for i in 0..MAX_NAMES_PER_BATCH + 5 {
        let id = WebhookId::generate();
        store
            .put(
                &id,
                &format!("a-batched-secret-{i:04}-xyz"),
                SystemClock.now(),
            )
            .await
            .expect("put");
        ids.push(id);
    }
    let (missing, prepared, removed) =
        (WebhookId::generate(), WebhookId::generate(), ids[3].clone());
    store.prepare(&prepared).await.expect("prepare");
    store.remove(&removed).await.expect("remove");
    ids.insert(7, missing);
    ids.insert(22, prepared);
    // WHEN they are loaded together
    let batched = store.load_many(&ids).await;
    // THEN each answer is the one its own load gives
    assert_eq!(batched.len(), ids.len());
    for (id, answer) in ids.iter().zip(batched) {
        let alone = store.load(id).await.expect("load");
        let answer = answer.expect("batched load");
        assert!(
            answer == alone,
            "{id}: the batch and the single load disagree"
        );
    }
}
