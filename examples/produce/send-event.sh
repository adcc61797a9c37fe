#!/usr/bin/env bash
# Put an event on the webhooks service's SQS events queue with the AWS CLI, and print
# its SQS message id. EVENTS_QUEUE_URL is the stack's EventsQueueUrl output; the
# caller needs sqs:SendMessage on it (the stack's ProducerPolicyArn). Credentials and
# the region come from the usual AWS CLI configuration (AWS_PROFILE,
# AWS_DEFAULT_REGION, ...).
#
# Not run by the tests (they cannot count on the AWS CLI being installed); the Python
# and Rust examples next to it send the same event and are tested against moto.
set -euo pipefail

aws sqs send-message \
  --queue-url "$EVENTS_QUEUE_URL" \
  --message-body '{"type": "report.publish_status", "client_id": "acme", "data": {"report_id": "r-42", "status": "published"}}' \
  --query MessageId \
  --output text
