//! The Dispatcher's rules on the in-memory adapters: what each answer of a receiver
//! does to the webhook, the queue and the log, and the deadline rule of fan-out.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::outbound::{OutboundResponse, SendError};
use crate::ports::WebhookRegistry;
use crate::testing::fakes::{answer, ManualClock, ScriptedSender};
use crate::testing::fixtures::{base_time, event, webhook};
use crate::testing::memory::{MemoryLogs, MemorySecretStore, MemoryTaskQueue, MemoryWebhookStore};

pub(super) const TYPE: &str = "report.publish_status";

pub(super) struct World<S = ScriptedSender> {
    pub webhooks: Arc<MemoryWebhookStore>,
    pub queue: Arc<MemoryTaskQueue>,
    pub logs: Arc<MemoryLogs>,
    pub sender: Arc<S>,
    pub clock: Arc<ManualClock>,
    pub dispatcher: Dispatcher,
}

/// A dispatcher on memory adapters whose receiver answers `script` (then 200), with
/// a retry schedule without jitter.
fn world(script: Vec<Result<OutboundResponse, SendError>>) -> World {
    world_with(
        ScriptedSender::answering(script),
        DeliverySettings::default(),
    )
}

/// A dispatcher on memory adapters with this sender and these settings (the retry
/// schedule replaced by one without jitter).
pub(super) fn world_with<S: HttpSender + 'static>(
    sender: S,
    settings: DeliverySettings,
) -> World<S> {
    world_with_secrets(sender, settings, Arc::new(MemorySecretStore::default()))
}

/// [`world_with`], reading the signing secrets from `secrets`.
pub(super) fn world_with_secrets<S: HttpSender + 'static>(
    sender: S,
    settings: DeliverySettings,
    secrets: Arc<dyn SecretReader>,
) -> World<S> {
    let webhooks = Arc::new(MemoryWebhookStore::default());
    let queue = Arc::new(MemoryTaskQueue::default());
    let logs = Arc::new(MemoryLogs::default());
    let sender = Arc::new(sender);
    let clock = Arc::new(ManualClock::at(base_time()));
    let ports = DeliveryPorts {
        webhooks: webhooks.clone(),
        secrets,
        queue: queue.clone(),
        logs: logs.clone(),
        sender: sender.clone(),
        clock: clock.clone(),
    };
    let settings = DeliverySettings {
        schedule: RetrySchedule::new(vec![Duration::from_secs(5), Duration::from_secs(300)], 0.0),
        ..settings
    };
    World {
        webhooks,
        queue,
        logs,
        sender,
        clock,
        dispatcher: Dispatcher::new(ports, settings),
    }
}

pub(super) async fn stored<S>(world: &World<S>, hook: &Webhook) -> Webhook {
    world.webhooks.insert(hook).await.expect("insert");
    hook.clone()
}

#[tokio::test]
async fn a_2xx_succeeds_and_ends_a_run_of_failures() {
    // GIVEN a webhook that has been failing, and a receiver answering 204
    let world = world(vec![answer(204)]);
    let mut hook = webhook(TYPE);
    hook.failing_since = Some(base_time());
    let hook = stored(&world, &hook).await;
    // WHEN an event is processed
    let fan_out = world
        .dispatcher
        .process_event(&event(TYPE, "acme"), None)
        .await
        .expect("process");
    // THEN it is delivered once, logged as succeeded, and the run of failures ends
    assert_eq!(
        fan_out,
        FanOut {
            matched: 1,
            attempted: 1,
            deferred: 0
        }
    );
    let logged = world.logs.all();
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].record.outcome, Outcome::Succeeded);
    assert_eq!(logged[0].record.status_code, Some(204));
    assert_eq!(
        world.webhooks.stored(&hook.id).expect("kept").failing_since,
        None
    );
    assert!(world.queue.enqueued().is_empty());
}

