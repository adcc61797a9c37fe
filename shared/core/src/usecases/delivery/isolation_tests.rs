//! Isolation through the Dispatcher on memory adapters: the per-webhook in-flight
//! cap, the breaker, the deadline rule of queued tasks, and what a timeout logs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::tests::{stored, world_with, TYPE};
use super::*;
use crate::domain::delivery_log::{LoggedAttempt, Outcome};
use crate::domain::task::DeliveryTask;
use crate::outbound::{OutboundRequest, OutboundResponse, SendError};
use crate::ports::WebhookRegistry;
use crate::testing::fakes::{answer, ManualClock, ScriptedSender};
use crate::testing::fixtures::{base_time, event, webhook};
use crate::testing::memory::{MemoryLogs, MemorySecretStore, MemoryTaskQueue, MemoryWebhookStore};

/// A receiver that holds every request until the test lets it go.
struct HeldReceiver {
    gate: Arc<Semaphore>,
    arrived: Arc<Semaphore>,
}

#[async_trait]
impl HttpSender for HeldReceiver {
    async fn post(&self, _request: OutboundRequest) -> Result<OutboundResponse, SendError> {
        self.arrived.add_permits(1);
        let _pass = self.gate.acquire().await;
        answer(200)
    }
}

fn lanes_of(max_in_flight: usize) -> DeliverySettings {
    DeliverySettings {
        isolation: IsolationSettings {
            max_in_flight,
            ..IsolationSettings::default()
        },
        ..DeliverySettings::default()
    }
}

#[tokio::test]
async fn a_webhook_over_its_in_flight_cap_has_its_next_delivery_wait_in_the_queue() {
    // GIVEN a webhook with a cap of one and a receiver holding the first request
    let gate = Arc::new(Semaphore::new(0));
    let arrived = Arc::new(Semaphore::new(0));
    let receiver = HeldReceiver {
        gate: gate.clone(),
        arrived: arrived.clone(),
    };
    let world = world_with(receiver, lanes_of(1));
    let hook = stored(&world, &webhook(TYPE)).await;
    let dispatcher = world.dispatcher.clone();
    let first =
        tokio::spawn(async move { dispatcher.process_event(&event(TYPE, "acme"), None).await });
    let _ = tokio::time::timeout(Duration::from_secs(10), arrived.acquire())
        .await
        .expect("the first request arrives");
    // WHEN a second event comes while the first request is in flight
    let second = world
        .dispatcher
        .process_event(&event(TYPE, "acme"), None)
        .await
        .expect("process");
    // THEN the second delivery is queued as its first attempt, and nothing is logged
    assert_eq!(second.deferred, 1);
    let queued = world.queue.enqueued();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].0.attempt, 1);
    assert_eq!(queued[0].0.webhook_id, hook.id);
    assert_eq!(queued[0].1, LANE_FULL_WAIT_FOR_TESTS);
    // AND once the first answers, it is logged as the only attempt
    gate.add_permits(1);
    first.await.expect("join").expect("process");
    let logged = world.logs.all();
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].record.outcome, Outcome::Succeeded);
}

const LANE_FULL_WAIT_FOR_TESTS: Duration = isolation::LANE_FULL_WAIT;

#[tokio::test]
async fn after_timeouts_in_a_row_new_deliveries_skip_the_inline_attempt() {
    // GIVEN a receiver that timed out three times in a row
    let timeout = || Err(SendError::Timeout(Duration::from_secs(5)));
    let world = world_with(
        ScriptedSender::answering([timeout(), timeout(), timeout()]),
        DeliverySettings::default(),
    );
    stored(&world, &webhook(TYPE)).await;
    for _ in 0..3 {
        world
            .dispatcher
            .process_event(&event(TYPE, "acme"), None)
            .await
            .expect("process");
    }
    assert_eq!(world.sender.requests().len(), 3);
    let retries = world.queue.enqueued().len();
    // WHEN the next event comes
    let fan_out = world
        .dispatcher
        .process_event(&event(TYPE, "acme"), None)
        .await
        .expect("process");
    // THEN it is queued at once as a first attempt, without a request or a log record
    assert_eq!(fan_out.deferred, 1);
    assert_eq!(world.sender.requests().len(), 3);
    assert_eq!(world.logs.all().len(), 3);
    let queued = world.queue.enqueued();
    assert_eq!(queued.len(), retries + 1);
    assert_eq!(queued[retries].0.attempt, 1);
    assert_eq!(queued[retries].1, Duration::ZERO);
    // AND queued work of the webhook is still attempted (its receiver may be back)
    let run = world
        .dispatcher
        .run_task(&queued[retries].0, None)
        .await
        .expect("run");
    assert_eq!(run, TaskRun::Attempted(Outcome::Succeeded));
}

