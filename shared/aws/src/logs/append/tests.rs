//! Appending on an SDK client whose HTTP connector answers as DynamoDB would: the
//! limits the emulator does not enforce (400 KB, 32 levels), a `ValidationException`,
//! throttling, and items left unprocessed, each mapped to the core's error kinds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::config::http::{HttpRequest, HttpResponse};
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::error::ErrorMetadata;
use aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemError;
use aws_sdk_dynamodb::Client;
use aws_smithy_runtime_api::client::http::{
    http_client_fn, HttpConnector, HttpConnectorFuture, SharedHttpConnector,
};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use serde_json::{json, Value};
use webhooks_core::domain::delivery_log::{DeliveryLogRecord, LoggedAttempt, Outcome};
use webhooks_core::domain::ids::{DeliveryId, EventId, WebhookId};
use webhooks_core::domain::time::Timestamp;
use webhooks_core::ports::{LogAppender, StoreError};

use super::chunk_failure;
use crate::logs::DynamoLogStore;

const TABLE: &str = "logs";

type Answer = dyn Fn(&Value) -> (u16, Value) + Send + Sync;

/// Answers each `BatchWriteItem` request with `answer(request body)`, and remembers
/// how many items each request carried.
#[derive(Clone)]
struct FakeDynamo {
    answer: Arc<Answer>,
    calls: Arc<Mutex<Vec<usize>>>,
}

impl fmt::Debug for FakeDynamo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FakeDynamo")
    }
}

impl HttpConnector for FakeDynamo {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let body: Value = request
            .body()
            .bytes()
            .and_then(|bytes| serde_json::from_slice(bytes).ok())
            .unwrap_or(Value::Null);
        let items = body["RequestItems"][TABLE].as_array().map_or(0, Vec::len);
        self.calls.lock().unwrap().push(items);
        let (status, answer) = (self.answer)(&body);
        let mut response = HttpResponse::new(
            StatusCode::try_from(status).unwrap(),
            SdkBody::from(answer.to_string()),
        );
        response
            .headers_mut()
            .insert("content-type", "application/x-amz-json-1.0");
        HttpConnectorFuture::ready(Ok(response))
    }
}

/// The log store on a fake DynamoDB, and the item count of each call it received.
fn store_answering(
    answer: impl Fn(&Value) -> (u16, Value) + Send + Sync + 'static,
) -> (DynamoLogStore, Arc<Mutex<Vec<usize>>>) {
    let fake = FakeDynamo {
        answer: Arc::new(answer),
        calls: Arc::default(),
    };
    let calls = fake.calls.clone();
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .endpoint_url("http://dynamodb.test")
        .retry_config(RetryConfig::disabled())
        .http_client(http_client_fn(move |_, _| {
            SharedHttpConnector::new(fake.clone())
        }))
        .build();
    let store = DynamoLogStore::new(Client::from_conf(config), TABLE, Duration::from_secs(86400));
    (store, calls)
}

fn all_processed(_: &Value) -> (u16, Value) {
    (200, json!({"UnprocessedItems": {}}))
}

fn error(code: &str, message: &str) -> (u16, Value) {
    (
        400,
        json!({"__type": format!("com.amazonaws.dynamodb.v20120810#{code}"), "message": message}),
    )
}

/// Whether a request carries an item of this delivery.
fn carries(body: &Value, delivery: &str) -> bool {
    body["RequestItems"][TABLE]
        .as_array()
        .into_iter()
        .flatten()
        .any(|write| write["PutRequest"]["Item"]["delivery_id"]["S"] == delivery)
}

/// Delivery `dlv_{n}`'s attempt with this event data.
fn attempt(n: usize, data: Value) -> LoggedAttempt {
    LoggedAttempt {
        record: DeliveryLogRecord {
            delivery_id: DeliveryId::from_trusted(format!("dlv_{n}")),
            webhook_id: WebhookId::from_trusted("wh_1"),
            event_id: EventId::from_trusted("evt_1"),
            event: "report.publish_status".into(),
            client_id: "acme".into(),
            attempt: 1,
            outcome: Outcome::Succeeded,
            status_code: Some(200),
            elapsed_ms: Some(12),
            error: None,
            response_excerpt: None,
            at: Timestamp::parse("2026-11-28T12:00:05Z").unwrap(),
            next_attempt_at: None,
        },
        occurred_at: Timestamp::parse("2026-11-28T12:00:00Z").unwrap(),
        data,
    }
}

/// `levels` JSON objects, one inside the other.
fn nested(levels: usize) -> Value {
    (0..levels).fold(json!(1), |inner, _| json!({ "a": inner }))
}

fn refusal(result: &Result<(), StoreError>) -> String {
    match result {
        Err(StoreError::Refused(reason)) => reason.clone(),
        other => panic!("not a refusal: {other:?}"),
    }
}

