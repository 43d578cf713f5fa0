"""The twilio SmsClient: the official SDK and its own HTTP client; settings and the callback URL come from its owner."""
from __future__ import annotations

import logging
import os
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import requests
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from . import twilio_media
from .base import FetchedMedia, SendResult, SmsError

log = logging.getLogger(__name__)

# Twilio's own "too many requests" and "authenticate" codes: the provider, not the text, is the problem.
PROVIDER_SIDE_CODES = {20429, 20003}


class PortalTwilioHttpClient(TwilioHttpClient):
    """The SDK's own HTTP client, optionally sending to another base URL (a fake Twilio in tests).

    It also keeps the SDK's request logging quiet: the portal logs one line per text itself.
    """

    def __init__(self, *, base_url: str | None = None, timeout: float | None = None) -> None:
        super().__init__(timeout=timeout, logger=logging.getLogger("portal.providers.sms.twilio_http"),
                         proxy=_environment_proxies())
        self.base_url = base_url.rstrip("/") if base_url else None
        # requests would re-read proxy and CA settings from the environment on every request (a scan of all
        # of os.environ each time); read them once here instead.
        self.session.trust_env = False
        self.session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True

    def request(self, method, url, *args, **kwargs):
        """Send the SDK's request, to base_url instead of api.twilio.com when one is set."""
        if self.base_url:
            parts = urlsplit(url)
            url = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, url, *args, **kwargs)

    def log_request(self, kwargs) -> None:  # the SDK would log headers at INFO for every text
        return None

    def log_response(self, status_code, response) -> None:
        return None


def _environment_proxies() -> dict[str, str]:
    return {scheme: url for scheme, url in urllib.request.getproxies().items() if scheme in ("http", "https")}


def error_from_twilio(exc: TwilioRestException | TwilioServiceException) -> SmsError:
    """Our SmsError for an error answer from Twilio: 5xx, 429 and auth problems retry, the rest do not."""
    status = int(getattr(exc, "status", 0) or 0)
    code = getattr(exc, "code", None)
    retryable = status >= 500 or status in (401, 429) or code in PROVIDER_SIDE_CODES
    return SmsError(f"Twilio answered {status}", code=str(code or status), retryable=retryable)


class TwilioSmsClient:
    """Sends texts through Twilio's Messages API with a Messaging Service SID or a From number.

    settings is a live mapping (the app's config) read at every send, so a changed TWILIO_* setting applies at
    once; status_callback_url(outbox_id) is the absolute URL Twilio reports the text's status to.
    """

    def __init__(self, *, settings: Mapping, status_callback_url: Callable[[int], str]) -> None:
        self.settings = settings
        self.status_callback_url = status_callback_url
        self._local = threading.local()  # one SDK client per thread: the SDK keeps per-request state

    def _client(self, config) -> Client:
        sid, token = config.get("TWILIO_ACCOUNT_SID"), config.get("TWILIO_AUTH_TOKEN")
        if not sid or not token:
            raise SmsError("Twilio is not configured: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN", code="config")
        key = (sid, token, config.get("TWILIO_API_BASE_URL"), float(config.get("TWILIO_TIMEOUT") or 10))
        if getattr(self._local, "key", None) != key:
            http = PortalTwilioHttpClient(base_url=key[2], timeout=key[3])
            self._local.client = Client(sid, token, http_client=http,
                                        user_agent_extensions=[f"portal-worker/{os.getpid()}"])
            self._local.key = key
        return self._local.client

    def send(self, *, to: str, body: str, outbox_id: int) -> SendResult:
        """Hand one text to Twilio; raises SmsError (retryable or not) when Twilio did not take it."""
        config = self.settings
        params = {"to": to, "body": body, "status_callback": self.status_callback_url(outbox_id)}
        if config.get("TWILIO_MESSAGING_SERVICE_SID"):
            params["messaging_service_sid"] = config["TWILIO_MESSAGING_SERVICE_SID"]
        elif config.get("TWILIO_FROM_NUMBER"):
            params["from_"] = config["TWILIO_FROM_NUMBER"]
        else:
            raise SmsError("Twilio sender missing: set TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER",
                           code="config")
        client = self._client(config)
        started = time.monotonic()
        try:
            message = client.messages.create(**params)
        except (TwilioRestException, TwilioServiceException) as exc:
            error = error_from_twilio(exc)
            log.warning("twilio refused text outbox_id=%s code=%s retryable=%s duration_ms=%d", outbox_id,
                        error.code, error.retryable, (time.monotonic() - started) * 1000)
            raise error from None
        except requests.Timeout:
            log.warning("twilio timed out outbox_id=%s duration_ms=%d", outbox_id, (time.monotonic() - started) * 1000)
            raise SmsError("Twilio did not answer in time", code="timeout") from None
        except requests.RequestException as exc:
            log.warning("twilio unreachable outbox_id=%s error=%s duration_ms=%d", outbox_id, type(exc).__name__,
                        (time.monotonic() - started) * 1000)
            raise SmsError("Twilio could not be reached", code="network") from None
        log.info("twilio accepted text outbox_id=%s duration_ms=%d", outbox_id, (time.monotonic() - started) * 1000)
        return SendResult(provider_sid=message.sid, status="sent")

    def redact_body(self, *, provider_sid: str) -> bool:
        """Blank Twilio's copy of a text's body (POST Body="" to the message: Twilio's documented redaction)."""
        return self._call("redact", provider_sid, lambda client: client.messages(provider_sid).update(body=""))

    def fetch_media(self, url: str, *, max_bytes: int) -> FetchedMedia:
        """The bytes of one media file of a text sent to us, from Twilio's API host only (twilio_media.py)."""
        return twilio_media.fetch_media(url, settings=self.settings, max_bytes=max_bytes)

    def delete_media(self, *, provider_sid: str, media_sid: str) -> bool:
        """Delete one media file of a message at Twilio (DELETE .../Messages/{sid}/Media/{media_sid})."""
        return self._call("delete media", provider_sid,
                          lambda client: client.messages(provider_sid).media(media_sid).delete())

    def _call(self, what: str, provider_sid: str, request) -> bool:
        """Run one request on a message; False for 404 (Twilio has no such thing), SmsError for the rest."""
        client = self._client(self.settings)
        started = time.monotonic()
        try:
            request(client)
        except (TwilioRestException, TwilioServiceException) as exc:
            if int(getattr(exc, "status", 0) or 0) == 404:
                log.info("twilio %s: nothing there sid=%s", what, provider_sid)
                return False
            error = error_from_twilio(exc)
            log.warning("twilio refused %s sid=%s code=%s retryable=%s", what, provider_sid, error.code,
                        error.retryable)
            raise error from None
        except requests.Timeout:
            raise SmsError("Twilio did not answer in time", code="timeout") from None
        except requests.RequestException:
            raise SmsError("Twilio could not be reached", code="network") from None
        log.info("twilio %s done sid=%s duration_ms=%d", what, provider_sid, (time.monotonic() - started) * 1000)
        return True
