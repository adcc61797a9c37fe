//! The SAM template (`infra/template.yaml`) against the code and the repo's docs: the four
//! functions and their crates, the environment each one reads, what each one may do
//! (IAM), the routes, the SQS event sources (partial batch failures, visibility
//! timeouts), the timeouts (`DeliveryTimeoutMs` fits in every function that uses it).
//! The alarms, the dashboard, the delivery function's deployment, the queue policies and
//! the outputs are checked in `infra_operations.rs`, with the helpers of this file.
//!
//! The linters (`scripts/infra-lint.sh`: cfn-lint, `sam validate`, checkov) check the
//! template against AWS; these tests check it against this project.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_yaml::Value;
use webhooks_aws::config::HTTP_API_INTEGRATION_TIMEOUT;
use webhooks_core::config::{ConfigError, Env};

/// One Lambda function: its crate under `functions/`, its resource and role in the
/// template, and the binary SAM builds.
pub(crate) struct Function {
    pub(crate) logical_id: &'static str,
    crate_dir: &'static str,
    binary: &'static str,
    role: &'static str,
    /// The function's own configuration reader (`Config::from_env` of its crate): the
    /// template must set every variable it asks for, and nothing else.
    read_config: fn(&dyn Env) -> Result<(), ConfigError>,
    /// Every (IAM action, resource) its role allows: the resource is a logical id of
    /// the template, `Table/index/name` for an index, or [`SECRETS`].
    grants: &'static [(&'static str, &'static str)],
}

/// The signing secrets under `SECRET_PREFIX`, as a resource of [`Function::grants`].
const SECRETS: &str = "secrets under the stack's secret prefix";

/// Actions without resource-level permissions: the only ones granted on `*`. A
/// batched secret read is checked secret by secret against `GetSecretValue`.
const UNSCOPED: [&str; 3] = [
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "secretsmanager:BatchGetSecretValue",
];

/// Lambda writes a traced invocation's X-Ray segments with the function's role.
const TRACES: [(&str, &str); 2] = [
    ("xray:PutTraceSegments", "*"),
    ("xray:PutTelemetryRecords", "*"),
];

/// Read by every function besides its `Config`: the log filter of `tracing`
/// (`webhooks_lambda::start`). The AWS SDK's own variables (region,
/// credentials) are set by Lambda.
const LOGGING_ENV: &[&str] = &["RUST_LOG"];

fn read_api_config(env: &dyn Env) -> Result<(), ConfigError> {
    webhooks_api::Config::from_env(env).map(drop)
}

fn read_test_connection_config(env: &dyn Env) -> Result<(), ConfigError> {
    webhooks_test_connection::Config::from_env(env).map(drop)
}

fn read_delivery_config(env: &dyn Env) -> Result<(), ConfigError> {
    webhooks_delivery::Config::from_env(env).map(drop)
}

fn read_log_writer_config(env: &dyn Env) -> Result<(), ConfigError> {
    webhooks_log_writer::Config::from_env(env).map(drop)
}

