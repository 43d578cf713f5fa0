"""A fake Twilio: a real HTTP server on 127.0.0.1 speaking enough of the Messages API for the real SDK.

It records every text it accepts, can fail on demand (HTTP 500/503/429, a dropped connection, a timeout, an
error code such as 21211 or 21610), and sends signed status callbacks to the URL each text named. It also
delivers texts to the portal (signed, with media if asked), and like Twilio's REST API it redacts a message's
body (POST Body="" to /Messages/{Sid}.json) and deletes a message's media (DELETE .../Media/{Sid}.json), 404
for a message or media it does not have.

    with FakeTwilio() as fake:            # fake.url goes into TWILIO_API_BASE_URL
        ...                               # fake.messages: what was accepted; fake.requests: every attempt
        fake.fail(status=503)             # every request answers 503 until fake.recover()
        fake.fail(mode="drop", times=3)   # the next 3 requests lose their connection
        fake.send_status(fake.messages[0], "delivered")
        fake.send_text(portal_url, from_="+13125550101", body="hi")   # an inbound text, kept in fake.messages
        fake.bodies_kept()                # every body Twilio still holds
        fake.send_text(portal_url, from_="+1...", body="", files=[("image/jpeg", data)])   # an MMS
        fake.seen                         # every request as it arrived: method, path, Host, Authorization

Media are served like Twilio's: GET .../Messages/{Sid}/Media/{MediaSid} (with the account's Basic auth) answers
302 to a "CDN" URL, http://localhost:<port>/cdn/{MediaSid} (another host name for the same server), which answers
the bytes without auth. fake.media_redirect = None serves them at once; "self" redirects to the same path (a
loop); a URL redirects there.
"""
from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import requests
from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "f" * 32
AUTH_TOKEN = "fake-twilio-auth-token"  # noqa: S105  (a test value)
TWILIO_NUMBER = "+13125550000"
ERROR_MESSAGES = {
    30400: "Parameters are not valid",
    21211: "The 'To' number is not a valid phone number.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    20429: "Too Many Requests",
}


@dataclass
class Received:
    """One text the fake accepted."""

    sid: str
    to: str
    body: str
    sender: str | None
    messaging_service_sid: str | None
    status_callback: str | None
    user_agent: str
    at: float = field(default_factory=time.monotonic)
    direction: str = "outbound-api"
    status: str = "queued"
    media: dict[str, str] = field(default_factory=dict)  # media sid -> content type, as Twilio keeps them
    redacted: bool = False  # whether the body was blanked through the API

    @property
    def outbox_id(self) -> int | None:
        """The outbox id the portal put into the status callback URL."""
        if not self.status_callback:
            return None
        values = parse_qs(urlsplit(self.status_callback).query).get("outbox_id")
        return int(values[0]) if values else None


@dataclass(frozen=True)
class Seen:
    """One request as it reached the fake."""

    method: str
    path: str
    host: str
    authorization: str | None


@dataclass
class _Failure:
    status: int | None = None  # HTTP status to answer with
    code: int | None = None  # Twilio error code in the JSON body
    mode: str | None = None  # "drop" (close without answering) or "timeout" (answer too late)
    times: int | None = None  # None: until recover()


