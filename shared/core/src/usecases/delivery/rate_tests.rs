//! The per-webhook rate limit through the Dispatcher on memory adapters: deliveries
//! beyond it wait in the queue for the next token, unattempted and unlogged.

use std::time::Duration;

use futures::future::join_all;

use super::tests::{stored, world_with, TYPE};
use super::*;
use crate::domain::delivery_log::Outcome;
use crate::ports::WebhookWriter;
use crate::testing::fakes::ScriptedSender;
use crate::testing::fixtures::{event, webhook};

/// Fans out `count` events of one type at once; the sum of their fan-outs.
async fn fan_out_at_once(dispatcher: &Dispatcher, count: usize) -> FanOut {
    let events: Vec<Event> = (0..count).map(|_| event(TYPE, "acme")).collect();
    let results = join_all(events.iter().map(|e| dispatcher.process_event(e, None))).await;
    results
        .into_iter()
        .map(|result| result.expect("process"))
        .fold(FanOut::default(), |sum, one| FanOut {
            matched: sum.matched + one.matched,
            attempted: sum.attempted + one.attempted,
            deferred: sum.deferred + one.deferred,
        })
}

fn about_half_a_second(wait: Duration) -> bool {
    wait > Duration::from_millis(400) && wait <= Duration::from_millis(500)
}

#[tokio::test]
async fn a_webhook_limited_to_2_a_second_has_its_other_deliveries_wait_for_a_token() {
    // GIVEN a webhook limited to 2 requests a second
    let world = world_with(ScriptedSender::default(), DeliverySettings::default());
    let mut limited = webhook(TYPE);
    limited.rate_limit_per_second = Some(2);
    let hook = stored(&world, &limited).await;
    // WHEN 5 events arrive at once
    let fan_out = fan_out_at_once(&world.dispatcher, 5).await;
    // THEN 2 deliveries are attempted and logged as succeeded
    assert_eq!((fan_out.attempted, fan_out.deferred), (2, 3), "{fan_out:?}");
    assert_eq!(world.sender.requests().len(), 2);
    let logged = world.logs.all();
    assert_eq!(logged.len(), 2);
    assert!(logged
        .iter()
        .all(|a| a.record.outcome == Outcome::Succeeded && a.record.attempt == 1));
    // AND the other 3 are queued as their first attempt, for about half a second
    let queued = world.queue.enqueued();
    assert_eq!(queued.len(), 3);
    for (task, wait) in &queued {
        assert_eq!((task.attempt, task.series_start), (1, 1));
        assert!(about_half_a_second(*wait), "waits {wait:?}");
    }
    // AND the webhook is as it was: waiting started no run of failures
    assert_eq!(world.webhooks.stored(&hook.id), Some(hook));
}

#[tokio::test]
async fn queued_deliveries_of_a_limited_webhook_go_one_per_token_when_they_come_back() {
    // GIVEN a webhook limited to 2 a second whose bucket 5 events at once emptied
    let world = world_with(ScriptedSender::default(), DeliverySettings::default());
    let mut limited = webhook(TYPE);
    limited.rate_limit_per_second = Some(2);
    stored(&world, &limited).await;
    fan_out_at_once(&world.dispatcher, 5).await;
    let waiting = world.queue.take_due_or_waiting();
    assert_eq!(waiting.len(), 3);
    // WHEN the 3 queued tasks come back after their half second
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut runs = Vec::new();
    for task in &waiting {
        runs.push(world.dispatcher.run_task(task, None).await.expect("run"));
    }
    // THEN one is attempted (its first attempt) and two wait again, for about the
    // next half second, with their attempt number unchanged
    let attempted = runs
        .iter()
        .filter(|run| **run == TaskRun::Attempted(Outcome::Succeeded))
        .count();
    assert_eq!((attempted, runs.len()), (1, 3), "{runs:?}");
    let again = world.queue.enqueued();
    assert_eq!(again.len(), 2);
    assert!(again
        .iter()
        .all(|(task, wait)| task.attempt == 1 && about_half_a_second(*wait)));
    // AND every logged attempt is a first attempt that succeeded: none failed
    let logged = world.logs.all();
    assert_eq!(logged.len(), 3);
    assert!(logged
        .iter()
        .all(|a| a.record.outcome == Outcome::Succeeded && a.record.attempt == 1));
}

#[tokio::test]
async fn without_a_rate_limit_every_delivery_is_attempted_at_once() {
    // GIVEN a webhook without a rate limit
    let world = world_with(ScriptedSender::default(), DeliverySettings::default());
    stored(&world, &webhook(TYPE)).await;
    // WHEN 5 events arrive at once
    let fan_out = fan_out_at_once(&world.dispatcher, 5).await;
    // THEN all 5 are attempted and logged, and nothing waits in the queue
    assert_eq!((fan_out.attempted, fan_out.deferred), (5, 0), "{fan_out:?}");
    assert_eq!(world.sender.requests().len(), 5);
    assert_eq!(world.logs.all().len(), 5);
    assert!(world.queue.enqueued().is_empty());
}

#[tokio::test]
async fn a_lowered_limit_applies_to_the_next_delivery() {
    // GIVEN a webhook limited to 10 a second that has sent one request
    let world = world_with(ScriptedSender::default(), DeliverySettings::default());
    let mut hook = webhook(TYPE);
    hook.rate_limit_per_second = Some(10);
    let hook = stored(&world, &hook).await;
    fan_out_at_once(&world.dispatcher, 1).await;
    // WHEN its limit becomes 1 a second and 2 more events arrive
    let mut lowered = hook.clone();
    lowered.rate_limit_per_second = Some(1);
    lowered.version += 1;
    world
        .webhooks
        .replace(&lowered, hook.version)
        .await
        .expect("replace");
    let fan_out = fan_out_at_once(&world.dispatcher, 2).await;
    // THEN one goes and the other waits up to a second
    assert_eq!((fan_out.attempted, fan_out.deferred), (1, 1), "{fan_out:?}");
    let queued = world.queue.enqueued();
    assert!(queued[0].1 > Duration::ZERO && queued[0].1 <= Duration::from_secs(1));
}