#[tokio::test]
async fn a_queued_task_that_cannot_finish_before_the_deadline_goes_back_unattempted() {
    // GIVEN a task due now and an invocation deadline closer than one timeout
    let world = world_with(ScriptedSender::default(), DeliverySettings::default());
    let hook = stored(&world, &webhook(TYPE)).await;
    let task = DeliveryTask::first(event(TYPE, "acme"), hook.id.clone()).next(base_time());
    let deadline = Instant::now() + Duration::from_secs(1);
    // WHEN it runs
    let run = world
        .dispatcher
        .run_task(&task, Some(deadline))
        .await
        .expect("run");
    // THEN no request is made and the same attempt is queued again, at once
    assert_eq!(run, TaskRun::Requeued);
    assert!(world.sender.requests().is_empty());
    assert!(world.logs.all().is_empty());
    assert_eq!(world.queue.enqueued(), vec![(task, Duration::ZERO)]);
}

#[tokio::test]
async fn a_timed_out_attempt_is_logged_with_the_time_it_took() {
    // GIVEN a receiver that does not answer within the 5 s timeout
    let world = world_with(
        ScriptedSender::answering([Err(SendError::Timeout(Duration::from_secs(5)))]),
        DeliverySettings::default(),
    );
    stored(&world, &webhook(TYPE)).await;
    // WHEN an event is delivered
    world
        .dispatcher
        .process_event(&event(TYPE, "acme"), None)
        .await
        .expect("process");
    // THEN the retrying attempt carries elapsed_ms = the timeout
    let logged = world.logs.all();
    assert_eq!(logged[0].record.outcome, Outcome::Retrying);
    assert_eq!(logged[0].record.elapsed_ms, Some(5000));
}

#[tokio::test]
async fn failures_from_a_stale_read_keep_the_first_start_of_the_run() {
    // GIVEN a healthy webhook whose receiver now fails twice
    let world = world_with(
        ScriptedSender::answering([answer(500), answer(500)]),
        DeliverySettings::default(),
    );
    let hook = stored(&world, &webhook(TYPE)).await;
    // WHEN two attempts fail, both from the same (stale) read of the webhook
    let first = DeliveryTask::first(event(TYPE, "acme"), hook.id.clone());
    let second = DeliveryTask::first(event(TYPE, "globex"), hook.id.clone());
    let material = world.dispatcher.material(&hook).await.expect("material");
    world
        .dispatcher
        .attempt(&first, hook.clone(), material, permit())
        .await
        .expect("attempt");
    world.clock.advance(Duration::from_secs(60));
    let material = world.dispatcher.material(&hook).await.expect("material");
    world
        .dispatcher
        .attempt(&second, hook.clone(), material, permit())
        .await
        .expect("attempt");
    // THEN the run of failures starts at the first failure
    let stored = world.webhooks.stored(&hook.id).expect("kept");
    assert_eq!(stored.failing_since, Some(base_time()));
}

fn permit() -> OwnedSemaphorePermit {
    Arc::new(Semaphore::new(1))
        .try_acquire_owned()
        .expect("a fresh permit")
}

/// A log sink that refuses every record while `down` is set.
#[derive(Default)]
struct FlakyLogs {
    down: std::sync::atomic::AtomicBool,
    inner: MemoryLogs,
}

#[async_trait]
impl LogSink for FlakyLogs {
    async fn record(&self, attempt: &LoggedAttempt) -> Result<(), StoreError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(StoreError::backend("the logs queue is unreachable"));
        }
        self.inner.record(attempt).await
    }
}

#[tokio::test]
async fn a_failed_log_write_parks_the_record_and_never_repeats_the_delivery() {
    // GIVEN a log sink that is down, and a receiver that answers 500 then 200
    let logs = Arc::new(FlakyLogs::default());
    logs.down.store(true, std::sync::atomic::Ordering::SeqCst);
    let webhooks = Arc::new(MemoryWebhookStore::default());
    let queue = Arc::new(MemoryTaskQueue::default());
    let sender = Arc::new(ScriptedSender::answering([answer(500)]));
    let clock = Arc::new(ManualClock::at(base_time()));
    let ports = DeliveryPorts {
        webhooks: webhooks.clone(),
        secrets: Arc::new(MemorySecretStore::default()),
        queue: queue.clone(),
        logs: logs.clone(),
        sender: sender.clone(),
        clock: clock.clone(),
    };
    let dispatcher = Dispatcher::new(ports, DeliverySettings::default());
    webhooks.insert(&webhook(TYPE)).await.expect("insert");
    // WHEN an event fans out (a failed attempt, which queues its retry) and the retry
    // is delivered, both while the log is down
    let fan_out = dispatcher
        .process_event(&event(TYPE, "acme"), None)
        .await
        .expect("process");
    let retry = queue.take_due_or_waiting();
    assert_eq!(retry.len(), 1, "one retry chain");
    clock.advance(Duration::from_secs(3600));
    let run = dispatcher.run_task(&retry[0], None).await.expect("run");
    // THEN each attempt was sent once, nothing was deferred or forked
    assert_eq!(fan_out.attempted, 1);
    assert_eq!(fan_out.deferred, 0);
    assert_eq!(run, TaskRun::Attempted(Outcome::Succeeded));
    assert_eq!(sender.requests().len(), 2);
    assert!(queue.take_due_or_waiting().is_empty());
    // AND both records are parked, and arrive once the log is back
    let parked = queue.parked();
    assert_eq!(parked.len(), 2);
    logs.down.store(false, std::sync::atomic::Ordering::SeqCst);
    for record in &parked {
        let ran = Work::Log(record.clone()).run(&dispatcher, None).await;
        assert!(matches!(ran, Ran::Done), "{ran:?}");
    }
    let outcomes: Vec<_> = logs.inner.all().iter().map(|a| a.record.outcome).collect();
    assert_eq!(outcomes.len(), 2);
    assert!(outcomes.contains(&Outcome::Retrying) && outcomes.contains(&Outcome::Succeeded));
    assert_eq!(sender.requests().len(), 2);
}

