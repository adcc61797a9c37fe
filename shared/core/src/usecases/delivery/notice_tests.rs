//! The `webhook.disabled` notice on the in-memory adapters: who is told, with what.

use super::tests::{stored, world_with, TYPE};
use super::*;
use crate::domain::catalogue::{OPERATIONS_CLIENT, WEBHOOK_DISABLED};
use crate::domain::webhook::ClientScope;
use crate::testing::fakes::{answer, ScriptedSender};
use crate::testing::fixtures::{event, webhook};

#[tokio::test]
async fn a_disabled_webhook_is_announced_to_the_webhooks_subscribed_to_the_notice() {
    // GIVEN a webhook whose receiver answers 410, and three subscribed to the notice:
    // one for every client, one for the operations client, one for another client only
    let world = world_with(
        ScriptedSender::answering(vec![answer(410)]),
        DeliverySettings::default(),
    );
    let gone = stored(&world, &webhook(TYPE)).await;
    let every = stored(&world, &webhook(WEBHOOK_DISABLED)).await;
    let mut operations = webhook(WEBHOOK_DISABLED);
    operations.clients = ClientScope::Only(vec![OPERATIONS_CLIENT.to_owned()]);
    let operations = stored(&world, &operations).await;
    let mut other = webhook(WEBHOOK_DISABLED);
    other.clients = ClientScope::Only(vec!["acme".to_owned()]);
    stored(&world, &other).await;
    // WHEN an event meets the 410 and the webhook is disabled
    world
        .dispatcher
        .process_event(&event(TYPE, "acme"), None)
        .await
        .expect("process");
    // THEN the notice is queued at once for the first two only
    let queued = world.queue.enqueued();
    let mut told: Vec<_> = queued
        .iter()
        .map(|(task, _)| task.webhook_id.clone())
        .collect();
    told.sort();
    let mut expected = vec![every.id.clone(), operations.id.clone()];
    expected.sort();
    assert_eq!(told, expected);
    assert!(queued.iter().all(|(_, delay)| delay.is_zero()));
    // AND it is a first attempt of the operational event, naming the webhook and why
    let (task, _) = &queued[0];
    assert_eq!(task.attempt, 1);
    assert_eq!(task.event.event_type, WEBHOOK_DISABLED);
    assert_eq!(task.event.client_id, OPERATIONS_CLIENT);
    let data = &task.event.data;
    assert_eq!(data["webhook_id"], gone.id.as_str());
    assert_eq!(data["name"], gone.name.as_str());
    assert_eq!(data["url"], gone.url.as_str());
    assert!(
        data["reason"].as_str().is_some_and(|r| r.contains("410")),
        "{data}"
    );
    assert!(data["disabled_at"].is_string());
}

#[tokio::test]
async fn a_webhook_subscribed_to_the_notice_is_never_told_of_its_own_disabling() {
    // GIVEN a webhook subscribed to the notice whose own receiver answers 410
    let world = world_with(
        ScriptedSender::answering(vec![answer(410)]),
        DeliverySettings::default(),
    );
    let hook = stored(&world, &webhook(WEBHOOK_DISABLED)).await;
    let other = webhook(TYPE);
    let notice = notice::disabled_notice(&other, world.clock.now());
    // WHEN it is sent a notice and is disabled by the answer
    world
        .dispatcher
        .process_event(&notice, None)
        .await
        .expect("process");
    // THEN it is disabled, and no notice of that is queued for it
    assert!(!world.webhooks.stored(&hook.id).expect("kept").enabled);
    assert!(
        world.queue.enqueued().is_empty(),
        "{:?}",
        world.queue.enqueued()
    );
}
