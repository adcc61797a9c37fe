use std::sync::Arc;
use std::time::Duration;

use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::task::DeliveryTask;
use webhooks_core::ports::{EventSink, TaskQueue};

use super::{JobKind, SqliteQueue, Work};
use crate::db::Db;
use crate::test_support::{event, ManualClock};

const LEASE: Duration = Duration::from_secs(60);

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    clock: Arc<ManualClock>,
    queue: SqliteQueue,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue.db");
    let clock = ManualClock::at("2026-11-28T12:00:00Z");
    let queue = SqliteQueue::new(Db::open(&path).unwrap(), clock.clone());
    Fixture {
        _dir: dir,
        path,
        clock,
        queue,
    }
}

fn task(event_id: &str) -> DeliveryTask {
    DeliveryTask::first(event(event_id), WebhookId::from_trusted("wh_1"))
}

#[tokio::test]
async fn a_job_is_not_claimed_before_its_not_before_time() {
    // GIVEN an event due now and a delivery due in 10 s
    let fx = fixture();
    fx.queue.ingest(&event("evt_1")).await.unwrap();
    fx.queue
        .enqueue(&task("evt_2"), Duration::from_secs(10))
        .await
        .unwrap();
    // WHEN jobs are claimed now
    let now = fx.queue.claim_due(10, LEASE).await.unwrap();
    // THEN only the event comes back
    assert_eq!(now.len(), 1);
    assert_eq!(now[0].kind, JobKind::Event.as_str());
    // AND the delivery comes back once its time has come
    fx.clock.advance(Duration::from_secs(9));
    assert!(fx.queue.claim_due(10, LEASE).await.unwrap().is_empty());
    fx.clock.advance(Duration::from_secs(1));
    let later = fx.queue.claim_due(10, LEASE).await.unwrap();
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].work().unwrap(), Work::Delivery(task("evt_2")));
}

#[tokio::test]
async fn jobs_are_claimed_oldest_due_first_up_to_the_limit() {
    // GIVEN three deliveries enqueued with decreasing delays
    let fx = fixture();
    for (id, delay) in [("evt_a", 3), ("evt_b", 2), ("evt_c", 1)] {
        fx.queue
            .enqueue(&task(id), Duration::from_secs(delay))
            .await
            .unwrap();
    }
    fx.clock.advance(Duration::from_secs(5));
    // WHEN two are claimed, then the rest
    let first = fx.queue.claim_due(2, LEASE).await.unwrap();
    let rest = fx.queue.claim_due(2, LEASE).await.unwrap();
    // THEN they come in due order
    let ids = |jobs: &[super::Job]| -> Vec<String> {
        jobs.iter()
            .map(|job| match job.work().unwrap() {
                Work::Delivery(task) => task.event.id.to_string(),
                Work::Event(event) => event.id.to_string(),
                Work::Log(attempt) => attempt.record.event_id.to_string(),
            })
            .collect()
    };
    assert_eq!(ids(&first), ["evt_c", "evt_b"]);
    assert_eq!(ids(&rest), ["evt_a"]);
}

#[tokio::test]
async fn a_claimed_job_is_leased_until_its_lease_ends() {
    // GIVEN a claimed job
    let fx = fixture();
    fx.queue.ingest(&event("evt_1")).await.unwrap();
    let claimed = fx.queue.claim_due(10, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 1);
    // WHEN claiming again within the lease
    // THEN nothing comes back
    fx.clock.advance(LEASE - Duration::from_millis(1));
    assert!(fx.queue.claim_due(10, LEASE).await.unwrap().is_empty());
    // AND after the lease the job is claimable again (its runner died)
    fx.clock.advance(Duration::from_millis(1));
    let again = fx.queue.claim_due(10, LEASE).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, claimed[0].id);
}

#[tokio::test]
async fn a_released_job_comes_back_later_with_its_failure_counted() {
    // GIVEN a claimed job
    let fx = fixture();
    fx.queue.ingest(&event("evt_1")).await.unwrap();
    let job = fx.queue.claim_due(1, LEASE).await.unwrap().remove(0);
    assert_eq!(job.attempts, 0);
    // WHEN it is released to retry in 30 s
    fx.queue
        .release(job.id, Duration::from_secs(30))
        .await
        .unwrap();
    // THEN it is not due before then, and comes back with one failure counted
    assert_eq!(
        fx.queue.next_due_at().await.unwrap(),
        Some(fx.queue.now().plus(Duration::from_secs(30)))
    );
    assert!(fx.queue.claim_due(1, LEASE).await.unwrap().is_empty());
    fx.clock.advance(Duration::from_secs(30));
    let again = fx.queue.claim_due(1, LEASE).await.unwrap().remove(0);
    assert_eq!((again.id, again.attempts), (job.id, 1));
}

