use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use aws_sdk_sqs::types::MessageAttributeValue;

use super::*;
use crate::dlq::list::list;
use crate::dlq::port::Failure;

const DLQ: &str = "https://sqs.eu-west-1.amazonaws.com/1/events-dlq";
const SOURCE: &str = "https://sqs.eu-west-1.amazonaws.com/1/events";

struct Held {
    message: DlqMessage,
    hidden: bool,
}

/// Queues in memory that record every send and delete, in order.
#[derive(Default)]
struct Fake {
    queues: Mutex<HashMap<String, Vec<Held>>>,
    calls: Mutex<Vec<String>>,
    failing_sends: HashSet<String>,
    sent: Mutex<Vec<Outgoing>>,
}

fn text(value: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .unwrap()
}

fn dead(id: &str, reason: Option<&str>) -> DlqMessage {
    let mut attributes = HashMap::from([("trace".to_owned(), text("t-1"))]);
    if let Some(reason) = reason {
        attributes.insert(REASON_ATTRIBUTE.to_owned(), text(reason));
    }
    DlqMessage {
        id: id.into(),
        receipt: String::new(),
        body: format!("body of {id}"),
        sent_at_ms: Some(0),
        receive_count: Some(5),
        reason: reason.map(str::to_owned),
        group_id: Some("g-1".into()),
        attributes,
    }
}

impl Fake {
    fn with_dlq(messages: Vec<DlqMessage>) -> Self {
        let fake = Fake::default();
        let held = messages
            .into_iter()
            .map(|message| Held {
                message,
                hidden: false,
            })
            .collect();
        fake.queues.lock().unwrap().insert(DLQ.into(), held);
        fake
    }

