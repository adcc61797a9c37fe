//! A delivery task received before its time: held in the queue when its message may
//! be, queued again with its delay otherwise; never attempted early.

use std::collections::HashSet;
use std::time::Duration;

use super::batch::{process_batch, BatchOutcome};
use super::tests::{stored, world_with, TYPE};
use super::DeliverySettings;
use crate::domain::task::{DeliveryTask, TaskMessage};
use crate::ports::QueueMessage;
use crate::testing::fakes::ScriptedSender;
use crate::testing::fixtures::{base_time, event, webhook};
use crate::testing::memory::MemoryDeadLetters;

/// A retry-queue record of a task due two hours after `base_time`.
fn early_task_record(task: &DeliveryTask) -> QueueMessage {
    let mut task = task.clone();
    task.not_before = Some(base_time().plus(Duration::from_secs(2 * 3600)));
    QueueMessage {
        message_id: "m-early".to_owned(),
        body: TaskMessage::from(task).to_json(),
        received_at: base_time(),
    }
}

#[tokio::test]
async fn an_early_task_that_may_be_held_is_left_in_the_queue_until_it_is_due() {
    // GIVEN a webhook and a retry-queue record of its task, due in two hours
    let world = world_with(ScriptedSender::answering([]), DeliverySettings::default());
    let hook = stored(&world, &webhook(TYPE)).await;
    let record = early_task_record(&DeliveryTask::first(event(TYPE, "acme"), hook.id));
    // WHEN the batch is processed with the record allowed to be held
    let holdable = HashSet::from(["m-early".to_owned()]);
    let outcome = process_batch(
        &world.dispatcher,
        &MemoryDeadLetters::default(),
        vec![record],
        None,
        &holdable,
    )
    .await;
    // THEN it is held for the two hours, with nothing sent, queued or logged
    assert_eq!(
        outcome,
        BatchOutcome {
            retry: Vec::new(),
            held: vec![("m-early".to_owned(), Duration::from_secs(2 * 3600))],
        }
    );
    assert!(world.queue.enqueued().is_empty());
    assert!(world.sender.requests().is_empty());
    assert!(world.logs.all().is_empty());
}

#[tokio::test]
async fn an_early_task_that_may_not_be_held_is_queued_again_with_its_delay() {
    // GIVEN the same record, not allowed to be held (received too often, or the
    // queue has too many in flight)
    let world = world_with(ScriptedSender::answering([]), DeliverySettings::default());
    let hook = stored(&world, &webhook(TYPE)).await;
    let record = early_task_record(&DeliveryTask::first(event(TYPE, "acme"), hook.id));
    // WHEN the batch is processed
    let outcome = process_batch(
        &world.dispatcher,
        &MemoryDeadLetters::default(),
        vec![record],
        None,
        &HashSet::new(),
    )
    .await;
    // THEN the record is done with and the task waits in the queue for its time
    assert_eq!(outcome, BatchOutcome::default());
    let enqueued = world.queue.enqueued();
    assert_eq!(enqueued.len(), 1);
    assert_eq!(enqueued[0].1, Duration::from_secs(2 * 3600));
    assert!(world.sender.requests().is_empty());
}