pub(crate) const FUNCTIONS: [Function; 4] = [
    Function {
        logical_id: "ApiFunction",
        crate_dir: "api",
        binary: "webhooks-api",
        role: "ApiRole",
        read_config: read_api_config,
        grants: &[
            ("logs:CreateLogStream", "ApiLogGroup"),
            ("logs:PutLogEvents", "ApiLogGroup"),
            ("dynamodb:GetItem", "WebhooksTable"),
            ("dynamodb:PutItem", "WebhooksTable"),
            ("dynamodb:DeleteItem", "WebhooksTable"),
            ("dynamodb:ConditionCheckItem", "WebhooksTable"),
            ("dynamodb:Scan", "WebhooksTable"),
            ("dynamodb:Query", "WebhooksTable/index/by_event"),
            ("dynamodb:Query", "WebhooksTable/index/by_subscription"),
            ("dynamodb:Query", "DeliveryLogsTable"),
            ("sqs:SendMessage", "RetryQueue"),
            ("secretsmanager:GetSecretValue", SECRETS),
            ("secretsmanager:DescribeSecret", SECRETS),
            ("secretsmanager:CreateSecret", SECRETS),
            ("secretsmanager:TagResource", SECRETS),
            ("secretsmanager:PutSecretValue", SECRETS),
            ("secretsmanager:RestoreSecret", SECRETS),
            ("secretsmanager:DeleteSecret", SECRETS),
            // SecretsMode=kms
            ("kms:GenerateDataKey", "SecretsKey"),
            ("kms:Decrypt", "SecretsKey"),
            ("dynamodb:GetItem", "SecretsTable"),
            ("dynamodb:PutItem", "SecretsTable"),
            ("dynamodb:DeleteItem", "SecretsTable"),
        ],
    },
    Function {
        logical_id: "TestConnectionFunction",
        crate_dir: "test-connection",
        binary: "webhooks-test-connection",
        role: "TestConnectionRole",
        read_config: read_test_connection_config,
        grants: &[
            ("logs:CreateLogStream", "TestConnectionLogGroup"),
            ("logs:PutLogEvents", "TestConnectionLogGroup"),
            ("dynamodb:GetItem", "WebhooksTable"),
            ("secretsmanager:GetSecretValue", SECRETS),
            ("secretsmanager:DescribeSecret", SECRETS),
            // SecretsMode=kms
            ("kms:Decrypt", "SecretsKey"),
            ("dynamodb:GetItem", "SecretsTable"),
        ],
    },
    Function {
        logical_id: "DeliveryFunction",
        crate_dir: "delivery",
        binary: "webhooks-delivery",
        role: "DeliveryRole",
        read_config: read_delivery_config,
        grants: &[
            ("logs:CreateLogStream", "DeliveryLogGroup"),
            ("logs:PutLogEvents", "DeliveryLogGroup"),
            ("dynamodb:GetItem", "WebhooksTable"),
            ("dynamodb:UpdateItem", "WebhooksTable"),
            ("dynamodb:PutItem", "WebhooksTable"),
            ("dynamodb:DeleteItem", "WebhooksTable"),
            ("dynamodb:Query", "WebhooksTable/index/by_event"),
            ("dynamodb:Query", "WebhooksTable/index/by_subscription"),
            ("secretsmanager:GetSecretValue", SECRETS),
            ("secretsmanager:DescribeSecret", SECRETS),
            ("secretsmanager:BatchGetSecretValue", "*"),
            // SecretsMode=kms
            ("kms:Decrypt", "SecretsKey"),
            ("dynamodb:GetItem", "SecretsTable"),
            ("sqs:SendMessage", "RetryQueue"),
            ("sqs:SendMessage", "LogsQueue"),
            ("sqs:SendMessage", "EventsDeadLetterQueue"),
            ("sqs:ReceiveMessage", "EventsQueue"),
            ("sqs:DeleteMessage", "EventsQueue"),
            ("sqs:GetQueueAttributes", "EventsQueue"),
            ("sqs:ReceiveMessage", "RetryQueue"),
            ("sqs:DeleteMessage", "RetryQueue"),
            ("sqs:GetQueueAttributes", "RetryQueue"),
            ("sqs:ChangeMessageVisibility", "EventsQueue"),
            ("sqs:GetQueueUrl", "EventsQueue"),
            ("sqs:ChangeMessageVisibility", "RetryQueue"),
            ("sqs:GetQueueUrl", "RetryQueue"),
        ],
    },
    Function {
        logical_id: "LogWriterFunction",
        crate_dir: "log-writer",
        binary: "webhooks-log-writer",
        role: "LogWriterRole",
        read_config: read_log_writer_config,
        grants: &[
            ("logs:CreateLogStream", "LogWriterLogGroup"),
            ("logs:PutLogEvents", "LogWriterLogGroup"),
            ("dynamodb:BatchWriteItem", "DeliveryLogsTable"),
            ("dynamodb:UpdateItem", "DeliveryLogsTable"),
            ("sqs:SendMessage", "LogsDeadLetterQueue"),
            ("sqs:ReceiveMessage", "LogsQueue"),
            ("sqs:DeleteMessage", "LogsQueue"),
            ("sqs:GetQueueAttributes", "LogsQueue"),
        ],
    },
];

/// A function's own `Timeout`, as the function reads it: a literal beside the
/// `Timeout` it repeats, the one variable set from no `!Ref`.
const FUNCTION_TIMEOUT: &str = "FUNCTION_TIMEOUT_SECONDS";

/// What each environment variable but [`FUNCTION_TIMEOUT`] must be set from (`!Ref` of
/// a resource or a parameter): the same name always means the same thing.
const ENV_SOURCES: [(&str, &str); 16] = [
    ("WEBHOOKS_TABLE", "WebhooksTable"),
    ("DELIVERY_LOGS_TABLE", "DeliveryLogsTable"),
    ("RETRY_QUEUE_URL", "RetryQueue"),
    ("LOGS_QUEUE_URL", "LogsQueue"),
    ("EVENTS_DLQ_URL", "EventsDeadLetterQueue"),
    ("LOGS_DLQ_URL", "LogsDeadLetterQueue"),
    ("SECRET_PREFIX", "SecretPrefix"),
    ("DELIVERY_TIMEOUT_MS", "DeliveryTimeoutMs"),
    ("MAX_IN_FLIGHT_PER_WEBHOOK", "MaxInFlightPerWebhook"),
    ("WEBHOOKS_ALLOW_NETS", "AllowedNetworks"),
    ("WEBHOOKS_REQUIRE_HTTPS", "RequireHttps"),
    ("LOG_RETENTION_DAYS", "LogRetentionDays"),
    ("RUST_LOG", "LogLevel"),
    ("METRICS_STACK", "AWS::StackName"),
    ("SECRETS_STACK_TAG", "AWS::StackName"),
    ("SECRETS_MODE", "SecretsMode"),
];

/// The HTTP API of docs/api.md on API Gateway: the two `/test` routes go to the
/// test-connection function, every other one to the api function; no `/events`.
const ROUTES: [(&str, &str); 14] = [
    ("GET /event-types", "ApiFunction"),
    ("POST /webhooks", "ApiFunction"),
    ("GET /webhooks", "ApiFunction"),
    ("GET /webhooks/{id}", "ApiFunction"),
    ("PATCH /webhooks/{id}", "ApiFunction"),
    ("DELETE /webhooks/{id}", "ApiFunction"),
    ("POST /webhooks/test", "TestConnectionFunction"),
    ("POST /webhooks/{id}/test", "TestConnectionFunction"),
    ("GET /webhooks/{id}/logs", "ApiFunction"),
    ("GET /webhooks/{id}/logs/{delivery_id}", "ApiFunction"),
    (
        "POST /webhooks/{id}/logs/{delivery_id}/redeliver",
        "ApiFunction",
    ),
    ("POST /webhooks/{id}/recover", "ApiFunction"),
    ("GET /webhooks/{id}/stats", "ApiFunction"),
    ("GET /openapi.json", "ApiFunction"),
];

