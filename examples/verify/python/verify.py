#!/usr/bin/env python3
"""Verify the signatures of a webhooks delivery. Python 3.8+, standard library only.

A webhook with a secret gets two signatures on every delivery; checking either one
is enough. Always verify the raw request body bytes, before parsing the JSON.

  X-Authorization-HMAC-256   lowercase hex HMAC-SHA256 of the body, keyed by the
                             secret's UTF-8 bytes
  webhook-id, webhook-timestamp, webhook-signature
                             Standard Webhooks: "v1,<base64 HMAC-SHA256>" over
                             "{webhook-id}.{webhook-timestamp}.{body}"; during a secret
                             rotation several space-separated signatures are sent

In a request handler (any framework; `body` is the raw bytes):

    ok = (verify_standard(secret, headers["webhook-id"], headers["webhook-timestamp"],
                          body, headers["webhook-signature"])
          and timestamp_is_fresh(headers["webhook-timestamp"]))
    # or: ok = verify_hmac(secret, body, headers["X-Authorization-HMAC-256"])
    if not ok:
        return 401

Self-checks: `python3 verify.py` checks the fixed vectors in ../vectors.json;
`python3 verify.py --check FILE` checks one delivery given as JSON
{"secret", "id", "timestamp", "body", "hmac", "signature"}.
"""

import base64
import binascii
import hashlib
import hmac
import json
import os
import sys
import time

TOLERANCE_SECONDS = 5 * 60


def _utf8(value):
    return value if isinstance(value, bytes) else value.encode("utf-8")


def _standard_key(secret):
    """The base64-decoded part after whsec_, otherwise the secret's UTF-8 bytes."""
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[len("whsec_"):], validate=True)
        except (binascii.Error, ValueError):
            pass
    return secret.encode("utf-8")


def verify_hmac(secret, body, header):
    """True when `header` (X-Authorization-HMAC-256) is the HMAC-SHA256 of `body`."""
    expected = hmac.new(_utf8(secret), _utf8(body), hashlib.sha256).digest()
    try:
        received = bytes.fromhex(header.strip())
    except ValueError:
        return False
    return hmac.compare_digest(expected, received)


def verify_standard(secret, msg_id, timestamp, body, header):
    """True when any "v1," signature in `header` (webhook-signature) matches."""
    signed = _utf8(f"{msg_id}.{timestamp}.") + _utf8(body)
    expected = hmac.new(_standard_key(secret), signed, hashlib.sha256).digest()
    for candidate in header.split(" "):
        version, _, encoded = candidate.partition(",")
        if version != "v1":
            continue
        try:
            received = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if hmac.compare_digest(expected, received):
            return True
    return False


def timestamp_is_fresh(timestamp, now=None, tolerance=TOLERANCE_SECONDS):
    """True when webhook-timestamp is within `tolerance` seconds of now (refuses replays)."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    now = time.time() if now is None else now
    return abs(now - sent) <= tolerance


# --- self-checks (not needed in a receiver) ---------------------------------------

def _expect(label, got, want):
    ok = got == want
    print(f"{'ok  ' if ok else 'FAIL'} {label}: {'valid' if got else 'invalid'}"
          f"{'' if ok else ' (expected ' + ('valid' if want else 'invalid') + ')'}")
    return ok


def _check_vectors(path):
    with open(path, encoding="utf-8") as file:
        vectors = json.load(file)
    results = [
        _expect(f"hmac: {case['name']}",
                verify_hmac(case["secret"], case["body"], case["header"]), case["valid"])
        for case in vectors["hmac"]
    ] + [
        _expect(f"standard: {case['name']}",
                verify_standard(case["secret"], case["id"], case["timestamp"], case["body"],
                                case["header"]), case["valid"])
        for case in vectors["standard"]
    ]
    return all(results)


def _check_delivery(path):
    with open(path, encoding="utf-8") as file:
        d = json.load(file)
    secret, msg_id, timestamp, body = d["secret"], d["id"], str(d["timestamp"]), d["body"]
    tampered = body + " "
    return all([
        _expect("X-Authorization-HMAC-256", verify_hmac(secret, body, d["hmac"]), True),
        _expect("webhook-signature",
                verify_standard(secret, msg_id, timestamp, body, d["signature"]), True),
        _expect("webhook-timestamp within tolerance", timestamp_is_fresh(timestamp), True),
        _expect("X-Authorization-HMAC-256 on a tampered body",
                verify_hmac(secret, tampered, d["hmac"]), False),
        _expect("webhook-signature on a tampered body",
                verify_standard(secret, msg_id, timestamp, tampered, d["signature"]), False),
    ])


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        passed = _check_delivery(sys.argv[2])
    elif len(sys.argv) == 1:
        here = os.path.dirname(os.path.abspath(__file__))
        passed = _check_vectors(os.path.join(here, "..", "vectors.json"))
    else:
        sys.exit("usage: verify.py [--check DELIVERY.json]")
    sys.exit(0 if passed else 1)
