#!/usr/bin/env bash
# Prepares the moto emulator for running the Lambda functions locally with
# `cargo lambda watch`: creates the two tables and the five queues the functions use
# and writes their environment to .lambda.env.
#
#   scripts/lambda-local.sh        needs AWS_ENDPOINT_URL (eval "$(scripts/moto.sh start)")
#
# Uses the boto3 that moto brings into .venv.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.venv/bin/python"
[[ -n "${AWS_ENDPOINT_URL:-}" ]] || { echo "lambda-local.sh: AWS_ENDPOINT_URL is not set; run: eval \"\$(scripts/moto.sh start)\"" >&2; exit 1; }
[[ -x "$PY" ]] || { echo "lambda-local.sh: $PY is missing; run scripts/moto.sh install" >&2; exit 1; }

AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}" \
AWS_DEFAULT_REGION="${AWS_REGION:-us-east-1}" "$PY" - "$ROOT/.lambda.env" <<'PYTHON'
import os, sys
import boto3

endpoint = os.environ["AWS_ENDPOINT_URL"]
dynamodb = boto3.client("dynamodb", endpoint_url=endpoint)
sqs = boto3.client("sqs", endpoint_url=endpoint)

def table(name, key, sort=None, index=None):
    attributes = [{"AttributeName": key, "AttributeType": "S"}]
    schema = [{"AttributeName": key, "KeyType": "HASH"}]
    if sort:
        attributes.append({"AttributeName": sort, "AttributeType": "S"})
        schema.append({"AttributeName": sort, "KeyType": "RANGE"})
    extra = {}
    if index:
        attributes.append({"AttributeName": "event", "AttributeType": "S"})
        extra["GlobalSecondaryIndexes"] = [{"IndexName": index, "Projection": {"ProjectionType": "ALL"},
            "KeySchema": [{"AttributeName": "event", "KeyType": "HASH"}, {"AttributeName": "id", "KeyType": "RANGE"}]}]
    try:
        dynamodb.create_table(TableName=name, AttributeDefinitions=attributes, KeySchema=schema,
                              BillingMode="PAY_PER_REQUEST", **extra)
    except dynamodb.exceptions.ResourceInUseException:
        pass
    return name

webhooks = table("webhooks", "id", index="by_event")
logs = table("delivery-logs", "webhook_id", sort="sk")
dynamodb.update_time_to_live(TableName=logs, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})
queue = lambda name: sqs.create_queue(QueueName=name)["QueueUrl"]
env = {
    "WEBHOOKS_TABLE": webhooks,
    "DELIVERY_LOGS_TABLE": logs,
    "RETRY_QUEUE_URL": queue("webhooks-retry"),
    "LOGS_QUEUE_URL": queue("webhooks-logs"),
    "EVENTS_DLQ_URL": queue("webhooks-events-dlq"),
    "METRICS_STACK": "webhooks-local",
    "LOGS_DLQ_URL": queue("webhooks-logs-dlq"),
    "EVENTS_QUEUE_URL": queue("webhooks-events"),
    "SECRET_PREFIX": "webhooks/",
    "WEBHOOKS_ALLOW_NETS": "127.0.0.0/8,::1/128",
    "AWS_ENDPOINT_URL": endpoint,
    "AWS_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"],
    "AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"],
    "AWS_REGION": os.environ["AWS_DEFAULT_REGION"],
}
with open(sys.argv[1], "w") as out:
    for key, value in env.items():
        out.write(f"{key}={value}\n")
print(f"wrote {sys.argv[1]}:")
for key, value in env.items():
    print(f"  {key}={value}")
PYTHON