/// Which function consumes which queue (docs/storage.md).
const CONSUMERS: [(&str, &str); 3] = [
    ("DeliveryFunction", "EventsQueue"),
    ("DeliveryFunction", "RetryQueue"),
    ("LogWriterFunction", "LogsQueue"),
];

// --- reading the template -----------------------------------------------------------

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub(crate) struct Template {
    pub(crate) doc: Value,
}

impl Template {
    pub(crate) fn load() -> Self {
        let path = repo_root().join("infra/template.yaml");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let doc = serde_yaml::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()));
        Self { doc }
    }

    pub(crate) fn resources(&self) -> Vec<(&str, &Value)> {
        self.doc["Resources"]
            .as_mapping()
            .expect("the template has Resources")
            .iter()
            .map(|(id, resource)| (id.as_str().expect("a logical id is a string"), resource))
            .collect()
    }

    pub(crate) fn resource(&self, id: &str) -> &Value {
        let resource = &self.doc["Resources"][id];
        assert!(!resource.is_null(), "the template has no resource {id}");
        resource
    }

    pub(crate) fn of_type(&self, kind: &str) -> Vec<(&str, &Value)> {
        self.resources()
            .into_iter()
            .filter(|(_, r)| r["Type"].as_str() == Some(kind))
            .collect()
    }

    /// A function's property, or the `Globals` one when it sets none.
    fn function_property(&self, id: &str, key: &str) -> Option<&Value> {
        let own = &self.resource(id)["Properties"][key];
        let global = &self.doc["Globals"]["Function"][key];
        [own, global].into_iter().find(|v| !v.is_null())
    }

    /// A number, or a `!Ref` to a parameter with a numeric default.
    fn number(&self, value: &Value) -> u64 {
        if let Some(n) = value.as_u64() {
            return n;
        }
        if let Some(name) = ref_of(value) {
            let default = &self.doc["Parameters"][name]["Default"];
            if let Some(n) = default.as_u64().or_else(|| default.as_str()?.parse().ok()) {
                return n;
            }
        }
        panic!("not a number nor a parameter with a numeric default: {value:?}")
    }
}

/// An intrinsic function, short (`!GetAtt x`) or long (`Fn::GetAtt: x`, `Ref: x`)
/// form: its name without `Fn::` and its argument.
pub(crate) fn intrinsic(value: &Value) -> Option<(String, &Value)> {
    match value {
        Value::Tagged(tagged) => Some((
            tagged.tag.to_string().trim_start_matches('!').to_owned(),
            &tagged.value,
        )),
        Value::Mapping(map) if map.len() == 1 => {
            let (key, argument) = map.iter().next()?;
            let key = key.as_str()?;
            let name = if key == "Ref" {
                key
            } else {
                key.strip_prefix("Fn::")?
            };
            Some((name.to_owned(), argument))
        }
        _ => None,
    }
}

pub(crate) fn ref_of(value: &Value) -> Option<&str> {
    match intrinsic(value)? {
        (name, argument) if name == "Ref" => argument.as_str(),
        _ => None,
    }
}

/// `!GetAtt Resource.Attribute` as (resource, attribute).
pub(crate) fn get_att(value: &Value) -> Option<(String, String)> {
    let (name, argument) = intrinsic(value)?;
    if name != "GetAtt" {
        return None;
    }
    match argument {
        Value::String(s) => {
            let (resource, attribute) = s.split_once('.')?;
            Some((resource.to_owned(), attribute.to_owned()))
        }
        Value::Sequence(parts) => Some((
            parts.first()?.as_str()?.to_owned(),
            parts.get(1)?.as_str()?.to_owned(),
        )),
        _ => None,
    }
}

/// The string of a `!Sub` (either form).
pub(crate) fn sub_of(value: &Value) -> Option<&str> {
    match intrinsic(value)? {
        (name, Value::String(s)) if name == "Sub" => Some(s),
        (name, Value::Sequence(parts)) if name == "Sub" => parts.first()?.as_str(),
        _ => None,
    }
}

/// What a secret prefix value is: `!If [HasSecretPrefix, !Ref SecretPrefix, !Sub
/// "${AWS::StackName}/"]` reads "the parameter, else the stack's name".
fn secret_prefix_of(value: &Value) -> &'static str {
    let Some((name, arguments)) = intrinsic(value) else {
        return "not an !If";
    };
    let arguments = arguments
        .as_sequence()
        .map(Vec::as_slice)
        .unwrap_or_default();
    match (name.as_str(), arguments) {
        ("If", [condition, given, fallback])
            if condition.as_str() == Some("HasSecretPrefix")
                && ref_of(given) == Some("SecretPrefix")
                && sub_of(fallback) == Some("${AWS::StackName}/") =>
        {
            "the parameter, else the stack's name"
        }
        _ => "another !If",
    }
}

/// What a secrets statement's condition asks for.
fn secret_condition_of(condition: &Value) -> &'static str {
    let stack = |value: &Value| ref_of(value) == Some("AWS::StackName");
    let if_exists = &condition["StringEqualsIfExists"]["secretsmanager:ResourceTag/webhooks:stack"];
    let request = &condition["StringEquals"]["aws:RequestTag/webhooks:stack"];
    let keys = &condition["ForAllValues:StringEquals"]["aws:TagKeys"];
    let only_stack_key = one_or_many(keys)
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        == [Some("webhooks:stack")];
    match condition.as_mapping().map(|m| m.len()) {
        Some(1) if stack(if_exists) => "not tagged for another stack",
        Some(2) if stack(request) && only_stack_key => "created with the stack's tag only",
        _ => "another condition",
    }
}