    /// (id, hidden) of what `queue` holds.
    fn held(&self, queue: &str) -> Vec<(String, bool)> {
        let queues = self.queues.lock().unwrap();
        let held = queues.get(queue).map(Vec::as_slice).unwrap_or_default();
        held.iter()
            .map(|h| (h.message.id.clone(), h.hidden))
            .collect()
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

impl Queues for Fake {
    async fn receive(
        &self,
        queue: &str,
        max: i32,
        _hide_for: Duration,
    ) -> Result<Vec<DlqMessage>, CliError> {
        let mut queues = self.queues.lock().unwrap();
        let held = queues.entry(queue.to_owned()).or_default();
        let mut out = Vec::new();
        for h in held.iter_mut().filter(|h| !h.hidden).take(max as usize) {
            h.hidden = true;
            h.message.receipt = format!("receipt-{}", h.message.id);
            out.push(h.message.clone());
        }
        Ok(out)
    }

    async fn send(&self, queue: &str, messages: &[Outgoing]) -> Result<Vec<Failure>, CliError> {
        let mut failures = Vec::new();
        for out in messages {
            if self.failing_sends.contains(&out.id) {
                failures.push(Failure {
                    id: out.id.clone(),
                    message: "InternalError".into(),
                });
                continue;
            }
            self.calls.lock().unwrap().push(format!("send {}", out.id));
            self.sent.lock().unwrap().push(out.clone());
            let mut copy = dead(&out.id, None);
            copy.attributes = out.attributes.clone();
            let mut queues = self.queues.lock().unwrap();
            queues.entry(queue.to_owned()).or_default().push(Held {
                message: copy,
                hidden: false,
            });
        }
        Ok(failures)
    }

    async fn delete(&self, queue: &str, receipts: &[Receipt]) -> Result<Vec<Failure>, CliError> {
        let mut queues = self.queues.lock().unwrap();
        let held = queues.entry(queue.to_owned()).or_default();
        for r in receipts {
            self.calls.lock().unwrap().push(format!("delete {}", r.id));
            held.retain(|h| h.message.receipt != r.handle);
        }
        Ok(Vec::new())
    }

    async fn reveal(&self, queue: &str, receipts: &[Receipt]) -> Result<(), CliError> {
        let mut queues = self.queues.lock().unwrap();
        let held = queues.entry(queue.to_owned()).or_default();
        for h in held.iter_mut() {
            if receipts.iter().any(|r| r.handle == h.message.receipt) {
                h.hidden = false;
            }
        }
        Ok(())
    }

    async fn sources(&self, _dlq: &str) -> Result<Vec<String>, CliError> {
        Ok(vec![SOURCE.into()])
    }
}

#[tokio::test]
async fn unmarked_messages_move_and_refused_ones_stay_visible_in_the_dlq() {
    // GIVEN a DLQ with two unmarked messages and a refused one
    let fake = Fake::with_dlq(vec![
        dead("a", None),
        dead("r", Some("bad")),
        dead("b", None),
    ]);

    // WHEN it is redriven
    let done = redrive(&fake, DLQ, SOURCE, false, "n1").await;

    // THEN the two moved, the refused one was skipped and is visible in the DLQ again
    assert!(done.error.is_none(), "{:?}", done.error);
    assert_eq!(
        (done.report.moved, done.report.skipped, done.report.complete),
        (2, 1, true)
    );
    assert_eq!(fake.held(DLQ), [("r".to_owned(), false)]);
    assert_eq!(
        fake.held(SOURCE),
        [("a".to_owned(), false), ("b".to_owned(), false)]
    );
}

#[tokio::test]
async fn include_refused_moves_them_without_their_reason_but_with_other_attributes() {
    // GIVEN a refused body in the DLQ
    let fake = Fake::with_dlq(vec![dead("r", Some("bad"))]);

    // WHEN it is redriven with --include-refused
    let done = redrive(&fake, DLQ, SOURCE, true, "n1").await;

    // THEN it moved, without `reason` but with its other attribute and its group (a
    // fair queue's), and no deduplication id on a standard queue
    assert_eq!((done.report.moved, done.report.skipped), (1, 0));
    let sent = fake.sent.lock().unwrap().clone();
    assert!(!sent[0].attributes.contains_key(REASON_ATTRIBUTE));
    assert!(sent[0].attributes.contains_key("trace"));
    assert_eq!(sent[0].group_id.as_deref(), Some("g-1"));
    assert_eq!(sent[0].deduplication_id, None);
    assert!(fake.held(DLQ).is_empty());
}

#[tokio::test]
async fn each_message_is_sent_to_the_source_before_it_is_deleted_from_the_dlq() {
    // GIVEN more messages than one receive takes
    let ids: Vec<String> = (0..15).map(|i| format!("m{i}")).collect();
    let fake = Fake::with_dlq(ids.iter().map(|id| dead(id, None)).collect());

    // WHEN they are redriven
    let done = redrive(&fake, DLQ, SOURCE, false, "n1").await;

    // THEN every delete comes after the send of the same message
    assert_eq!(done.report.moved, 15);
    let calls = fake.calls();
    for id in &ids {
        let sent = calls.iter().position(|c| *c == format!("send {id}"));
        let deleted = calls.iter().position(|c| *c == format!("delete {id}"));
        assert!(sent.unwrap() < deleted.unwrap(), "{id}: {calls:?}");
    }
}

#[tokio::test]
async fn a_message_whose_send_fails_is_not_deleted_and_is_visible_again() {
    // GIVEN a DLQ where the send of one message fails
    let mut fake = Fake::with_dlq(vec![dead("ok", None), dead("nope", None)]);
    fake.failing_sends.insert("nope".into());

    // WHEN it is redriven
    let done = redrive(&fake, DLQ, SOURCE, false, "n1").await;

    // THEN that message was never deleted and waits, visible, in the DLQ
    assert_eq!((done.report.moved, done.report.failed), (1, 1));
    assert!(!fake.calls().contains(&"delete nope".to_owned()));
    assert_eq!(fake.held(DLQ), [("nope".to_owned(), false)]);
    assert!(
        done.report.errors[0].starts_with("nope: "),
        "{:?}",
        done.report
    );
}

#[tokio::test]
async fn a_fifo_source_gets_the_group_and_a_deduplication_id_of_the_run() {
    // GIVEN a message of group g-1
    let fake = Fake::with_dlq(vec![dead("a", None)]);

    // WHEN it is redriven to a FIFO queue
    redrive(
        &fake,
        DLQ,
        "https://sqs.eu-west-1.amazonaws.com/1/q.fifo",
        false,
        "run7",
    )
    .await;

    // THEN it keeps its group, and its deduplication id is the run's
    let sent = fake.sent.lock().unwrap().clone();
    assert_eq!(sent[0].group_id.as_deref(), Some("g-1"));
    assert_eq!(sent[0].deduplication_id.as_deref(), Some("run7-a"));
}

#[tokio::test]
async fn list_shows_up_to_the_limit_and_leaves_every_message_visible() {
    // GIVEN 12 messages, one of them refused
    let mut messages: Vec<DlqMessage> = (0..11).map(|i| dead(&format!("m{i}"), None)).collect();
    messages.push(dead("r", Some("bad")));
    let fake = Fake::with_dlq(messages);

    // WHEN 11 are listed, then all
    let some = list(&fake, DLQ, 11).await.unwrap();
    let all = list(&fake, DLQ, 100).await.unwrap();

    // THEN the first shows 11, the second all 12 with the reason, and nothing left
    // the queue or stays hidden
    assert_eq!(some.len(), 11);
    assert_eq!(all.len(), 12);
    assert_eq!(all[11].reason.as_deref(), Some("bad"));
    assert!(fake.calls().is_empty(), "{:?}", fake.calls());
    assert!(fake.held(DLQ).iter().all(|(_, hidden)| !hidden));
}
