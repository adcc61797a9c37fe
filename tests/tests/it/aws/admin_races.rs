//! Concurrent admins on the AWS adapters (DynamoDB and Secrets Manager on moto), with
//! real concurrency: of ten PATCHes giving a webhook its first secret at the same
//! version, one wins and its secret is the one that signs.

use webhooks_aws::{DynamoWebhookStore, SecretsManagerStore};
use webhooks_core::domain::time::{Clock, SystemClock};
use webhooks_core::ports::{SecretReader, WebhookRegistry};
use webhooks_core::testing::fixtures::webhook;
use webhooks_core::usecases::admin::{AdminError, SecretChange, WebhookAdmin, WebhookFields};
use webhooks_tests::moto::Moto;

const RACERS: usize = 10;
const ROUNDS: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_concurrent_first_secrets_the_winners_is_the_one_that_signs() {
    let moto = Moto::connect().await;
    let table = moto.create_webhooks_table().await;
    let webhooks = DynamoWebhookStore::new(moto.clients.dynamodb.clone(), table);
    let secrets = SecretsManagerStore::new(moto.clients.secrets.clone(), moto.secret_prefix());
    let admin = WebhookAdmin {
        webhooks: &webhooks,
        secrets: &secrets,
        clock: &SystemClock,
    };
    for round in 0..ROUNDS {
        // GIVEN a webhook without a secret, at version 1
        let hook = webhook("report.publish_status");
        webhooks.insert(&hook).await.expect("insert");
        // WHEN ten admins PATCH a first secret each, all at version 1
        let answers = futures::future::join_all((0..RACERS).map(|racer| {
            let (admin, id) = (&admin, &hook.id);
            async move {
                let secret = format!("first-secret-round-{round}-racer-{racer}");
                let fields = WebhookFields {
                    secret: Some(SecretChange::Set(secret.clone())),
                    ..WebhookFields::default()
                };
                (admin.update(id, fields, Some(1)).await, secret)
            }
        }))
        .await;
        // THEN exactly one wins, the others are told the version moved, and the
        // secret that signs is the winner's, alone
        let winners: Vec<_> = answers
            .iter()
            .filter(|(result, _)| result.is_ok())
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {answers:?}");
        assert!(answers
            .iter()
            .all(|(result, _)| matches!(result, Ok(_) | Err(AdminError::VersionMismatch { .. }))));
        let stored = secrets
            .get(&hook.id, SystemClock.now())
            .await
            .expect("get")
            .expect("the winner's secret");
        assert_eq!(stored.current, winners[0].1, "round {round}");
        assert_eq!(
            stored.previous, None,
            "round {round}: a loser's secret still signs"
        );
    }
}
