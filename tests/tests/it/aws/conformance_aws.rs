//! The port conformance suites against the AWS adapters on the moto emulator, each
//! case on its own tables, queues and secret prefix; then what only the AWS adapters
//! do: SQS delays and chaining, message batching, the DLQ's reason, the log items'
//! TTL, BatchWriteItem chunking and the stored shapes ops read.
//!
//! Needs `AWS_ENDPOINT_URL` (see `webhooks_tests::moto`): run under
//! `scripts/moto.sh run -- cargo test ...` or `make test`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use webhooks_aws::{
    CachedSecrets, DynamoLogStore, DynamoStatsStore, DynamoWebhookStore, KmsSecretStore,
    SecretsManagerStore, SqsTaskQueue,
};
use webhooks_core::domain::delivery_log::LoggedAttempt;
use webhooks_core::domain::task::{DeliveryTask, TaskMessage};
use webhooks_core::domain::time::SystemClock;
use webhooks_core::ports::{
    LogAppender, LogReader, LogStore, SecretReader, SecretStore, SecretWriter, StatsStore,
    StoreError, TaskQueue, WebhookRegistry, WebhookStore,
};
use webhooks_tests::conformance::task_queue::QueueProbe;
use webhooks_tests::moto::Moto;

const RETENTION: Duration = Duration::from_secs(30 * 86400);

/// A webhooks table as a new stack has it once `webhooks migrate subscriptions` ran
/// (the marker is there).
async fn webhook_store() -> Box<dyn WebhookStore> {
    let moto = Moto::connect().await;
    let table = moto.create_webhooks_table().await;
    webhooks_aws::migrate::migrate_subscriptions(
        &moto.clients.dynamodb,
        &table,
        webhooks_core::testing::fixtures::base_time(),
    )
    .await
    .expect("the backfill of an empty table");
    Box::new(DynamoWebhookStore::new(
        moto.clients.dynamodb.clone(),
        table,
    ))
}

/// A webhooks table before the backfill (no marker): fan-out and listing read it
/// the old way, and must keep the same rules.
async fn unmigrated_webhook_store() -> Box<dyn WebhookStore> {
    let moto = Moto::connect().await;
    let table = moto.create_webhooks_table().await;
    Box::new(DynamoWebhookStore::new(
        moto.clients.dynamodb.clone(),
        table,
    ))
}

async fn log_store() -> Box<dyn LogStore> {
    let moto = Moto::connect().await;
    let table = moto.create_delivery_logs_table().await;
    Box::new(DynamoLogStore::new(
        moto.clients.dynamodb.clone(),
        table,
        RETENTION,
    ))
}

/// The stats, in their partitions of a fresh delivery-logs table.
async fn stats_store() -> Box<dyn StatsStore> {
    let moto = Moto::connect().await;
    let table = moto.create_delivery_logs_table().await;
    Box::new(DynamoStatsStore::new(moto.clients.dynamodb.clone(), table))
}

async fn secret_store() -> Box<dyn SecretStore> {
    let moto = Moto::connect().await;
    Box::new(SecretsManagerStore::new(
        moto.clients.secrets.clone(),
        moto.secret_prefix(),
    ))
}

/// The KMS envelope store (`SECRETS_MODE=kms`) on its own key and secrets table.
async fn kms_secret_store() -> KmsSecretStore {
    let moto = Moto::connect().await;
    let table = moto.create_secrets_table().await;
    let key = moto.create_kms_key().await;
    KmsSecretStore::new(
        moto.clients.kms.clone(),
        moto.clients.dynamodb.clone(),
        table,
        key,
    )
    .for_stack(Some("conformance".into()))
}

async fn cached_kms_secret_store() -> Box<dyn SecretStore> {
    Box::new(CachedSecrets::new(
        kms_secret_store().await,
        webhooks_aws::DEFAULT_CACHE_TTL,
    ))
}

