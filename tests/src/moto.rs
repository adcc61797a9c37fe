//! The AWS emulator (moto) for the tests of the AWS adapters and functions.
//!
//! `scripts/moto.sh run -- cargo test ...` (which `make test` uses) installs moto,
//! starts it on a free loopback port and sets `AWS_ENDPOINT_URL`. Without it these
//! tests fail, saying how to start it: they never pass by skipping.
//!
//! Every test makes its own tables, queues and secret prefix (unique names), so tests
//! run in parallel against one emulator. Clients are built per test: an SDK client
//! belongs to the runtime it first ran on, and each `#[tokio::test]` has its own.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::{Region, SdkConfig};
use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Credentials, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use aws_sdk_sqs::types::{Message, QueueAttributeName};
use webhooks_aws::AwsClients;
use webhooks_core::domain::ids::EventId;

mod tables;

/// The variable that points the SDK at the emulator.
pub const ENDPOINT_VAR: &str = "AWS_ENDPOINT_URL";

const HOW_TO_START: &str = "the AWS adapter tests need the moto emulator. Run them with \
`make test` (it installs and starts moto), or wrap the command: \
`scripts/moto.sh run -- cargo test -p webhooks-tests`, or start moto once with \
`eval \"$(scripts/moto.sh start)\"` (stop it with `scripts/moto.sh stop`). \
scripts/moto.sh needs Python 3 with venv and pip; it installs a pinned moto into .venv.";

/// A connection to the emulator, with clients for every service the adapters use.
pub struct Moto {
    pub endpoint: String,
    pub sdk: SdkConfig,
    pub clients: AwsClients,
}

impl fmt::Debug for Moto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Moto")
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

/// A unique, lowercase name with `tag` in front.
pub fn unique(tag: &str) -> String {
    let id = EventId::generate();
    format!("{tag}-{}", id.as_str()["evt_".len()..].to_lowercase())
}