#[tokio::test]
async fn a_delivery_that_finds_the_lane_full_for_a_moment_waits_in_the_process() {
    // GIVEN a cap of one, and a receiver holding the first request
    let gate = Arc::new(Semaphore::new(0));
    let arrived = Arc::new(Semaphore::new(0));
    let receiver = HeldReceiver {
        gate: gate.clone(),
        arrived: arrived.clone(),
    };
    // (a patience far longer than the test's own steps: the rule, not the default)
    let mut settings = lanes_of(1);
    settings.isolation.lane_patience = Duration::from_secs(5);
    let world = world_with(receiver, settings);
    stored(&world, &webhook(TYPE)).await;
    let dispatcher = world.dispatcher.clone();
    let first =
        tokio::spawn(async move { dispatcher.process_event(&event(TYPE, "acme"), None).await });
    let _ = tokio::time::timeout(Duration::from_secs(10), arrived.acquire())
        .await
        .expect("the first request arrives");
    // WHEN a second event comes and the first answer follows within the lane's patience
    let dispatcher = world.dispatcher.clone();
    let second =
        tokio::spawn(async move { dispatcher.process_event(&event(TYPE, "acme"), None).await });
    tokio::time::sleep(Duration::from_millis(20)).await;
    gate.add_permits(2);
    // THEN both are attempted at once, none queued
    let second = second.await.expect("join").expect("process");
    first.await.expect("join").expect("process");
    assert_eq!(second.attempted, 1);
    assert!(world.queue.enqueued().is_empty());
    assert_eq!(world.logs.all().len(), 2);
}

/// A secret store whose reads take [`SlowSecrets::READ`] (a cold cache on AWS).
struct SlowSecrets(MemorySecretStore);

impl SlowSecrets {
    const READ: Duration = Duration::from_millis(200);
}

#[async_trait]
impl SecretReader for SlowSecrets {
    async fn get(
        &self,
        id: &crate::domain::ids::WebhookId,
        now: crate::domain::time::Timestamp,
    ) -> Result<Option<crate::domain::signing::SigningSecrets>, StoreError> {
        tokio::time::sleep(Self::READ).await;
        self.0.get(id, now).await
    }

    async fn headers(
        &self,
        id: &crate::domain::ids::WebhookId,
        names: &[String],
    ) -> Result<Option<crate::domain::custom_headers::CustomHeaders>, StoreError> {
        self.0.headers(id, names).await
    }
}

#[tokio::test]
async fn slow_secret_reads_do_not_hold_a_lane_so_a_burst_is_sent_not_queued() {
    // GIVEN a signed webhook with a cap of two, whose secret takes 200 ms to read
    // (four times the lane's patience), and a receiver answering at once
    let store = MemorySecretStore::default();
    let mut hook = webhook(TYPE);
    hook.secret_ref = Some(
        crate::ports::SecretWriter::put(&store, &hook.id, "whsec_slow", base_time())
            .await
            .expect("secret"),
    );
    let world = super::tests::world_with_secrets(
        ScriptedSender::answering([]),
        lanes_of(2),
        Arc::new(SlowSecrets(store)),
    );
    stored(&world, &hook).await;
    // WHEN three events come at once
    let events = [
        event(TYPE, "acme"),
        event(TYPE, "acme"),
        event(TYPE, "acme"),
    ];
    let fanned = futures::future::join_all(
        events
            .iter()
            .map(|event| world.dispatcher.process_event(event, None)),
    )
    .await;
    // THEN all three were sent now (the third took a place the first two freed),
    // none went to the queue
    let deferred: usize = fanned
        .iter()
        .map(|f| f.as_ref().expect("fan-out").deferred)
        .sum();
    assert_eq!(deferred, 0, "{fanned:?}");
    assert_eq!(world.sender.requests().len(), 3);
    assert!(world.queue.enqueued().is_empty());
}
