//! Concurrent admins on one webhook, with real concurrency on the SQLite backend: a
//! PATCH that loses its `If-Match` race leaves no secret of its own behind (a first
//! secret too), and PATCHes without `If-Match` never fail because of each other. The
//! same on the AWS adapters: `aws::admin_races`.

use reqwest::StatusCode;
use serde_json::json;
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::time::{Clock, SystemClock};
use webhooks_core::ports::SecretReader;
use webhooks_tests::harness::{Harness, Options};

const ROUNDS: usize = 5;
const RACERS: usize = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_secret_that_stays_is_the_one_of_the_patch_that_won() {
    secret_races(Some("the-first-secret-0000")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_first_secrets_given_at_once_the_winners_is_the_one_that_signs() {
    secret_races(None).await;
}

/// ROUNDS of RACERS concurrent secret PATCHes at one version, each round on a webhook
/// created with `initial` as its secret (or none: each PATCH gives a first secret).
async fn secret_races(initial: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let service = Harness::start(&dir, Options::default()).await;
    let extra = initial.map_or(json!({}), |secret| json!({"secret": secret}));
    let mut id = String::new();
    for round in 0..ROUNDS {
        // GIVEN the webhook at some version (a new one without a secret each round
        // when the PATCHes give first secrets)
        if round == 0 || initial.is_none() {
            let hook = service
                .create_webhook("http://127.0.0.1:9/hook", extra.clone())
                .await;
            id = hook["id"].as_str().unwrap().to_owned();
        }
        let version = service.get(&format!("/webhooks/{id}")).await.body["version"]
            .as_u64()
            .unwrap()
            .to_string();
        // WHEN ten admins PATCH a new secret each, all with that version's If-Match
        let answers = futures::future::join_all((0..RACERS).map(|racer| {
            let (service, id, version) = (&service, &id, &version);
            async move {
                let secret = format!("secret-of-round-{round}-racer-{racer}");
                let answer = service
                    .patch(
                        &format!("/webhooks/{id}"),
                        json!({"secret": secret}),
                        Some(version),
                    )
                    .await;
                (answer.status, secret)
            }
        }))
        .await;
        // THEN exactly one wins, the others get 412, and the stored secret is the winner's
        let winners: Vec<_> = answers
            .iter()
            .filter(|(s, _)| *s == StatusCode::OK)
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {answers:?}");
        assert!(answers
            .iter()
            .all(|(s, _)| *s == StatusCode::OK || *s == StatusCode::PRECONDITION_FAILED));
        let stored = service
            .stores
            .secrets
            .get(&WebhookId::from_trusted(&id), SystemClock.now())
            .await
            .unwrap()
            .expect("a secret");
        assert_eq!(stored.current, winners[0].1, "round {round}");
        if initial.is_none() {
            assert_eq!(
                stored.previous, None,
                "round {round}: a loser's secret signs"
            );
        }
    }
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn patches_without_if_match_never_fail_because_of_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let service = Harness::start(&dir, Options::default()).await;
    let hook = service
        .create_webhook("http://127.0.0.1:9/hook", json!({}))
        .await;
    let id = hook["id"].as_str().unwrap().to_owned();
    // WHEN ten admins rename it at once, none sending If-Match
    let answers = futures::future::join_all((0..RACERS).map(|racer| {
        let (service, id) = (&service, &id);
        async move {
            service
                .patch(
                    &format!("/webhooks/{id}"),
                    json!({"name": format!("name {racer}")}),
                    None,
                )
                .await
                .status
        }
    }))
    .await;
    // THEN every one is applied (the last writer wins), and the version counted them all
    assert!(answers.iter().all(|s| *s == StatusCode::OK), "{answers:?}");
    let now = service.get(&format!("/webhooks/{id}")).await.body;
    assert_eq!(now["version"], 1 + RACERS as u64);
    service.stop().await;
}