#[tokio::test]
async fn an_item_nested_33_levels_deep_is_refused_before_sending_and_alone() {
    // GIVEN DynamoDB taking every item it is sent
    let (store, calls) = store_answering(all_processed);
    // WHEN an event data 33 levels deep is appended between one 32 deep and a flat one
    let attempts = [
        attempt(1, nested(32)),
        attempt(2, nested(33)),
        attempt(3, json!({"n": 1})),
    ];
    let results = store.append_each(&attempts).await;
    // THEN it alone is refused, saying why
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert_eq!(
        refusal(&results[1]),
        "BatchWriteItem: the log item of delivery dlv_2 attempt 1 is nested 33 levels \
         deep, over DynamoDB's limit of 32"
    );
    assert!(results[2].is_ok(), "{:?}", results[2]);
    // AND it was never sent: one call carried the two others
    assert_eq!(*calls.lock().unwrap(), [2]);
}

#[tokio::test]
async fn an_item_over_400_kb_is_refused_before_sending_and_alone() {
    // GIVEN DynamoDB taking every item it is sent
    let (store, calls) = store_answering(all_processed);
    // WHEN an attempt whose data is 401 KiB is appended with a small one
    let attempts = [
        attempt(1, json!({"blob": "x".repeat(401 * 1024)})),
        attempt(2, json!({"n": 1})),
    ];
    let results = store.append_each(&attempts).await;
    // THEN the big one is refused over the item limit, and the small one is written
    let reason = refusal(&results[0]);
    assert!(
        reason.contains("over DynamoDB's 409600-byte item limit"),
        "{reason}"
    );
    assert!(results[1].is_ok());
    assert_eq!(*calls.lock().unwrap(), [1]);
}

#[tokio::test]
async fn a_validation_exception_refuses_the_items_of_its_chunk_only() {
    // GIVEN DynamoDB refusing, as invalid, any request carrying delivery 3
    let (store, calls) = store_answering(|body| {
        if carries(body, "dlv_3") {
            error(
                "ValidationException",
                "Nesting Levels have exceeded supported limits",
            )
        } else {
            all_processed(body)
        }
    });
    // WHEN 30 attempts are appended (a chunk of 25 with delivery 3, then one of 5)
    let attempts: Vec<_> = (0..30).map(|n| attempt(n, json!({"n": n}))).collect();
    let results = store.append_each(&attempts).await;
    // THEN the first chunk's 25 are refused with DynamoDB's message, the others written
    assert_eq!(*calls.lock().unwrap(), [25, 5]);
    for result in &results[..25] {
        let reason = refusal(result);
        assert!(reason.contains("Nesting Levels have exceeded"), "{reason}");
    }
    assert!(results[25..].iter().all(Result::is_ok), "{results:?}");
}

#[tokio::test]
async fn throttling_fails_its_chunk_for_now_and_is_no_refusal() {
    // GIVEN DynamoDB throttling every request
    let (store, _) = store_answering(|_| {
        error(
            "ProvisionedThroughputExceededException",
            "The level of configured provisioned throughput for the table was exceeded",
        )
    });
    // WHEN two attempts are appended
    let results = store
        .append_each(&[attempt(1, json!({})), attempt(2, json!({}))])
        .await;
    // THEN both fail with a backend error, to be retried
    for result in &results {
        assert!(matches!(result, Err(StoreError::Backend(_))), "{result:?}");
    }
}

#[tokio::test]
async fn only_the_items_left_unprocessed_after_five_tries_fail() {
    // GIVEN DynamoDB that always leaves delivery 2's item unprocessed
    let (store, calls) = store_answering(|body| {
        let left: Vec<&Value> = body["RequestItems"][TABLE]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|write| write["PutRequest"]["Item"]["delivery_id"]["S"] == "dlv_2")
            .collect();
        (200, json!({"UnprocessedItems": {TABLE: left}}))
    });
    // WHEN three attempts are appended
    let attempts: Vec<_> = (1..=3).map(|n| attempt(n, json!({}))).collect();
    let results = store.append_each(&attempts).await;
    // THEN delivery 2 alone fails, as a backend error (for now), after five tries
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    let Err(StoreError::Backend(source)) = &results[1] else {
        panic!("{:?}", results[1]);
    };
    assert!(source
        .to_string()
        .contains("still unprocessed after 5 tries"));
    assert_eq!(*calls.lock().unwrap(), [3, 1, 1, 1, 1]);
}

#[test]
fn a_validation_error_is_a_refusal_and_any_other_is_not() {
    // GIVEN DynamoDB's errors as the SDK reads them
    let with_code = |code: &str| {
        BatchWriteItemError::generic(ErrorMetadata::builder().code(code).message("m").build())
    };
    // WHEN they are mapped, THEN only the validation error is a refusal
    assert!(matches!(
        chunk_failure(with_code("ValidationException")),
        StoreError::Refused(_)
    ));
    for code in [
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ThrottlingException",
    ] {
        assert!(
            matches!(chunk_failure(with_code(code)), StoreError::Backend(_)),
            "{code}"
        );
    }
}
