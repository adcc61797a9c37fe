"""A loopback HTTP server that checks each request's AWS SigV4 signature with
botocore (an implementation independent of the CLI's aws-sigv4 crate).

It recomputes the signature of the request as received (method, path, query, the
headers named in SignedHeaders, the body) with botocore's SigV4Auth, the expected
credentials and the request's own X-Amz-Date, and answers 200 with a canned API
answer when it matches, else 403 with a problem+json saying what differed. Each
checked request is also printed as one JSON line on stdout.

Configuration (environment): VERIFY_ACCESS_KEY, VERIFY_SECRET_KEY,
VERIFY_SESSION_TOKEN (optional: then the request must carry and sign it),
VERIFY_REGION, VERIFY_SERVICE. It listens on 127.0.0.1 on a free port and prints
`listening <port>` first.
"""

import datetime
import json
import os
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCESS_KEY = os.environ["VERIFY_ACCESS_KEY"]
SECRET_KEY = os.environ["VERIFY_SECRET_KEY"]
SESSION_TOKEN = os.environ.get("VERIFY_SESSION_TOKEN") or None
REGION = os.environ["VERIFY_REGION"]
SERVICE = os.environ["VERIFY_SERVICE"]
# How far X-Amz-Date may be from now, as API Gateway allows.
SKEW = datetime.timedelta(minutes=5)

AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<credential>[^,]+), "
    r"SignedHeaders=(?P<signed>[^,]+), Signature=(?P<signature>[0-9a-f]{64})$"
)


def problem(reason):
    return 403, {"title": "Forbidden", "status": 403, "detail": reason}


def check(method, target, headers, body):
    """None when the signature verifies, else why not."""
    match = AUTHORIZATION.match(headers.get("authorization", ""))
    if not match:
        return "no SigV4 Authorization header"
    amz_date = headers.get("x-amz-date", "")
    try:
        at = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
    except ValueError:
        return f"bad X-Amz-Date {amz_date!r}"
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    if abs(now - at) > SKEW:
        return f"X-Amz-Date {amz_date} is more than 5 minutes from now"
    scope = f"{ACCESS_KEY}/{amz_date[:8]}/{REGION}/{SERVICE}/aws4_request"
    if match["credential"] != scope:
        return f"credential scope {match['credential']!r}, expected {scope!r}"
    signed = match["signed"].split(";")
    if "host" not in signed:
        return "host is not signed"
    if SESSION_TOKEN is not None:
        if headers.get("x-amz-security-token") != SESSION_TOKEN:
            return "X-Amz-Security-Token is missing or wrong"
        if "x-amz-security-token" not in signed:
            return "X-Amz-Security-Token is not signed"
    missing = [name for name in signed if name not in headers]
    if missing:
        return f"signed headers not sent: {missing}"

    request = AWSRequest(
        method=method,
        url=f"http://{headers['host']}{target}",
        headers={name: headers[name] for name in signed},
        data=body,
    )
    request.context["timestamp"] = amz_date
    auth = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY, SESSION_TOKEN), SERVICE, REGION)
    canonical = auth.canonical_request(request)
    expected = auth.signature(auth.string_to_sign(request, canonical), request)
    if expected != match["signature"]:
        return f"signature {match['signature']} does not match botocore's {expected}"
    return None


def answer(method, path):
    """What the webhooks API would answer, enough for the CLI's commands."""
    if method == "GET" and path.endswith("/logs"):
        return 200, {"items": [], "next_cursor": None}
    if method == "POST" and path.endswith("/events"):
        return 202, {"id": "evt_signed"}
    if method == "POST" and path.endswith("/test"):
        return 200, {"ok": True, "url": "https://receiver.example/", "checks": []}
    return 404, {"title": "Not Found", "status": 404}


class Handler(BaseHTTPRequestHandler):
    def handle_any(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        reason = check(self.command, self.path, headers, body)
        path = self.path.split("?", 1)[0]
        status, payload = problem(reason) if reason else answer(self.command, path)
        print(
            json.dumps(
                {
                    "method": self.command,
                    "target": self.path,
                    "verified": reason is None,
                    "reason": reason,
                    "security_token": "x-amz-security-token" in headers,
                    "body": body.decode("utf-8", "replace"),
                }
            ),
            flush=True,
        )
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = handle_any
    do_POST = handle_any

    def log_message(self, *args):
        pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
