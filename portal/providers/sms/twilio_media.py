"""Fetching the pictures of texts sent to us (MMS) from Twilio, and from nowhere else.

A webhook names each picture by a URL (MediaUrlN). We only ever ask Twilio's API host (https://api.twilio.com, or
TWILIO_API_BASE_URL: the fake Twilio in tests) for it, with the account's credentials: a URL naming any other host
is refused before any request, so a forged or replayed webhook cannot make the portal fetch from, or send the
credentials to, a host it names. Twilio answers with a redirect to its CDN: we follow a few, https only (or the
configured base URL's own scheme, for the local fake), and the credentials go to the API host alone, never to the
host a redirect leads to. The bytes are read in pieces and the download stops as soon as it passes the size cap.
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from urllib.parse import urljoin, urlsplit

import requests

from .base import FetchedMedia, MediaRefused, SmsError

log = logging.getLogger(__name__)

TWILIO_API = "https://api.twilio.com"
MAX_REDIRECTS = 3
CHUNK = 64 * 1024


def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of a URL, or None when it is not an http(s) URL with a host."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme, host = (parts.scheme or "").lower(), (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host or parts.username or parts.password:
        return None
    return scheme, host, port or (443 if scheme == "https" else 80)


def api_origins(settings: Mapping) -> set[tuple[str, str, int]]:
    """The hosts media may be asked for with the account's credentials: Twilio's API, and the configured base."""
    allowed = {origin(TWILIO_API)}
    base = settings.get("TWILIO_API_BASE_URL")
    if base and origin(base):
        allowed.add(origin(base))
    return allowed


def _redirect_allowed(target: tuple[str, str, int] | None, settings: Mapping) -> bool:
    if target is None:
        return False
    if target[0] == "https":
        return True
    base = origin(settings.get("TWILIO_API_BASE_URL") or "")
    return base is not None and base[0] == "http"  # only a local fake is plain http, and so is its "CDN"


def _new_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy or .netrc credentials picked up from the environment
    session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return session


def _read_capped(response: requests.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise MediaRefused("media too large", code="too_big")
    data = bytearray()
    for chunk in response.iter_content(CHUNK):
        data += chunk
        if len(data) > max_bytes:
            raise MediaRefused("media too large", code="too_big")
    return bytes(data)


def fetch_media(url: str, *, settings: Mapping, max_bytes: int) -> FetchedMedia:
    """GET one media file from Twilio (see the module's docstring); MediaRefused or SmsError when not."""
    first = origin(url)
    if first is None or first not in api_origins(settings):
        log.warning("media refused: its URL is not on Twilio's API host")
        raise MediaRefused("media URL is not on Twilio's API host", code="host")
    sid, token = settings.get("TWILIO_ACCOUNT_SID"), settings.get("TWILIO_AUTH_TOKEN")
    if not sid or not token:
        raise SmsError("Twilio is not configured: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN", code="config")
    timeout = float(settings.get("TWILIO_TIMEOUT") or 10)
    started = time.monotonic()
    current = url
    with _new_session() as session:
        for _hop in range(MAX_REDIRECTS + 1):
            credentials = (sid, token) if origin(current) == first else None  # the API host alone gets them
            try:
                response = session.get(current, auth=credentials, allow_redirects=False, stream=True,
                                       timeout=timeout)
            except requests.Timeout:
                raise SmsError("Twilio did not answer in time", code="timeout") from None
            except requests.RequestException:
                raise SmsError("Twilio could not be reached", code="network") from None
            with response:
                if response.is_redirect:
                    target = urljoin(current, response.headers.get("Location", ""))
                    if not _redirect_allowed(origin(target), settings):
                        raise MediaRefused("media redirect to a URL we do not follow", code="redirect")
                    current = target
                    continue
                if response.status_code == 404:
                    raise MediaRefused("Twilio has no such media", code="gone")
                if response.status_code != 200:
                    status = response.status_code
                    retryable = status >= 500 or status in (401, 429)
                    raise SmsError(f"Twilio answered {status}", code=str(status), retryable=retryable)
                try:
                    data = _read_capped(response, max_bytes)
                except requests.RequestException:
                    raise SmsError("the media download broke off", code="network") from None
                kind = (response.headers.get("Content-Type") or "").split(";")[0].strip()[:100]
            log.info("media fetched bytes=%d duration_ms=%d", len(data), (time.monotonic() - started) * 1000)
            return FetchedMedia(data=data, content_type=kind)
    raise MediaRefused("too many redirects", code="redirect")
