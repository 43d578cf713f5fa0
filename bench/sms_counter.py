"""A fake SMS endpoint that counts texts by outbox id, and the SmsClient that sends to it.

scale_out.py runs the endpoint in its own process and gives consumers SMS_BACKEND=bench_counter and
BENCH_SMS_COUNTER_URL; `flask --app bench.worker_app:create worker` registers the backend. A text that reaches the
endpoint twice (same outbox id) is a duplicate send.
"""
from __future__ import annotations

import json
import os
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests


class CountingSmsClient:
    """SmsClient: hands each text to the counting endpoint, as a provider's API would be called."""

    def __init__(self) -> None:
        self.url = os.environ["BENCH_SMS_COUNTER_URL"]
        self.http = requests.Session()

    def send(self, *, to: str, body: str, outbox_id: int):
        """POST the text; raise SmsError (retryable) when the endpoint does not take it."""
        from portal.sms.client import SendResult, SmsError

        try:
            response = self.http.post(self.url, json={"outbox_id": outbox_id, "to": to}, timeout=10)
        except requests.RequestException as exc:
            raise SmsError("counting endpoint unreachable", code="network", retryable=True) from exc
        if response.status_code != 201:
            raise SmsError(f"counting endpoint answered {response.status_code}", code=str(response.status_code))
        return SendResult(provider_sid=f"BENCH{outbox_id}-{uuid.uuid4().hex[:12]}")


class Counter:
    """What the endpoint received: sends per outbox id, and when."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_id: dict[int, int] = {}
        self.first: float | None = None
        self.last: float | None = None

    def add(self, outbox_id: int) -> None:
        now = time.monotonic()
        with self.lock:
            self.by_id[outbox_id] = self.by_id.get(outbox_id, 0) + 1
            self.first = self.first or now
            self.last = now

    def stats(self) -> dict:
        with self.lock:
            total = sum(self.by_id.values())
            span = (self.last - self.first) if self.first and self.last else 0.0
            return {"received": total, "unique": len(self.by_id),
                    "duplicates": sum(n - 1 for n in self.by_id.values() if n > 1),
                    "seconds": round(span, 2), "per_second": round(total / span, 1) if span else None}


def serve(port: int) -> tuple[ThreadingHTTPServer, Counter]:
    """Start the endpoint on 127.0.0.1:port in a background thread."""
    counter = Counter()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length", "0"))
            payload = json.loads(self.rfile.read(length) or b"{}")
            counter.add(int(payload["outbox_id"]))
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, counter