#[tokio::test]
async fn only_enabled_webhooks_whose_clients_match_are_attempted() {
    // GIVEN three webhooks of the type: one for acme, one for another client, one disabled
    let world = world(vec![]);
    let mut for_acme = webhook(TYPE);
    for_acme.clients = crate::domain::webhook::ClientScope::Only(vec!["acme".to_owned()]);
    let mut for_other = webhook(TYPE);
    for_other.clients = crate::domain::webhook::ClientScope::Only(vec!["other".to_owned()]);
    let mut disabled = webhook(TYPE);
    disabled.enabled = false;
    for hook in [&for_acme, &for_other, &disabled] {
        stored(&world, hook).await;
    }
    // WHEN an acme event is processed
    let fan_out = world
        .dispatcher
        .process_event(&event(TYPE, "acme"), None)
        .await
        .expect("process");
    // THEN only acme's webhook receives it
    assert_eq!(fan_out.matched, 1);
    assert_eq!(world.sender.requests().len(), 1);
    assert_eq!(world.logs.all()[0].record.webhook_id, for_acme.id);
}

#[tokio::test]
async fn a_failure_schedules_the_next_attempt_and_starts_the_failing_clock() {
    // GIVEN a receiver answering 500
    let world = world(vec![answer(500)]);
    let hook = stored(&world, &webhook(TYPE)).await;
    // WHEN an event is processed
    world
        .dispatcher
        .process_event(&event(TYPE, "acme"), None)
        .await
        .expect("process");
    // THEN attempt 2 is queued after the first delay, logged as retrying with its time
    let queued = world.queue.enqueued();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].0.attempt, 2);
    assert_eq!(queued[0].1, Duration::from_secs(5));
    let record = &world.logs.all()[0].record;
    assert_eq!(record.outcome, Outcome::Retrying);
    assert_eq!(
        record.next_attempt_at,
        Some(base_time().plus(Duration::from_secs(5)))
    );
    // AND the webhook's run of failures starts now
    assert_eq!(
        world.webhooks.stored(&hook.id).expect("kept").failing_since,
        Some(base_time())
    );
}

#[tokio::test]
async fn retry_after_is_honoured_up_to_twice_the_scheduled_delay() {
    // GIVEN receivers asking to wait 8 s, then an hour, before a 5 s retry
    for (wish, expected) in [(8, 8), (3600, 10)] {
        let mut busy = answer(503);
        if let Ok(response) = &mut busy {
            response.retry_after = Some(Duration::from_secs(wish));
        }
        let world = world(vec![busy]);
        stored(&world, &webhook(TYPE)).await;
        // WHEN the event is processed
        world
            .dispatcher
            .process_event(&event(TYPE, "acme"), None)
            .await
            .expect("process");
        // THEN the retry waits as asked, but never more than twice the schedule
        assert_eq!(
            world.queue.enqueued()[0].1,
            Duration::from_secs(expected),
            "Retry-After {wish}"
        );
    }
}

#[tokio::test]
async fn the_last_failed_attempt_is_exhausted_and_queues_nothing() {
    // GIVEN a task at its last attempt (a schedule of two delays allows three)
    let world = world(vec![answer(500)]);
    let hook = stored(&world, &webhook(TYPE)).await;
    let first = DeliveryTask::first(event(TYPE, "acme"), hook.id.clone());
    let last = first.next(base_time()).next(base_time());
    // WHEN it runs and fails
    let outcome = world.dispatcher.run_task(&last, None).await.expect("run");
    // THEN the delivery is exhausted and nothing more is queued
    assert_eq!(outcome, TaskRun::Attempted(Outcome::Exhausted));
    assert!(world.queue.enqueued().is_empty());
}

#[tokio::test]
async fn gone_disables_the_webhook_at_once_with_a_reason() {
    // GIVEN a receiver answering 410 Gone
    let world = world(vec![answer(410)]);
    let hook = stored(&world, &webhook(TYPE)).await;
    // WHEN an event is processed
    world
        .dispatcher
        .process_event(&event(TYPE, "acme"), None)
        .await
        .expect("process");
    // THEN the webhook is disabled with a reason, logged as disabled, and not retried
    let after = world.webhooks.stored(&hook.id).expect("kept");
    assert!(!after.enabled);
    assert!(after
        .disabled_reason
        .as_deref()
        .is_some_and(|r| r.contains("410")));
    assert_eq!(after.version, hook.version + 1);
    assert_eq!(world.logs.all()[0].record.outcome, Outcome::Disabled);
    assert!(world.queue.enqueued().is_empty());
}