class FakeTwilio:
    """The server; use as a context manager or call start() and stop()."""

    def __init__(self, *, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN, delay: float = 0.0,
                 timeout_seconds: float = 2.0) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.delay = delay  # seconds to wait after recording a text and before answering (a text "in flight")
        self.timeout_seconds = timeout_seconds
        self.messages: list[Received] = []
        self.requests: list[tuple[float, int]] = []  # (when, HTTP status answered or 0 for dropped)
        self._failures: list[_Failure] = []
        self.media_bytes: dict[str, bytes] = {}  # media sid -> the file Twilio keeps
        self.media_redirect: str | None = "cdn"  # "cdn": to the CDN path on localhost; None: serve; else a URL
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control ---------------------------------------------------------------------------------------------
    def start(self) -> FakeTwilio:
        """Listen on a free port on 127.0.0.1."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-twilio",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL to give the SDK instead of https://api.twilio.com."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def fail(self, *, status: int | None = None, code: int | None = None, mode: str | None = None,
             times: int | None = None) -> None:
        """Fail the next `times` requests (all of them until recover() when times is None)."""
        if status is None and mode is None:
            status = 400 if code else 500
        with self._lock:
            self._failures.append(_Failure(status=status, code=code, mode=mode, times=times))

    def recover(self) -> None:
        """Answer normally again."""
        with self._lock:
            self._failures.clear()

    def counts_by_outbox_id(self) -> dict[int, int]:
        """How many times each outbox id was accepted."""
        counts: dict[int, int] = {}
        with self._lock:
            for message in self.messages:
                counts[message.outbox_id] = counts.get(message.outbox_id, 0) + 1
        return counts

    def find(self, sid: str) -> Received | None:
        """The message (sent or received) with this sid."""
        with self._lock:
            return next((m for m in self.messages if m.sid == sid), None)

    def bodies_kept(self) -> list[str]:
        """Every non-empty body the fake still holds, outbound and inbound."""
        with self._lock:
            return [m.body for m in self.messages if m.body]

    def media_url(self, sid: str, media_sid: str, *, base: str | None = None) -> str:
        """The MediaUrl Twilio names a media file by."""
        return f"{base or self.url}/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media/{media_sid}"

    def send_text(self, url: str, *, from_: str, body: str, to: str = TWILIO_NUMBER,
                  media: list[str] | None = None, token: str | None = None,
                  files: list[tuple[str, bytes]] | None = None,
                  media_base: str | None = None) -> tuple[Received, requests.Response]:
        """A text (with media files of these content types, if any, or these (content type, bytes) files) arrives
        at Twilio and is POSTed, signed, to the portal's inbound webhook at url, as Twilio does; Twilio keeps the
        message and its media. media_base names another host in the MediaUrls (a forged webhook)."""
        sid = "SM" + uuid.uuid4().hex
        files = list(files or []) + [(kind, b"") for kind in media or []]
        sids = ["ME" + uuid.uuid4().hex for _ in files]
        record = Received(sid=sid, to=to, body=body, sender=from_, messaging_service_sid=None, status_callback=None,
                          user_agent="", direction="inbound", status="received",
                          media={media_sid: kind for media_sid, (kind, _data) in zip(sids, files, strict=True)})
        with self._lock:
            self.messages.append(record)
            self.media_bytes.update({media_sid: data for media_sid, (_kind, data) in zip(sids, files, strict=True)})
        params = {"MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid, "AccountSid": self.account_sid,
                  "From": from_, "To": to, "Body": body, "NumMedia": str(len(record.media)), "NumSegments": "1",
                  "SmsStatus": "received", "ApiVersion": "2010-04-01"}
        for index, (media_sid, kind) in enumerate(record.media.items()):
            params[f"MediaUrl{index}"] = self.media_url(sid, media_sid, base=media_base)
            params[f"MediaContentType{index}"] = kind
        signature = RequestValidator(token or self.auth_token).compute_signature(url, params)
        return record, requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10)

    def send_status(self, message: Received, status: str, *, error_code: int | None = None,
                    token: str | None = None, url: str | None = None) -> requests.Response:
        """POST a signed status callback for a text to the URL the portal gave, as Twilio does."""
        url = url or message.status_callback
        params = {"MessageSid": message.sid, "SmsSid": message.sid, "AccountSid": self.account_sid,
                  "MessageStatus": status, "SmsStatus": status, "To": message.to, "ApiVersion": "2010-04-01"}
        if message.sender:
            params["From"] = message.sender
        if error_code:
            params["ErrorCode"] = str(error_code)
        message.status = status
        signature = RequestValidator(token or self.auth_token).compute_signature(url, params)
        return requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10)

    # -- the API ---------------------------------------------------------------------------------------------
    def _next_failure(self) -> _Failure | None:
        with self._lock:
            if not self._failures:
                return None
            failure = self._failures[0]
            if failure.times is not None:
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.pop(0)
            return failure

    def _accept(self, form: dict[str, str], user_agent: str) -> dict:
        sid = "SM" + uuid.uuid4().hex
        record = Received(sid=sid, to=form.get("To", ""), body=form.get("Body", ""), sender=form.get("From"),
                          messaging_service_sid=form.get("MessagingServiceSid"),
                          status_callback=form.get("StatusCallback"), user_agent=user_agent)
        with self._lock:
            self.messages.append(record)
        return self._resource(record)

    def _resource(self, record: Received) -> dict:
        """A message as the Messages API answers it (JSON)."""
        now = formatdate(usegmt=True)
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{record.sid}"
        return {
            "sid": record.sid, "account_sid": self.account_sid, "to": record.to, "from": record.sender,
            "messaging_service_sid": record.messaging_service_sid, "body": record.body, "status": record.status,
            "num_segments": "1", "num_media": str(len(record.media)), "direction": record.direction,
            "api_version": "2010-04-01", "price": None, "price_unit": "USD", "error_code": None,
            "error_message": None, "date_created": now, "date_updated": now, "date_sent": None,
            "uri": f"{uri}.json", "subresource_uris": {"media": f"{uri}/Media.json"},
        }

    def _update(self, sid: str, form: dict[str, str]) -> tuple[int, dict]:
        """POST /Messages/{Sid}.json: Body="" redacts the body (anything else in Body is refused, as by Twilio)."""
        record = self.find(sid)
        if record is None:
            return 404, _error_payload(404, 20404, "The requested resource was not found")
        if "Body" not in form and "Status" not in form or form.get("Body"):
            return 400, _error_payload(400, 30400, ERROR_MESSAGES[30400])
        if "Body" in form:
            with self._lock:
                record.body = ""
                record.redacted = True
        return 200, self._resource(record)

    def _delete_media(self, sid: str, media_sid: str) -> int:
        """DELETE /Messages/{Sid}/Media/{MediaSid}.json: 204, or 404 for a message or media it does not have."""
        record = self.find(sid)
        with self._lock:
            if record is None or media_sid not in record.media:
                return 404
            del record.media[media_sid]
        return 204


def _error_payload(status: int, code: int | None, message: str) -> dict:
    return {"code": code, "message": message, "status": status,
            "more_info": f"https://www.twilio.com/docs/errors/{code}"}


def _handler_for(fake: FakeTwilio):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like the real API
        disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart (delayed ACK)

        def log_message(self, *args) -> None:  # quiet
            return None

        def _answer(self, status: int, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            fake.requests.append((time.monotonic(), status))

        def _error(self, status: int, code: int | None, message: str) -> None:
            self._answer(status, _error_payload(status, code, message))

        def _authorized(self) -> bool:
            credentials = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
            if self.headers.get("Authorization") != f"Basic {credentials}":
                self._error(401, 20003, "Authenticate")
                return False
            return True

        def _failed(self) -> bool:
            """Answer with the next failure asked for, if any (every API call counts)."""
            failure = fake._next_failure()
            if failure is None:
                return False
            if failure.mode == "drop":
                fake.requests.append((time.monotonic(), 0))
                self.close_connection = True
                self.connection.shutdown(2)
                return True
            if failure.mode == "timeout":
                time.sleep(fake.timeout_seconds)
                self._error(503, None, "Service Unavailable (too late)")
                return True
            status = failure.status or 500
            self._error(status, failure.code or (20429 if status == 429 else None),
                        ERROR_MESSAGES.get(failure.code or 0, "Server error"))
            return True

        def _message_path(self) -> list[str] | None:
            """The parts after /Messages/ (e.g. [sid] or [sid, "Media", media_sid]) of a message URL."""
            prefix = f"/2010-04-01/Accounts/{fake.account_sid}/Messages/"
            path = urlsplit(self.path).path
            if not path.startswith(prefix) or not path.endswith(".json"):
                return None
            return path[len(prefix):-len(".json")].split("/")

        def _note(self) -> None:
            fake.seen.append(Seen(self.command, urlsplit(self.path).path, self.headers.get("Host", ""),
                                  self.headers.get("Authorization")))

        def _send_bytes(self, status: int, data: bytes, content_type: str, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
            fake.requests.append((time.monotonic(), status))

        def _media(self, media_sid: str) -> tuple[str, bytes] | None:
            with fake._lock:
                for message in fake.messages:
                    if media_sid in message.media:
                        return message.media[media_sid], fake.media_bytes.get(media_sid, b"")
            return None

        def do_GET(self) -> None:  # noqa: N802  (http.server's name)
            """A media file: at the API path (auth, then a redirect to the CDN) or at the CDN path (no auth)."""
            self._note()
            path = urlsplit(self.path).path
            if path.startswith("/cdn/"):
                found = self._media(path[len("/cdn/"):])
                if found is None:
                    return self._error(404, 20404, "The requested resource was not found")
                return self._send_bytes(200, found[1], found[0])
            prefix = f"/2010-04-01/Accounts/{fake.account_sid}/Messages/"
            parts = path[len(prefix):].split("/") if path.startswith(prefix) else []
            if len(parts) != 3 or parts[1] != "Media":
                return self._error(404, 20404, "The requested resource was not found")
            if not self._authorized() or self._failed():
                return None
            found = self._media(parts[2])
            if found is None:
                return self._error(404, 20404, "The requested resource was not found")
            if fake.media_redirect is None:
                return self._send_bytes(200, found[1], found[0])
            port = fake._server.server_address[1]
            target = {"cdn": f"http://localhost:{port}/cdn/{parts[2]}", "self": path}.get(fake.media_redirect,
                                                                                          fake.media_redirect)
            return self._send_bytes(302, b"", "text/plain", Location=target)

        def do_DELETE(self) -> None:  # noqa: N802  (http.server's name)
            self._note()
            parts = self._message_path()
            if not parts or len(parts) != 3 or parts[1] != "Media":
                return self._error(404, 20404, "The requested resource was not found")
            if not self._authorized() or self._failed():
                return None
            if fake._delete_media(parts[0], parts[2]) == 404:
                return self._error(404, 20404, "The requested resource was not found")
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            fake.requests.append((time.monotonic(), 204))
            return None

        def do_POST(self) -> None:  # noqa: N802  (http.server's name)
            self._note()
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            expected = f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json"
            parts = self._message_path()
            if urlsplit(self.path).path != expected and (not parts or len(parts) != 1):
                return self._error(404, 20404, "The requested resource was not found")
            if not self._authorized():
                return None
            if urlsplit(self.path).path != expected:  # POST /Messages/{Sid}.json: update (redact) a message
                if self._failed():
                    return None
                form = {key: values[0] for key, values in parse_qs(raw, keep_blank_values=True).items()}
                return self._answer(*fake._update(parts[0], form))
            failure = fake._next_failure()
            if failure is not None:
                if failure.mode == "drop":
                    fake.requests.append((time.monotonic(), 0))
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return None
                if failure.mode == "timeout":
                    time.sleep(fake.timeout_seconds)
                    return self._error(503, None, "Service Unavailable (too late)")
                status = failure.status or 500
                return self._error(status, failure.code or (20429 if status == 429 else None),
                                   ERROR_MESSAGES.get(failure.code or 0, "Server error"))
            form = {key: values[0] for key, values in parse_qs(raw, keep_blank_values=True).items()}
            if not form.get("To") or not (form.get("From") or form.get("MessagingServiceSid")):
                return self._error(400, 21604, "A 'To' phone number and a sender are required.")
            payload = fake._accept(form, self.headers.get("User-Agent", ""))
            if fake.delay:
                time.sleep(fake.delay)  # recorded, not yet answered: a consumer killed now loses the answer
            return self._answer(201, payload)

    return Handler