/// A KMS statement's condition: the encryption context names this stack and a webhook.
fn kms_condition_of(condition: &Value) -> &'static str {
    let stack = ref_of(&condition["StringEquals"]["kms:EncryptionContext:stack"]);
    let webhook = condition["StringLike"]["kms:EncryptionContext:webhook_id"].as_str();
    match condition.as_mapping().map(|m| m.len()) {
        Some(2) if stack == Some("AWS::StackName") && webhook == Some("wh_*") => {
            "this stack's webhooks only"
        }
        _ => "another condition",
    }
}

/// The value of `!If [UseKmsSecrets, value, !Ref AWS::NoValue]`: what only
/// `SecretsMode=kms` sets.
fn kms_only(value: &Value) -> Option<&Value> {
    only_in(value, "UseKmsSecrets")
}

/// The value of `!If [condition, value, !Ref AWS::NoValue]`.
fn only_in<'a>(value: &'a Value, condition: &str) -> Option<&'a Value> {
    let (name, arguments) = intrinsic(value)?;
    let arguments = arguments.as_sequence()?;
    (name == "If"
        && arguments.len() == 3
        && arguments[0].as_str() == Some(condition)
        && ref_of(&arguments[2]) == Some("AWS::NoValue"))
    .then(|| &arguments[1])
}

/// The logical id of a resource ARN (`!GetAtt X.Arn`).
pub(crate) fn arn_of(value: &Value) -> Option<String> {
    match get_att(value)? {
        (resource, attribute) if attribute == "Arn" => Some(resource),
        _ => None,
    }
}

/// A policy statement's resource in the words of [`Function::grants`].
fn grant_resource(value: &Value) -> String {
    if value.as_str() == Some("*") {
        return "*".to_owned();
    }
    if let Some(resource) = arn_of(value) {
        return resource;
    }
    if let Some(sub) = sub_of(value) {
        let secrets = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${Prefix}*";
        if sub == secrets {
            assert_eq!(
                secret_prefix_of(&intrinsic(value).unwrap().1.as_sequence().unwrap()[1]["Prefix"]),
                "the parameter, else the stack's name",
                "{value:?}"
            );
            return SECRETS.to_owned();
        }
        if let Some(rest) = sub.strip_prefix("${") {
            if let Some((inner, tail)) = rest.split_once('}') {
                if let Some(resource) = inner.strip_suffix(".Arn") {
                    return format!("{resource}{tail}");
                }
            }
        }
    }
    panic!("a policy resource this test does not know how to read: {value:?}")
}

/// One value or a list of them, as a list.
pub(crate) fn one_or_many(value: &Value) -> Vec<&Value> {
    match value {
        Value::Sequence(items) => items.iter().collect(),
        other => vec![other],
    }
}

fn function(logical_id: &str) -> &'static Function {
    FUNCTIONS
        .iter()
        .find(|f| f.logical_id == logical_id)
        .unwrap_or_else(|| panic!("{logical_id} is not one of the four functions"))
}

/// An SQS event source: from a function's `Events` (`Type: SQS`) or an
/// `AWS::Lambda::EventSourceMapping`.
pub(crate) struct EventSource<'a> {
    pub(crate) function: String,
    /// The mapping invokes the function's `AutoPublishAlias` (`!Ref F.Alias`).
    pub(crate) alias: bool,
    pub(crate) queue: String,
    properties: &'a Value,
}

pub(crate) fn event_sources(template: &Template) -> Vec<EventSource<'_>> {
    let mut sources = Vec::new();
    for (id, resource) in template.of_type("AWS::Serverless::Function") {
        let Some(events) = resource["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for (name, event) in events {
            if event["Type"].as_str() == Some("SQS") {
                let properties = &event["Properties"];
                let queue = arn_of(&properties["Queue"])
                    .unwrap_or_else(|| panic!("{id} event {name:?}: Queue is not !GetAtt X.Arn"));
                sources.push(EventSource {
                    function: id.to_owned(),
                    alias: false,
                    queue,
                    properties,
                });
            }
        }
    }
    for (id, resource) in template.of_type("AWS::Lambda::EventSourceMapping") {
        let properties = &resource["Properties"];
        let named = ref_of(&properties["FunctionName"])
            .map(str::to_owned)
            .or_else(|| arn_of(&properties["FunctionName"]))
            .unwrap_or_else(|| panic!("{id}: FunctionName is not a function of the template"));
        let (function, alias) = match named.strip_suffix(".Alias") {
            Some(function) => (function.to_owned(), true),
            None => (named, false),
        };
        let queue = arn_of(&properties["EventSourceArn"])
            .unwrap_or_else(|| panic!("{id}: EventSourceArn is not !GetAtt X.Arn"));
        sources.push(EventSource {
            function,
            alias,
            queue,
            properties,
        });
    }
    sources
}

/// Queues named as some queue's `RedrivePolicy.deadLetterTargetArn`, by source queue.
pub(crate) fn dead_letter_queues(template: &Template) -> BTreeMap<String, String> {
    template
        .of_type("AWS::SQS::Queue")
        .into_iter()
        .filter_map(|(id, queue)| {
            let target = &queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"];
            (!target.is_null()).then(|| {
                let dlq = arn_of(target)
                    .unwrap_or_else(|| panic!("{id}: deadLetterTargetArn is not !GetAtt X.Arn"));
                (id.to_owned(), dlq)
            })
        })
        .collect()
}

// --- the functions and their crates ---------------------------------------------------