async fn cached_secret_store() -> Box<dyn SecretStore> {
    let moto = Moto::connect().await;
    let store = SecretsManagerStore::new(moto.clients.secrets.clone(), moto.secret_prefix());
    Box::new(CachedSecrets::new(store, webhooks_aws::DEFAULT_CACHE_TTL))
}

/// The retry queue, read by receiving (and deleting) what is visible.
struct SqsProbe {
    moto: Moto,
    queue: SqsTaskQueue,
}

#[async_trait]
impl TaskQueue for SqsProbe {
    async fn enqueue(&self, task: &DeliveryTask, delay: Duration) -> Result<(), StoreError> {
        self.queue.enqueue(task, delay).await
    }

    async fn park_log(&self, attempt: &LoggedAttempt) -> Result<(), StoreError> {
        self.queue.park_log(attempt).await
    }

    async fn enqueue_many(
        &self,
        tasks: &[(DeliveryTask, Duration)],
    ) -> Vec<Result<(), StoreError>> {
        self.queue.enqueue_many(tasks).await
    }
}

impl SqsProbe {
    /// Receives (and deletes) every visible message, parsed.
    async fn take_messages(&self) -> Vec<TaskMessage> {
        let messages = self.moto.receive_all(self.queue.queue_url()).await;
        messages
            .iter()
            .map(|m| {
                serde_json::from_str::<TaskMessage>(m.body().expect("a body"))
                    .expect("a task message")
            })
            .collect()
    }
}

#[async_trait]
impl QueueProbe for SqsProbe {
    async fn take_due(&self) -> Result<Vec<DeliveryTask>, StoreError> {
        let messages = self.take_messages().await;
        Ok(messages
            .into_iter()
            .filter_map(TaskMessage::into_task)
            .collect())
    }

    async fn take_parked(&self) -> Result<Vec<LoggedAttempt>, StoreError> {
        let messages = self.take_messages().await;
        Ok(messages
            .into_iter()
            .filter_map(|m| match m {
                TaskMessage::DeliveryLogV1(attempt) => Some(attempt),
                TaskMessage::DeliveryV1(_) => None,
            })
            .collect())
    }
}

async fn task_queue() -> Box<dyn QueueProbe> {
    let moto = Moto::connect().await;
    let url = moto.create_queue("retry").await;
    let queue = SqsTaskQueue::new(moto.clients.sqs.clone(), url, Arc::new(SystemClock));
    Box::new(SqsProbe { moto, queue })
}

mod webhook_store {
    use super::*;
    webhooks_tests::webhook_store_conformance!(webhook_store().await);
}

mod subscribers {
    use super::*;
    webhooks_tests::subscribers_conformance!(webhook_store().await);
}

mod webhook_store_before_the_backfill {
    use super::*;
    webhooks_tests::webhook_store_conformance!(unmigrated_webhook_store().await);
}

mod subscribers_before_the_backfill {
    use super::*;
    webhooks_tests::subscribers_conformance!(unmigrated_webhook_store().await);
}

mod secret_store {
    use super::*;
    webhooks_tests::secret_store_conformance!(secret_store().await);
}

mod cached_secret_store {
    use super::*;
    webhooks_tests::secret_store_conformance!(cached_secret_store().await);
}

mod kms_secret_store {
    use super::*;
    webhooks_tests::secret_store_conformance!(Box::new(kms_secret_store().await));
}

mod cached_kms_secret_store {
    use super::*;
    webhooks_tests::secret_store_conformance!(cached_kms_secret_store().await);
}

mod log_store {
    use super::*;
    webhooks_tests::log_store_conformance!(log_store().await);
}

mod stats_store {
    use super::*;
    webhooks_tests::stats_store_conformance!(stats_store().await);
}

mod task_queue {
    use super::*;
    webhooks_tests::task_queue_conformance!(task_queue().await);
}

/// What only the AWS adapters do.
mod adapters {
    use std::collections::HashMap;
    use std::time::Instant;