#[tokio::test]
async fn clearing_leases_makes_leased_jobs_due_at_once() {
    // GIVEN a job leased by a previous run
    let fx = fixture();
    fx.queue.ingest(&event("evt_1")).await.unwrap();
    fx.queue.claim_due(1, LEASE).await.unwrap();
    // WHEN a new worker starts and clears the leases
    let cleared = fx.queue.clear_leases().await.unwrap();
    // THEN the job can be claimed immediately
    assert_eq!(cleared, 1);
    assert_eq!(fx.queue.claim_due(1, LEASE).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_completed_job_is_gone() {
    let fx = fixture();
    fx.queue.ingest(&event("evt_1")).await.unwrap();
    let job = fx.queue.claim_due(1, LEASE).await.unwrap().remove(0);
    fx.queue.complete(job.id).await.unwrap();
    assert_eq!(fx.queue.pending().await.unwrap(), 0);
    assert_eq!(fx.queue.next_due_at().await.unwrap(), None);
}

#[tokio::test]
async fn next_due_at_is_the_earliest_claimable_time() {
    // GIVEN an empty queue
    let fx = fixture();
    let now = fx.queue.now();
    assert_eq!(fx.queue.next_due_at().await.unwrap(), None);
    // WHEN a delivery is due in 10 s and an event now, which is then leased
    fx.queue
        .enqueue(&task("evt_1"), Duration::from_secs(10))
        .await
        .unwrap();
    fx.queue.ingest(&event("evt_2")).await.unwrap();
    assert_eq!(fx.queue.next_due_at().await.unwrap(), Some(now));
    fx.queue.claim_due(1, LEASE).await.unwrap();
    // THEN the next due time is the delivery's (the lease ends later)
    assert_eq!(
        fx.queue.next_due_at().await.unwrap(),
        Some(now.plus(Duration::from_secs(10)))
    );
}

#[tokio::test]
async fn payloads_round_trip_events_and_versioned_tasks() {
    // GIVEN an ingested event and an enqueued task
    let fx = fixture();
    fx.queue.ingest(&event("evt_1")).await.unwrap();
    fx.queue
        .enqueue(&task("evt_2"), Duration::ZERO)
        .await
        .unwrap();
    // WHEN both are claimed
    let jobs = fx.queue.claim_due(10, LEASE).await.unwrap();
    // THEN they read back as they went in, the task in its versioned message format
    assert_eq!(jobs[0].work().unwrap(), Work::Event(event("evt_1")));
    assert_eq!(jobs[1].work().unwrap(), Work::Delivery(task("evt_2")));
    let message: serde_json::Value = serde_json::from_str(&jobs[1].payload).unwrap();
    assert_eq!(message["type"], "delivery_v1");
}

#[tokio::test]
async fn enqueueing_and_ingesting_wake_the_worker() {
    let fx = fixture();
    fx.queue.ingest(&event("evt_1")).await.unwrap();
    tokio::time::timeout(Duration::from_secs(1), fx.queue.notified())
        .await
        .expect("ingest wakes");
    fx.queue
        .enqueue(&task("evt_2"), Duration::ZERO)
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(1), fx.queue.notified())
        .await
        .expect("enqueue wakes");
}

#[tokio::test]
async fn an_unreadable_job_can_be_buried_with_its_reason() {
    // GIVEN jobs whose payload or kind cannot be read
    let fx = fixture();
    fx.queue.push_raw("delivery", "{not json").await.unwrap();
    fx.queue.push_raw("carrier_pigeon", "{}").await.unwrap();
    let jobs = fx.queue.claim_due(10, LEASE).await.unwrap();
    // WHEN they are read and buried
    for job in &jobs {
        let reason = job.work().unwrap_err();
        fx.queue.bury(job.id, &reason).await.unwrap();
    }
    // THEN they left the queue for dead_jobs, each with its reason and payload
    assert_eq!(fx.queue.pending().await.unwrap(), 0);
    let dead = fx.queue.dead_jobs(10).await.unwrap();
    assert_eq!(dead.len(), 2);
    let pigeon = dead.iter().find(|d| d.kind == "carrier_pigeon").unwrap();
    assert!(
        pigeon.reason.contains("unknown job kind"),
        "{}",
        pigeon.reason
    );
    let broken = dead.iter().find(|d| d.kind == "delivery").unwrap();
    assert!(
        broken.reason.contains("unreadable delivery task"),
        "{}",
        broken.reason
    );
    assert_eq!(broken.payload, "{not json");
}

#[tokio::test]
async fn pending_jobs_survive_reopening_the_file() {
    // GIVEN a delivery enqueued and the database closed
    let fx = fixture();
    fx.queue
        .enqueue(&task("evt_1"), Duration::from_secs(5))
        .await
        .unwrap();
    let Fixture {
        _dir,
        path,
        clock,
        queue,
    } = fx;
    drop(queue);
    // WHEN the file is opened again
    let reopened = SqliteQueue::new(Db::open(&path).unwrap(), clock.clone());
    clock.advance(Duration::from_secs(5));
    // THEN the delivery is still there, due at its time
    let jobs = reopened.claim_due(10, LEASE).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].work().unwrap(), Work::Delivery(task("evt_1")));
}