#[test]
fn the_template_has_exactly_the_four_functions_built_from_their_crates() {
    let template = Template::load();
    let found: BTreeSet<&str> = template
        .of_type("AWS::Serverless::Function")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let expected: BTreeSet<&str> = FUNCTIONS.iter().map(|f| f.logical_id).collect();
    assert_eq!(found, expected, "the template's functions");
    assert!(
        template.of_type("AWS::Lambda::Function").is_empty(),
        "every function is an AWS::Serverless::Function built by SAM"
    );

    for f in &FUNCTIONS {
        let resource = template.resource(f.logical_id);
        let id = f.logical_id;
        assert_eq!(
            resource["Properties"]["CodeUri"].as_str(),
            Some(format!("../functions/{}", f.crate_dir).as_str()),
            "{id}: CodeUri"
        );
        assert_eq!(
            resource["Metadata"]["BuildMethod"].as_str(),
            Some("rust-cargolambda"),
            "{id}: Metadata.BuildMethod"
        );
        assert_eq!(
            resource["Metadata"]["BuildProperties"]["Binary"].as_str(),
            Some(f.binary),
            "{id}: Metadata.BuildProperties.Binary"
        );
        let property = |key| template.function_property(id, key).and_then(Value::as_str);
        assert_eq!(
            property("Runtime"),
            Some("provided.al2023"),
            "{id}: Runtime"
        );
        assert_eq!(property("Handler"), Some("bootstrap"), "{id}: Handler");
        let logging = &resource["Properties"]["LoggingConfig"];
        assert_eq!(
            logging["LogFormat"].as_str(),
            Some("JSON"),
            "{id}: JSON logs"
        );
        let log_group = ref_of(&logging["LogGroup"])
            .unwrap_or_else(|| panic!("{id}: LoggingConfig.LogGroup is not !Ref of a log group"));
        assert!(
            !template.resource(log_group)["Properties"]["RetentionInDays"].is_null(),
            "{id}: its log group {log_group} has a retention"
        );
    }
}

#[test]
fn every_function_crate_has_exactly_one_function_resource() {
    let template = Template::load();
    let dir = repo_root().join("functions");
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; the template deploys the Lambda crates of functions/, which must exist",
            dir.display()
        )
    });
    let crates: BTreeSet<String> = entries
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.join("Cargo.toml").is_file())
        .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let expected: BTreeSet<String> = FUNCTIONS.iter().map(|f| f.crate_dir.to_owned()).collect();
    assert_eq!(crates, expected, "the crates under functions/");

    for crate_dir in &crates {
        let code_uri = format!("../functions/{crate_dir}");
        let deploying: Vec<&str> = template
            .of_type("AWS::Serverless::Function")
            .into_iter()
            .filter(|(_, r)| r["Properties"]["CodeUri"].as_str() == Some(code_uri.as_str()))
            .map(|(id, _)| id)
            .collect();
        assert_eq!(
            deploying.len(),
            1,
            "functions/{crate_dir} is deployed by exactly one function, not {deploying:?}"
        );
        let spec = function(deploying[0]);
        let manifest = dir.join(crate_dir).join("Cargo.toml");
        let manifest = std::fs::read_to_string(&manifest)
            .unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
        assert_eq!(
            package_name(&manifest).as_deref(),
            Some(spec.binary),
            "functions/{crate_dir}: the package (and so its binary) SAM builds"
        );
    }
}

/// `[package] name = "..."` of a Cargo manifest.
fn package_name(manifest: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package {
            if let Some(value) = line.strip_prefix("name") {
                let value = value.trim_start().strip_prefix('=')?.trim();
                return Some(value.trim_matches('"').to_owned());
            }
        }
    }
    None
}

#[test]
fn each_function_gets_exactly_the_environment_it_reads() {
    let template = Template::load();
    assert!(
        template.doc["Globals"]["Function"]["Environment"].is_null(),
        "no environment in Globals: each function lists its own"
    );
    let sources: BTreeMap<&str, &str> = ENV_SOURCES.into_iter().collect();
    for f in &FUNCTIONS {
        let variables = template.resource(f.logical_id)["Properties"]["Environment"]["Variables"]
            .as_mapping()
            .unwrap_or_else(|| panic!("{}: no Environment.Variables", f.logical_id));
        let set: BTreeSet<&str> = variables.keys().filter_map(Value::as_str).collect();
        let read = variables_read(f.read_config);
        let expected: BTreeSet<&str> = read
            .iter()
            .map(String::as_str)
            .chain(LOGGING_ENV.iter().copied())
            .collect();
        assert_eq!(set, expected, "{}: environment variables", f.logical_id);
        for (name, value) in variables {
            let name = name.as_str().unwrap();
            if name == FUNCTION_TIMEOUT {
                // Its value: each_function_timeout_variable_is_its_functions_timeout.
                continue;
            }
            if name == "SECRETS_KMS_KEY_ID" || name == "SECRETS_TABLE" {
                assert_eq!(
                    kms_only(value)
                        .and_then(|v| ref_of(v).map(str::to_owned).or_else(|| arn_of(v))),
                    Some(
                        if name == "SECRETS_TABLE" {
                            "SecretsTable"
                        } else {
                            "SecretsKey"
                        }
                        .to_owned()
                    ),
                    "{}: {name} is set in SecretsMode=kms only",
                    f.logical_id
                );
                continue;
            }
            if name == "SECRET_PREFIX" {
                assert_eq!(
                    secret_prefix_of(value),
                    "the parameter, else the stack's name",
                    "{}: SECRET_PREFIX",
                    f.logical_id
                );
                continue;
            }
            assert_eq!(
                ref_of(value),
                Some(sources[name]),
                "{}: {name} comes from !Ref {}",
                f.logical_id,
                sources[name]
            );
        }
    }
}