    use aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemInput;
    use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveStatus};
    use aws_sdk_sqs::operation::send_message_batch::SendMessageBatchInput;
    use webhooks_aws::limits::{MAX_BATCH_BYTES, MAX_BATCH_ENTRIES, MAX_MESSAGE_BYTES};
    use webhooks_aws::{BatchFailure, SqsDeadLetters, SqsLogSink, REASON_ATTRIBUTE};
    use webhooks_core::domain::delivery_log::Outcome;
    use webhooks_core::domain::event::Event;
    use webhooks_core::domain::ids::{DeliveryId, EventId, WebhookId};
    use webhooks_core::domain::time::{Clock, Timestamp};
    use webhooks_core::domain::webhook::ClientScope;
    use webhooks_core::ports::{DeadLetters, LogSink};
    use webhooks_tests::conformance::support::{at, attempt, base_time, webhook};
    use webhooks_tests::moto::Recorder;

    use super::*;

    struct Fixed(Timestamp);

    impl Clock for Fixed {
        fn now(&self) -> Timestamp {
            self.0
        }
    }

    fn task() -> DeliveryTask {
        let event = Event {
            id: EventId::generate(),
            event_type: "report.publish_status".into(),
            client_id: "acme".into(),
            occurred_at: base_time(),
            data: serde_json::json!({"report_id": "r-42"}),
        };
        DeliveryTask::first(event, WebhookId::generate())
    }

    fn parse_task(body: &str) -> DeliveryTask {
        serde_json::from_str::<TaskMessage>(body)
            .expect("a task message")
            .into_task()
            .expect("a delivery task")
    }

    /// `count` attempts of different deliveries of one webhook, each with `data`.
    fn attempts(count: u64, data: serde_json::Value) -> Vec<LoggedAttempt> {
        let webhook = WebhookId::generate();
        (0..count)
            .map(|i| {
                let delivery =
                    DeliveryId::derive(&EventId::from_trusted(format!("evt_{i}")), &webhook);
                let mut logged = attempt(&webhook, &delivery, 1, Outcome::Succeeded, at(i));
                logged.data = data.clone();
                logged
            })
            .collect()
    }

    fn bodies(messages: &[aws_sdk_sqs::types::Message]) -> Vec<LoggedAttempt> {
        messages
            .iter()
            .map(|m| serde_json::from_str(m.body().expect("a body")).expect("JSON"))
            .collect()
    }

    fn sorted(mut attempts: Vec<LoggedAttempt>) -> Vec<LoggedAttempt> {
        attempts.sort_by_key(|a| a.record.sort_key());
        attempts
    }

    #[tokio::test]
    async fn a_short_retry_delay_holds_the_message_back_that_long() {
        // GIVEN the retry queue and a task due in two seconds
        let moto = Moto::connect().await;
        let url = moto.create_queue("retry").await;
        let queue = SqsTaskQueue::new(moto.clients.sqs.clone(), &url, Arc::new(SystemClock));
        let mut task = task();
        task.not_before = Some(SystemClock.now().plus(Duration::from_secs(2)));
        // WHEN it is enqueued with that delay
        let sent = Instant::now();
        queue
            .enqueue(&task, Duration::from_secs(2))
            .await
            .expect("enqueue");
        // THEN SQS holds it for DelaySeconds=2, then hands it over unchanged
        let held = moto.held_messages().await;
        let mine = held
            .iter()
            .find(|m| m.body.contains(task.delivery_id.as_str()))
            .expect("held by the emulator");
        assert_eq!(mine.delay, Some(Duration::from_secs(2)));
        assert!(
            moto.receive(&url, 0).await.is_empty(),
            "not visible at once"
        );
        let mut received = Vec::new();
        while received.is_empty() && sent.elapsed() < Duration::from_secs(15) {
            received = moto.receive(&url, 1).await;
        }
        assert!(sent.elapsed() >= Duration::from_millis(1500));
        assert_eq!(received.len(), 1);
        assert_eq!(parse_task(received[0].body().expect("a body")), task);
    }

    #[tokio::test]
    async fn a_retry_delay_past_15_minutes_waits_900_s_and_carries_its_due_time() {
        // GIVEN the retry queue at a known moment
        let moto = Moto::connect().await;
        let url = moto.create_queue("retry").await;
        let now = at(0);
        let queue = SqsTaskQueue::new(moto.clients.sqs.clone(), &url, Arc::new(Fixed(now)));
        let task = task();
        // WHEN a task is enqueued for two hours later
        queue
            .enqueue(&task, Duration::from_secs(2 * 3600))
            .await
            .expect("enqueue");
        // THEN the message is delayed by SQS's maximum, 900 s
        assert_eq!(moto.queue_counts(&url).await, (0, 1));
        let held = moto.held_messages().await;
        let mine = held
            .iter()
            .find(|m| m.body.contains(task.delivery_id.as_str()))
            .expect("held by the emulator");
        assert_eq!(mine.delay, Some(Duration::from_secs(900)));
        // AND its body says when it is really due, so that the delivery function puts
        // it back when it arrives early
        let body: serde_json::Value = serde_json::from_str(&mine.body).expect("JSON");
        assert_eq!(body["type"], "delivery_v1");
        let sent = parse_task(&mine.body);
        assert_eq!(
            sent.not_before,
            Some(now.plus(Duration::from_secs(2 * 3600)))
        );
        assert_eq!(
            DeliveryTask {
                not_before: None,
                ..sent
            },
            task
        );
    }

    #[tokio::test]
    async fn the_log_sink_sends_each_attempt_as_its_json() {
        let moto = Moto::connect().await;
        let url = moto.create_queue("logs").await;
        let sink = SqsLogSink::new(moto.clients.sqs.clone(), &url);
        let logged = attempts(1, serde_json::json!({"n": 1})).remove(0);
        sink.record(&logged).await.expect("record");
        let received = bodies(&moto.receive_all(&url).await);
        assert_eq!(received, vec![logged]);
    }

    #[tokio::test]
    async fn log_batches_hold_at_most_ten_entries_and_256_kib() {
        // GIVEN the logs queue, seen through a recording client
        let moto = Moto::connect().await;
        let url = moto.create_queue("logs").await;
        let recorder = Recorder::<SendMessageBatchInput>::default();
        let sink = SqsLogSink::new(moto.sqs_recording(&recorder), &url);
        // WHEN 23 small attempts, then 5 of about 100 KiB, are sent as batches
        let small = attempts(23, serde_json::json!({"n": 1}));
        let large = attempts(5, serde_json::json!({"blob": "x".repeat(100 * 1024)}));
        sink.record_batch(&small).await.expect("small batch");
        sink.record_batch(&large).await.expect("large batch");
        // THEN no call held more than 10 entries or 256 KiB: 10+10+3, then 2+2+1
        let calls = recorder.seen();
        let sizes: Vec<usize> = calls.iter().map(|c| c.entries().len()).collect();
        assert_eq!(sizes, [10, 10, 3, 2, 2, 1]);
        for call in &calls {
            assert!(call.entries().len() <= MAX_BATCH_ENTRIES);
            let bytes: usize = call.entries().iter().map(|e| e.message_body().len()).sum();
            assert!(bytes <= MAX_BATCH_BYTES, "{bytes} bytes in one call");
        }
        // AND every attempt arrived once, intact
        let received = bodies(&moto.receive_all(&url).await);
        let sent: Vec<_> = small.into_iter().chain(large).collect();
        assert_eq!(sorted(received), sorted(sent));
    }

    #[tokio::test]
    async fn a_log_record_too_large_for_sqs_is_reported_and_the_rest_sent() {
        let moto = Moto::connect().await;
        let url = moto.create_queue("logs").await;
        let sink = SqsLogSink::new(moto.clients.sqs.clone(), &url);
        let mut batch = attempts(3, serde_json::json!({"n": 1}));
        batch[1].data = serde_json::json!({"blob": "x".repeat(MAX_MESSAGE_BYTES)});
        let error = sink
            .record_batch(&batch)
            .await
            .expect_err("one is too large");
        let StoreError::Backend(source) = error else {
            panic!("a backend error, not {error:?}");
        };
        let failure = source
            .downcast_ref::<BatchFailure>()
            .expect("a BatchFailure");
        assert_eq!(failure.failed, vec![1]);
        assert!(failure.reason.contains("over SQS"), "{}", failure.reason);
        let received = bodies(&moto.receive_all(&url).await);
        assert_eq!(
            sorted(received),
            sorted(vec![batch[0].clone(), batch[2].clone()])
        );
    }

    #[tokio::test]
    async fn a_dead_letter_keeps_the_body_and_says_why() {
        let moto = Moto::connect().await;
        let url = moto.create_queue("events-dlq").await;
        let dlq = SqsDeadLetters::new(moto.clients.sqs.clone(), &url);
        let body = "{\"type\": \"report.publish_status\", \"client_id\": ";
        dlq.reject(
            body,
            "not valid JSON: EOF while parsing at line 1 column 47",
        )
        .await
        .expect("reject");
        let received = moto.receive_all(&url).await;
        assert_eq!(received.len(), 1);
        assert_eq!(received[0].body(), Some(body));
        let reason = received[0]
            .message_attributes()
            .and_then(|a| a.get(REASON_ATTRIBUTE))
            .expect("a reason attribute");
        assert_eq!(reason.data_type(), "String");
        assert_eq!(
            reason.string_value(),
            Some("not valid JSON: EOF while parsing at line 1 column 47")
        );
    }

    #[tokio::test]
    async fn log_items_expire_after_the_retention() {
        // GIVEN a delivery-logs table with TTL on expires_at, and a 7-day retention
        let moto = Moto::connect().await;
        let table = moto.create_delivery_logs_table().await;
        let store = DynamoLogStore::new(
            moto.clients.dynamodb.clone(),
            &table,
            Duration::from_secs(7 * 86400),
        );
        let logged = attempts(1, serde_json::json!({"n": 1})).remove(0);
        // WHEN an attempt is appended
        store
            .append(std::slice::from_ref(&logged))
            .await
            .expect("append");
        // THEN its item expires 7 days after the attempt, and the keys are as documented
        let item = moto
            .clients
            .dynamodb
            .get_item()
            .table_name(&table)
            .key(
                "webhook_id",
                AttributeValue::S(logged.record.webhook_id.to_string()),
            )
            .key("sk", AttributeValue::S(logged.record.sort_key()))
            .send()
            .await
            .expect("get item")
            .item
            .expect("the item");
        let expected = logged.record.at.unix_seconds() + 7 * 86400;
        assert_eq!(item["expires_at"], AttributeValue::N(expected.to_string()));
        assert_eq!(item["outcome"], AttributeValue::S("succeeded".into()));
        assert_eq!(
            item["delivery_id"],
            AttributeValue::S(logged.record.delivery_id.to_string())
        );
        let ttl = moto
            .clients
            .dynamodb
            .describe_time_to_live()
            .table_name(&table)
            .send()
            .await
            .expect("describe TTL")
            .time_to_live_description
            .expect("a TTL description");
        assert_eq!(ttl.attribute_name(), Some("expires_at"));
        assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    }

    #[tokio::test]
    async fn sixty_attempts_are_written_in_batches_of_at_most_25() {
        // GIVEN the log store on a recording client
        let moto = Moto::connect().await;
        let table = moto.create_delivery_logs_table().await;
        let recorder = Recorder::<BatchWriteItemInput>::default();
        let store = DynamoLogStore::new(moto.dynamodb_recording(&recorder), &table, RETENTION);
        let logged = attempts(60, serde_json::json!({"n": 1}));
        let webhook = logged[0].record.webhook_id.clone();
        // WHEN 60 attempts (and a duplicate of one) are appended at once
        let mut batch = logged.clone();
        batch.push(logged[7].clone());
        store.append(&batch).await.expect("append");
        // THEN three BatchWriteItem calls carried 25, 25 and 10 items
        let sizes: Vec<usize> = recorder
            .seen()
            .iter()
            .map(|call| {
                call.request_items()
                    .map(|items| items.values().map(Vec::len).sum())
                    .unwrap_or(0)
            })
            .collect();
        assert_eq!(sizes, [25, 25, 10]);
        // AND all 60 are in the log, once each
        let page = store.list(&webhook, None, 100, None).await.expect("list");
        assert_eq!(page.items.len(), 60);
        assert_eq!(sorted(page.items), sorted(logged));
    }

    #[tokio::test]
    async fn a_webhook_item_has_the_documented_attributes() {
        // GIVEN a stored webhook with a secret
        let moto = Moto::connect().await;
        let table = moto.create_webhooks_table().await;
        let store = DynamoWebhookStore::new(moto.clients.dynamodb.clone(), &table);
        let mut hook = webhook("report.publish_status", ClientScope::all(), true);
        hook.secret_ref = Some(webhooks_core::domain::secret::SecretRef::new(
            "arn:aws:secretsmanager:us-east-1:1:secret:webhooks/x",
        ));
        store.insert(&hook).await.expect("insert");
        // WHEN its item is read as ops would
        let item: HashMap<String, AttributeValue> = moto
            .clients
            .dynamodb
            .get_item()
            .table_name(&table)
            .key("id", AttributeValue::S(hook.id.to_string()))
            .send()
            .await
            .expect("get item")
            .item
            .expect("the item");
        // THEN it is the webhook's JSON with the secret's ARN, and no secret
        assert_eq!(item["event"], AttributeValue::S(hook.event.clone()));
        assert_eq!(item["clients"], AttributeValue::S("all".into()));
        assert_eq!(item["enabled"], AttributeValue::Bool(true));
        assert_eq!(item["version"], AttributeValue::N("1".into()));
        assert_eq!(
            item["secret_arn"],
            AttributeValue::S(hook.secret_ref.clone().expect("a reference").to_string())
        );
        assert!(!item.contains_key("secret_ref"));
        assert!(!item.contains_key("secret"));
    }

    #[tokio::test]
    async fn a_secret_is_one_json_value_and_removal_only_schedules_deletion() {
        // GIVEN a secret rotated once
        let moto = Moto::connect().await;
        let prefix = moto.secret_prefix();
        let store = SecretsManagerStore::new(moto.clients.secrets.clone(), &prefix);
        let id = WebhookId::generate();
        let reference = store
            .put(&id, "first-secret-0123456789", at(0))
            .await
            .expect("put");
        store
            .put(&id, "second-secret-0123456789", at(60))
            .await
            .expect("rotate");
        let name = format!("{prefix}{id}");
        assert_eq!(store.secret_name(&id), name);
        assert!(
            reference.as_str().starts_with("arn:aws:secretsmanager:"),
            "{reference}"
        );
        // WHEN its value is read as ops would
        let value = moto
            .clients
            .secrets
            .get_secret_value()
            .secret_id(&name)
            .send()
            .await
            .expect("get secret value");
        let json: serde_json::Value =
            serde_json::from_str(value.secret_string().expect("a string")).expect("JSON");
        // THEN both secrets and the rotation time are in it
        assert_eq!(
            json,
            serde_json::json!({"current": "second-secret-0123456789",
                "previous": "first-secret-0123456789", "rotated_at": at(60).to_string()})
        );
        // AND removing it schedules its deletion with a recovery window
        store.remove(&id).await.expect("remove");
        let described = moto
            .clients
            .secrets
            .describe_secret()
            .secret_id(&name)
            .send()
            .await
            .expect("still described");
        assert!(described.deleted_date().is_some(), "scheduled for deletion");
        assert_eq!(store.get(&id, at(61)).await.expect("get"), None);
        // AND a new secret restores it under the same ARN
        let again = store
            .put(&id, "third-secret-0123456789", at(120))
            .await
            .expect("put again");
        assert_eq!(again, reference);
        let described = moto
            .clients
            .secrets
            .describe_secret()
            .secret_id(&name)
            .send()
            .await
            .expect("described");
        assert!(described.deleted_date().is_none(), "restored");
    }
}