#[tokio::test]
async fn five_days_of_failures_disable_the_webhook() {
    // GIVEN a webhook failing since five days ago, and a receiver still answering 500
    let world = world(vec![answer(500), answer(500)]);
    let mut hook = webhook(TYPE);
    hook.failing_since = Some(base_time());
    let hook = stored(&world, &hook).await;
    world.clock.advance(DISABLE_AFTER - Duration::from_secs(60));
    // WHEN one attempt fails a minute before the five days, and one after
    world
        .dispatcher
        .process_event(&event(TYPE, "acme"), None)
        .await
        .expect("process");
    let still = world.webhooks.stored(&hook.id).expect("kept");
    world.clock.advance(Duration::from_secs(120));
    world
        .dispatcher
        .process_event(&event(TYPE, "acme"), None)
        .await
        .expect("process");
    // THEN the first is retried and the second disables the webhook, naming the start
    assert!(still.enabled);
    let after = world.webhooks.stored(&hook.id).expect("kept");
    assert!(!after.enabled);
    assert!(after
        .disabled_reason
        .as_deref()
        .is_some_and(|r| r.contains(&base_time().to_string())));
    let outcomes: Vec<Outcome> = world.logs.all().iter().map(|a| a.record.outcome).collect();
    assert!(
        outcomes.contains(&Outcome::Retrying) && outcomes.contains(&Outcome::Disabled),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn a_delivery_that_cannot_start_before_the_deadline_is_queued_instead() {
    // GIVEN a deadline closer than one request timeout
    let world = world(vec![]);
    let hook = stored(&world, &webhook(TYPE)).await;
    let deadline = Instant::now() + Duration::from_secs(1);
    // WHEN an event is processed
    let fan_out = world
        .dispatcher
        .process_event(&event(TYPE, "acme"), Some(deadline))
        .await
        .expect("process");
    // THEN nothing is sent: the first attempt goes to the queue at once, unlogged
    assert_eq!(
        fan_out,
        FanOut {
            matched: 1,
            attempted: 0,
            deferred: 1
        }
    );
    assert!(world.sender.requests().is_empty());
    let queued = world.queue.enqueued();
    assert_eq!((queued[0].0.attempt, queued[0].1), (1, Duration::ZERO));
    assert_eq!(queued[0].0.webhook_id, hook.id);
    assert!(world.logs.all().is_empty());
}

#[tokio::test]
async fn a_task_for_a_disabled_webhook_is_logged_as_failed_without_a_request() {
    // GIVEN a queued task for a webhook an admin disabled since
    let world = world(vec![]);
    let mut hook = webhook(TYPE);
    hook.enabled = false;
    let hook = stored(&world, &hook).await;
    let task = DeliveryTask::first(event(TYPE, "acme"), hook.id.clone()).next(base_time());
    // WHEN it runs
    let outcome = world.dispatcher.run_task(&task, None).await.expect("run");
    // THEN no request is made and the attempt is logged as failed with why
    assert_eq!(outcome, TaskRun::Attempted(Outcome::Failed));
    assert!(world.sender.requests().is_empty());
    let record = &world.logs.all()[0].record;
    assert!(record
        .error
        .as_deref()
        .is_some_and(|e| e.contains("disabled")));
}

#[tokio::test]
async fn a_task_that_arrives_early_is_put_back_for_the_rest_of_its_wait() {
    // GIVEN a task due in 20 minutes (a queue whose delays stop at 15)
    let world = world(vec![]);
    let hook = stored(&world, &webhook(TYPE)).await;
    let task = DeliveryTask::first(event(TYPE, "acme"), hook.id.clone())
        .next(base_time().plus(Duration::from_secs(1200)));
    // WHEN it runs now
    let outcome = world.dispatcher.run_task(&task, None).await.expect("run");
    // THEN nothing is sent and it waits again for the remainder
    assert_eq!(outcome, TaskRun::Requeued);
    assert!(world.sender.requests().is_empty());
    assert_eq!(world.queue.enqueued()[0].1, Duration::from_secs(1200));
}