/// Every variable `read_config` asks for. Each required one is answered with a valid
/// value (a table name, a queue URL), so that the reader goes on to ask for the rest;
/// optional ones are left unset, which it accepts.
fn variables_read(read_config: fn(&dyn Env) -> Result<(), ConfigError>) -> BTreeSet<String> {
    let mut asked = variables_read_in(read_config, None);
    asked.extend(variables_read_in(read_config, Some("kms")));
    asked
}

/// [`variables_read`] with `SECRETS_MODE` = `mode`.
fn variables_read_in(
    read_config: fn(&dyn Env) -> Result<(), ConfigError>,
    mode: Option<&str>,
) -> BTreeSet<String> {
    let asked = RefCell::new(BTreeSet::new());
    let env = |name: &str| {
        asked.borrow_mut().insert(name.to_owned());
        if name == "SECRETS_MODE" {
            mode.map(str::to_owned)
        } else if name == "SECRETS_KMS_KEY_ID" {
            Some("arn:aws:kms:eu-west-1:123456789012:key/k".to_owned())
        } else if name.ends_with("_TABLE") {
            Some("webhooks-table".to_owned())
        } else if name == "METRICS_STACK" {
            Some("webhooks".to_owned())
        } else if name.ends_with("_URL") {
            Some("https://sqs.eu-west-1.amazonaws.com/123456789012/queue".to_owned())
        } else {
            None
        }
    };
    read_config(&env).unwrap_or_else(|e| panic!("the config reader refused {e}"));
    asked.into_inner()
}

// --- timeouts ----------------------------------------------------------------------

/// A function's `Timeout` in seconds (Lambda's default, 3, when unset).
fn timeout_of(template: &Template, function: &str) -> u64 {
    template
        .function_property(function, "Timeout")
        .map_or(3, |v| template.number(v))
}

/// A function's environment variable as the template writes it (a string or a
/// number), or `None` when it is unset or set from an intrinsic.
fn literal_variable(template: &Template, function: &str, name: &str) -> Option<String> {
    match &template.resource(function)["Properties"]["Environment"]["Variables"][name] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The functions the template gives `DELIVERY_TIMEOUT_MS`.
fn functions_with_a_delivery_timeout(template: &Template) -> Vec<&'static Function> {
    FUNCTIONS
        .iter()
        .filter(|f| {
            !template.resource(f.logical_id)["Properties"]["Environment"]["Variables"]
                ["DELIVERY_TIMEOUT_MS"]
                .is_null()
        })
        .collect()
}

/// `f`'s configuration reader on a valid environment (as in [`variables_read`]) with
/// `DELIVERY_TIMEOUT_MS` = `delivery_ms` and `FUNCTION_TIMEOUT_SECONDS` = its template
/// `Timeout`.
fn read_with_timeouts(
    template: &Template,
    f: &Function,
    delivery_ms: u64,
) -> Result<(), ConfigError> {
    let function_seconds = timeout_of(template, f.logical_id).to_string();
    let delivery_ms = delivery_ms.to_string();
    let env = |name: &str| match name {
        "DELIVERY_TIMEOUT_MS" => Some(delivery_ms.clone()),
        FUNCTION_TIMEOUT => Some(function_seconds.clone()),
        _ if name.ends_with("_TABLE") => Some("webhooks-table".to_owned()),
        "METRICS_STACK" => Some("webhooks".to_owned()),
        _ if name.ends_with("_URL") => {
            Some("https://sqs.eu-west-1.amazonaws.com/123456789012/queue".to_owned())
        }
        _ => None,
    };
    (f.read_config)(&env)
}

#[test]
fn given_the_functions_that_send_requests_when_read_then_each_is_told_its_own_timeout() {
    let template = Template::load();
    let sending = functions_with_a_delivery_timeout(&template);
    let ids: BTreeSet<&str> = sending.iter().map(|f| f.logical_id).collect();
    assert_eq!(
        ids,
        BTreeSet::from(["DeliveryFunction", "TestConnectionFunction"]),
        "the functions that read DELIVERY_TIMEOUT_MS"
    );
    for f in &FUNCTIONS {
        let id = f.logical_id;
        let told = literal_variable(&template, id, FUNCTION_TIMEOUT);
        if ids.contains(id) {
            assert_eq!(
                told.as_deref().and_then(|v| v.trim().parse::<u64>().ok()),
                Some(timeout_of(&template, id)),
                "{id}: {FUNCTION_TIMEOUT} is a literal equal to its Timeout"
            );
        } else {
            assert_eq!(
                told, None,
                "{id}: no {FUNCTION_TIMEOUT} without DELIVERY_TIMEOUT_MS"
            );
        }
    }
}

#[test]
fn given_the_delivery_timeout_range_when_each_function_reads_it_then_exactly_that_range_fits() {
    let template = Template::load();
    let parameter = &template.doc["Parameters"]["DeliveryTimeoutMs"];
    let [min, default, max] = ["MinValue", "Default", "MaxValue"].map(|key| {
        parameter[key]
            .as_u64()
            .unwrap_or_else(|| panic!("DeliveryTimeoutMs has a numeric {key}"))
    });
    for f in functions_with_a_delivery_timeout(&template) {
        for (what, ms) in [("MinValue", min), ("Default", default), ("MaxValue", max)] {
            read_with_timeouts(&template, f, ms).unwrap_or_else(|e| {
                panic!(
                    "{}: DeliveryTimeoutMs's {what} {ms} does not fit its Timeout {} s: {e}",
                    f.logical_id,
                    timeout_of(&template, f.logical_id)
                )
            });
        }
    }
    // The range is as wide as fits: one millisecond more is refused by some function.
    let refusals: Vec<ConfigError> = functions_with_a_delivery_timeout(&template)
        .into_iter()
        .filter_map(|f| read_with_timeouts(&template, f, max + 1).err())
        .collect();
    assert!(
        !refusals.is_empty(),
        "DeliveryTimeoutMs's MaxValue {max} could be higher: every function accepts {}",
        max + 1
    );
    for refusal in refusals {
        assert_eq!(refusal.name, "DELIVERY_TIMEOUT_MS", "{refusal}");
    }
}

