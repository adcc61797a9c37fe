#!/usr/bin/env python3
"""Put an event on the webhooks service's SQS events queue, with boto3.

The queue URL is the stack's EventsQueueUrl output; the producer needs sqs:SendMessage
on it (the stack's ProducerPolicyArn). boto3 takes credentials and the region from the
usual places (AWS_PROFILE, AWS_ACCESS_KEY_ID..., AWS_DEFAULT_REGION: boto3 does not
read AWS_REGION) and honours AWS_ENDPOINT_URL.

    EVENTS_QUEUE_URL=https://sqs... python3 send_event.py

sends the example event and prints its SQS message id. docs/producers.md embeds this
file from its first import to the end-of-snippet marker (tests/tests/it/readme.rs
checks it); tests/tests/it/aws/producers.rs runs it against the moto emulator.
"""

import json
import os

import boto3

MAX_EVENT_BYTES = 256 * 1024  # the largest event the webhooks service accepts


def send_event(queue_url, event_type, client_id, data, event_id=None, occurred_at=None):
    """Send one event to the events queue; return the SQS message id.

    event_id (letters, digits, _ - . :) and occurred_at (RFC 3339, such as
    "2026-11-28T12:00:00Z") are optional: the SQS message id and the time the
    service receives the event stand in for them.
    """
    event = {"type": event_type, "client_id": client_id, "data": data}
    if event_id is not None:
        event["id"] = event_id
    if occurred_at is not None:
        event["occurred_at"] = occurred_at
    body = json.dumps(event, separators=(",", ":"))
    size = len(body.encode("utf-8"))
    if size > MAX_EVENT_BYTES:
        raise ValueError(
            f"event is {size} bytes of JSON; the webhooks service takes at most "
            f"{MAX_EVENT_BYTES} (256 KiB)"
        )
    sqs = boto3.client("sqs")  # in a long-running producer, make one and reuse it
    response = sqs.send_message(QueueUrl=queue_url, MessageBody=body)
    return response["MessageId"]


if __name__ == "__main__":
    message_id = send_event(
        os.environ["EVENTS_QUEUE_URL"],
        "report.publish_status",
        "acme",
        {"report_id": "r-42", "status": "published"},
    )
    print(message_id)
# --- end of snippet