impl Moto {
    /// Connects to the emulator named by `AWS_ENDPOINT_URL`, with dummy credentials
    /// and region. Panics, saying how to start it, when the variable is unset or
    /// nothing answers there.
    pub async fn connect() -> Self {
        let endpoint = std::env::var(ENDPOINT_VAR)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| panic!("{ENDPOINT_VAR} is not set: {HOW_TO_START}"));
        let sdk = webhooks_aws::sdk::loader()
            .endpoint_url(&endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "moto"))
            .load()
            .await;
        let clients = AwsClients::new(&sdk);
        let probe = tokio::time::timeout(
            Duration::from_secs(10),
            clients.dynamodb.list_tables().limit(1).send(),
        )
        .await;
        match probe {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => panic!(
                "the emulator at {endpoint} did not answer: {}; {HOW_TO_START}",
                aws_sdk_dynamodb::error::DisplayErrorContext(&error)
            ),
            Err(_) => panic!("the emulator at {endpoint} did not answer in 10 s; {HOW_TO_START}"),
        }
        Self {
            endpoint,
            sdk,
            clients,
        }
    }

    /// A new secrets table (`SECRETS_MODE=kms`): partition key `webhook_id`.
    pub async fn create_secrets_table(&self) -> String {
        let name = unique("secrets");
        self.clients
            .dynamodb
            .create_table()
            .table_name(&name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute("webhook_id"))
            .key_schema(key("webhook_id", KeyType::Hash))
            .send()
            .await
            .expect("create the secrets table");
        name
    }

    /// A new symmetric KMS key; returns its ARN.
    pub async fn create_kms_key(&self) -> String {
        self.clients
            .kms
            .create_key()
            .description(unique("webhook-secrets"))
            .send()
            .await
            .expect("create a KMS key")
            .key_metadata
            .expect("key metadata")
            .arn
            .expect("a key ARN")
    }

    /// A new standard queue; returns its URL.
    pub async fn create_queue(&self, tag: &str) -> String {
        self.clients
            .sqs
            .create_queue()
            .queue_name(unique(tag))
            .send()
            .await
            .expect("create a queue")
            .queue_url
            .expect("a queue URL")
    }

    /// A queue's ARN.
    pub async fn queue_arn(&self, queue_url: &str) -> String {
        self.clients
            .sqs
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("the queue's attributes")
            .attributes
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .expect("the queue's ARN")
    }

    /// Sends `body` to a queue and receives it back, hidden for `visibility_seconds`
    /// (not deleted): the message as an event source mapping would hand it over.
    pub async fn send_and_receive(
        &self,
        queue_url: &str,
        body: &str,
        visibility_seconds: i32,
    ) -> Message {
        self.clients
            .sqs
            .send_message()
            .queue_url(queue_url)
            .message_body(body)
            .send()
            .await
            .expect("send a message");
        let received = self
            .clients
            .sqs
            .receive_message()
            .queue_url(queue_url)
            .visibility_timeout(visibility_seconds)
            .send()
            .await
            .expect("receive a message");
        received
            .messages
            .and_then(|m| m.into_iter().next())
            .expect("the message just sent")
    }

    /// A secret prefix no other test uses.
    pub fn secret_prefix(&self) -> String {
        format!("{}/", unique("webhooks"))
    }

    /// Receives and deletes every message visible now (with their attributes),
    /// until a receive comes back empty.
    pub async fn receive_all(&self, queue_url: &str) -> Vec<Message> {
        let mut all = Vec::new();
        loop {
            let received = self.receive(queue_url, 0).await;
            if received.is_empty() {
                return all;
            }
            all.extend(received);
        }
    }

    /// One receive of up to 10 messages, waiting up to `wait_seconds` for the first;
    /// the messages are deleted.
    pub async fn receive(&self, queue_url: &str, wait_seconds: i32) -> Vec<Message> {
        let output = self
            .clients
            .sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait_seconds)
            .message_attribute_names("All")
            .send()
            .await
            .expect("receive messages");
        let messages = output.messages.unwrap_or_default();
        for message in &messages {
            self.clients
                .sqs
                .delete_message()
                .queue_url(queue_url)
                .receipt_handle(message.receipt_handle().expect("a receipt handle"))
                .send()
                .await
                .expect("delete a message");
        }
        messages
    }

    /// A queue's `ApproximateNumberOfMessages` and `...Delayed` (exact on moto).
    pub async fn queue_counts(&self, queue_url: &str) -> (u64, u64) {
        let attributes = self
            .clients
            .sqs
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .expect("queue attributes")
            .attributes
            .unwrap_or_default();
        let count = |name| {
            attributes
                .get(&name)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (
            count(QueueAttributeName::ApproximateNumberOfMessages),
            count(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
        )
    }

    /// Every message the emulator holds in any queue, delayed ones included, read
    /// through moto's own inspection API (`/moto-api/data.json`): the only way to see
    /// a message delayed by 15 minutes without waiting for it. That API reads every
    /// backend's state while other tests change it, and then answers 500 now and
    /// again: it is asked again, up to 20 times 100 ms apart.
    pub async fn held_messages(&self) -> Vec<HeldMessage> {
        let url = format!("{}/moto-api/data.json", self.endpoint.trim_end_matches('/'));
        let mut tries = 0;
        let data: serde_json::Value = loop {
            tries += 1;
            let answer = reqwest::get(&url)
                .await
                .and_then(reqwest::Response::error_for_status);
            match answer {
                Ok(response) => break response.json().await.expect("moto's data as JSON"),
                Err(error) if tries >= 20 => panic!("moto's data API, {tries} times: {error}"),
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            }
        };
        data["sqs"]["Message"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|message| {
                let sent = message["sent_timestamp"].as_f64().unwrap_or(0.0);
                let until = message["delayed_until"].as_f64().unwrap_or(0.0);
                // Moto stamps the two times a moment apart; delays are whole seconds.
                let seconds = ((until - sent) / 1000.0).round();
                HeldMessage {
                    body: message["body"].as_str().unwrap_or_default().to_owned(),
                    delay: (seconds >= 1.0).then(|| Duration::from_secs(seconds as u64)),
                }
            })
            .collect()
    }

    /// A DynamoDB client that also reports its requests to `recorder`.
    pub fn dynamodb_recording<T: Recordable>(
        &self,
        recorder: &Recorder<T>,
    ) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::config::Builder::from(&self.sdk)
            .interceptor(recorder.clone())
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    /// An SQS client that also reports its requests to `recorder`.
    pub fn sqs_recording<T: Recordable>(&self, recorder: &Recorder<T>) -> aws_sdk_sqs::Client {
        let config = aws_sdk_sqs::config::Builder::from(&self.sdk)
            .interceptor(recorder.clone())
            .build();
        aws_sdk_sqs::Client::from_conf(config)
    }
}

/// A message as the emulator holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldMessage {
    pub body: String,
    /// The message's `DelaySeconds`, when it had one.
    pub delay: Option<Duration>,
}

/// What a [`Recorder`] can record: an operation's input type.
pub trait Recordable: Clone + fmt::Debug + Send + Sync + 'static {}

impl<T: Clone + fmt::Debug + Send + Sync + 'static> Recordable for T {}

/// An SDK interceptor that keeps a copy of every request input of type `T` (say,
/// `BatchWriteItemInput`) a client sends: what moto does not check (batch sizes),
/// a test can.
#[derive(Debug)]
pub struct Recorder<T> {
    seen: Arc<Mutex<Vec<T>>>,
}

impl<T> Clone for Recorder<T> {
    fn clone(&self) -> Self {
        Self {
            seen: self.seen.clone(),
        }
    }
}

impl<T> Default for Recorder<T> {
    fn default() -> Self {
        Self {
            seen: Arc::new(Mutex::new(Vec::new())),
        }
    }
}

impl<T: Clone> Recorder<T> {
    pub fn seen(&self) -> Vec<T> {
        self.seen.lock().expect("the recorder's lock").clone()
    }
}

impl<T: Recordable> Intercept for Recorder<T> {
    fn name(&self) -> &'static str {
        "test-recorder"
    }

    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if let Some(input) = context.input().downcast_ref::<T>() {
            self.seen
                .lock()
                .expect("the recorder's lock")
                .push(input.clone());
        }
        Ok(())
    }
}

pub(crate) fn attribute(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("a valid attribute definition")
}

pub(crate) fn key(name: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .expect("a valid key")
}