#[test]
fn given_the_http_api_when_its_integrations_are_read_then_each_function_answers_within_them() {
    let template = Template::load();
    let limit_ms = u64::try_from(HTTP_API_INTEGRATION_TIMEOUT.as_millis()).unwrap();
    let integrations = template.of_type("AWS::ApiGatewayV2::Integration");
    assert!(!integrations.is_empty(), "the HTTP API has integrations");
    for (id, integration) in integrations {
        let properties = &integration["Properties"];
        let function = arn_of(&properties["IntegrationUri"])
            .unwrap_or_else(|| panic!("{id}: IntegrationUri is not !GetAtt F.Arn"));
        // What the functions assume (TimeoutUse::ConnectionTest) is what API Gateway does.
        let waits = template.number(&properties["TimeoutInMillis"]);
        assert_eq!(
            waits, limit_ms,
            "{id}: TimeoutInMillis is the HTTP API's limit, HTTP_API_INTEGRATION_TIMEOUT"
        );
        let timeout = timeout_of(&template, &function);
        assert!(
            timeout * 1000 <= waits,
            "{function}: Timeout {timeout} s is longer than {id} waits ({waits} ms)"
        );
    }
}

// --- what each function may do ------------------------------------------------------

#[test]
fn each_function_role_allows_exactly_the_calls_its_code_makes() {
    let template = Template::load();
    let mut roles_in_use = BTreeSet::new();
    for f in &FUNCTIONS {
        let role = template
            .function_property(f.logical_id, "Role")
            .and_then(arn_of)
            .unwrap_or_else(|| panic!("{}: Role is not !GetAtt <role>.Arn", f.logical_id));
        assert_eq!(role, f.role, "{}: its role", f.logical_id);
        assert!(
            roles_in_use.insert(role.clone()),
            "{role} serves one function only"
        );
        assert!(
            template.resource(f.logical_id)["Properties"]["Policies"].is_null(),
            "{}: no SAM Policies next to its own role",
            f.logical_id
        );

        let properties = &template.resource(&role)["Properties"];
        for absent in ["ManagedPolicyArns", "PermissionsBoundary"] {
            assert!(properties[absent].is_null(), "{role}: no {absent}");
        }
        let trust = &properties["AssumeRolePolicyDocument"]["Statement"];
        assert_eq!(
            trust[0]["Principal"]["Service"].as_str(),
            Some("lambda.amazonaws.com"),
            "{role}: assumed by Lambda"
        );
        let policies = properties["Policies"]
            .as_sequence()
            .expect("inline policies");
        assert_eq!(policies.len(), 1, "{role}: one inline policy");

        let mut granted = BTreeSet::new();
        for statement in one_or_many(&policies[0]["PolicyDocument"]["Statement"]) {
            // Secrets Manager's statements in that mode only, KMS's in kms mode only.
            let statement = kms_only(statement)
                .or_else(|| only_in(statement, "UseSecretsManager"))
                .unwrap_or(statement);
            assert_eq!(
                statement["Effect"].as_str(),
                Some("Allow"),
                "{role}: {statement:?}"
            );
            // Conditions only on the secrets, and only the stack's tag.
            let condition = &statement["Condition"];
            let kms = one_or_many(&statement["Action"])
                .iter()
                .any(|a| a.as_str().is_some_and(|a| a.starts_with("kms:")));
            if kms {
                assert_eq!(
                    kms_condition_of(condition),
                    "this stack's webhooks only",
                    "{role}: {statement:?}"
                );
            } else if !condition.is_null() {
                assert_eq!(
                    secret_condition_of(condition),
                    if one_or_many(&statement["Action"])
                        .iter()
                        .any(|a| a.as_str() == Some("secretsmanager:CreateSecret"))
                    {
                        "created with the stack's tag only"
                    } else {
                        "not tagged for another stack"
                    },
                    "{role}: {statement:?}"
                );
            }
            for action in one_or_many(&statement["Action"]) {
                let action = action.as_str().expect("an action is a string");
                assert!(!action.contains('*'), "{role}: wildcard action {action}");
                for resource in one_or_many(&statement["Resource"]) {
                    if !UNSCOPED.contains(&action) {
                        assert_ne!(resource.as_str(), Some("*"), "{role}: {action} on *");
                    }
                    granted.insert((action.to_owned(), grant_resource(resource)));
                }
            }
        }
        let expected: BTreeSet<(String, String)> = f
            .grants
            .iter()
            .chain(TRACES.iter())
            .map(|(action, resource)| (action.to_string(), resource.to_string()))
            .collect();
        assert_eq!(granted, expected, "{role}: (action, resource) pairs");
    }
    let roles: BTreeSet<String> = template
        .of_type("AWS::IAM::Role")
        .into_iter()
        .map(|(id, _)| id.to_owned())
        .collect();
    assert_eq!(roles, roles_in_use, "every role belongs to one function");
}

