//! The Secrets Manager adapter tags every secret it creates with its stack (the IAM
//! policies of a deployment require the tag), for a first secret as for a prepared one.

use webhooks_aws::{SecretsManagerStore, STACK_TAG_KEY};
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::time::{Clock, SystemClock};
use webhooks_core::ports::SecretWriter;
use webhooks_tests::moto::Moto;

async fn stack_tag(moto: &Moto, name: &str) -> Option<String> {
    let described = moto
        .clients
        .secrets
        .describe_secret()
        .secret_id(name)
        .send()
        .await
        .expect("describe");
    described
        .tags()
        .iter()
        .find(|tag| tag.key() == Some(STACK_TAG_KEY))
        .and_then(|tag| tag.value().map(str::to_owned))
}

#[tokio::test]
async fn secrets_are_created_with_the_stack_tag_and_untagged_without_one() {
    // GIVEN a store tagged with a stack, and one without a tag
    let moto = Moto::connect().await;
    let prefix = moto.secret_prefix();
    let tagged = SecretsManagerStore::new(moto.clients.secrets.clone(), &prefix)
        .tagged(Some("webhooks-prod".to_owned()));
    let untagged = SecretsManagerStore::new(moto.clients.secrets.clone(), &prefix);
    let (first, prepared, plain) = (
        WebhookId::generate(),
        WebhookId::generate(),
        WebhookId::generate(),
    );
    // WHEN a first secret is put, one is prepared, and the untagged store puts one
    tagged
        .put(&first, "a-first-secret-0123456", SystemClock.now())
        .await
        .expect("put");
    tagged.prepare(&prepared).await.expect("prepare");
    untagged
        .put(&plain, "a-plain-secret-0123456", SystemClock.now())
        .await
        .expect("put");
    // THEN the tagged store's secrets carry the stack, the other's none
    assert_eq!(
        stack_tag(&moto, &tagged.secret_name(&first))
            .await
            .as_deref(),
        Some("webhooks-prod")
    );
    assert_eq!(
        stack_tag(&moto, &tagged.secret_name(&prepared))
            .await
            .as_deref(),
        Some("webhooks-prod")
    );
    assert_eq!(stack_tag(&moto, &untagged.secret_name(&plain)).await, None);
}