// --- the HTTP API -------------------------------------------------------------------

#[test]
fn the_routes_are_designs_and_none_is_open() {
    let template = Template::load();
    let mut routes = BTreeMap::new();
    for (id, route) in template.of_type("AWS::ApiGatewayV2::Route") {
        let properties = &route["Properties"];
        let key = properties["RouteKey"]
            .as_str()
            .expect("a RouteKey")
            .to_owned();
        let target = sub_of(&properties["Target"])
            .and_then(|t| t.strip_prefix("integrations/${"))
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or_else(|| panic!("{id}: Target is not !Sub integrations/${{X}}"));
        let integration = &template.resource(target)["Properties"];
        assert_eq!(
            integration["IntegrationType"].as_str(),
            Some("AWS_PROXY"),
            "{id}"
        );
        assert_eq!(
            integration["PayloadFormatVersion"].as_str(),
            Some("2.0"),
            "{id}: the functions read API Gateway's payload v2"
        );
        let function = arn_of(&integration["IntegrationUri"])
            .unwrap_or_else(|| panic!("{target}: IntegrationUri is not !GetAtt F.Arn"));

        // AWS_IAM, or JWT when the template's JwtIssuer is set: never NONE.
        let authorization = &properties["AuthorizationType"];
        let kinds: Vec<&str> = match intrinsic(authorization) {
            Some((name, arguments)) if name == "If" => arguments.as_sequence().unwrap()[1..]
                .iter()
                .map(|v| v.as_str().unwrap_or("?"))
                .collect(),
            _ => vec![authorization.as_str().unwrap_or("NONE")],
        };
        for kind in kinds {
            assert!(
                kind == "AWS_IAM" || kind == "JWT",
                "{id}: authorization {kind}"
            );
        }
        assert!(
            routes.insert(key.clone(), function).is_none(),
            "{key} twice"
        );
    }
    let expected: BTreeMap<String, String> = ROUTES
        .iter()
        .map(|(key, function)| (key.to_string(), function.to_string()))
        .collect();
    assert_eq!(routes, expected, "route -> function");
}

// --- SQS ----------------------------------------------------------------------------

#[test]
fn every_sqs_event_source_reports_partial_batch_failures() {
    let template = Template::load();
    let sources = event_sources(&template);
    let consumers: BTreeSet<(String, String)> = sources
        .iter()
        .map(|s| (s.function.clone(), s.queue.clone()))
        .collect();
    let expected: BTreeSet<(String, String)> = CONSUMERS
        .iter()
        .map(|(f, q)| (f.to_string(), q.to_string()))
        .collect();
    assert_eq!(consumers, expected, "(function, queue) event sources");
    for source in &sources {
        let types: Vec<&str> = one_or_many(&source.properties["FunctionResponseTypes"])
            .into_iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(
            types,
            ["ReportBatchItemFailures"],
            "{} on {}: only the failed records go back to the queue",
            source.function,
            source.queue
        );
        let batch = template.number(&source.properties["BatchSize"]);
        assert!((1..=10_000).contains(&batch), "{}: BatchSize", source.queue);
        if batch > 10 {
            let window = &source.properties["MaximumBatchingWindowInSeconds"];
            assert!(
                !window.is_null() && template.number(window) >= 1,
                "{}: a batch over 10 needs a batching window",
                source.queue
            );
        }
    }
}

#[test]
fn every_consumed_queue_outlasts_six_times_its_consumers_timeout() {
    let template = Template::load();
    for source in event_sources(&template) {
        let timeout = template
            .function_property(&source.function, "Timeout")
            .map_or(3, |v| template.number(v));
        let window = match &source.properties["MaximumBatchingWindowInSeconds"] {
            Value::Null => 0,
            value => template.number(value),
        };
        let queue = &template.resource(&source.queue)["Properties"];
        let visibility = match &queue["VisibilityTimeout"] {
            Value::Null => 30,
            value => template.number(value),
        };
        assert!(
            visibility >= 6 * timeout + window,
            "{}: VisibilityTimeout {visibility} s < 6 x {} Timeout {timeout} s + window {window} s",
            source.queue,
            source.function
        );
    }
}

#[test]
fn every_consumed_queue_has_a_dead_letter_queue_that_keeps_messages_longer() {
    let template = Template::load();
    let dlqs = dead_letter_queues(&template);
    for (_, queue) in CONSUMERS {
        let dlq = dlqs
            .get(queue)
            .unwrap_or_else(|| panic!("{queue} has no RedrivePolicy"));
        let redrive = &template.resource(queue)["Properties"]["RedrivePolicy"];
        let receives = template.number(&redrive["maxReceiveCount"]);
        assert!(
            (3..=10).contains(&receives),
            "{queue}: maxReceiveCount {receives}"
        );
        // A standard queue's message keeps its first enqueue time in the DLQ: the DLQ
        // must keep messages longer than the source queue, or they expire on arrival.
        let retention =
            |id: &str| match &template.resource(id)["Properties"]["MessageRetentionPeriod"] {
                Value::Null => 345_600,
                value => template.number(value),
            };
        assert!(
            retention(dlq) > retention(queue),
            "{dlq} keeps messages longer than {queue}"
        );
    }
    let queues: BTreeSet<String> = template
        .of_type("AWS::SQS::Queue")
        .into_iter()
        .map(|(id, _)| id.to_owned())
        .collect();
    let accounted: BTreeSet<String> = dlqs.keys().chain(dlqs.values()).cloned().collect();
    assert_eq!(
        queues, accounted,
        "every queue is a consumed queue or its DLQ"
    );
}
