"""The clients that send nothing: console (development: prints each text) and memory (tests: keeps a list)."""
from __future__ import annotations

import itertools
import re
import sys
import threading
from dataclasses import dataclass, field

from .base import FetchedMedia, MediaRefused, SendResult, SmsError

LINK_MARK = "[link]"
TOKEN_MARK = "[token]"  # noqa: S105  (a placeholder, not a secret)
_LINK = re.compile(r"(?i)\b(?:https?://|www\.)\S+")
# A bare token (an invite or one-time code pasted without its link): 20 or more URL-safe characters in a row.
_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{20,}(?![A-Za-z0-9_-])")


def masked_number(number: str) -> str:
    """A phone number with all but its country code and last four digits hidden: +13125550123 -> +1•••••0123.

    Enough to tell two texts apart on a console; not enough to call anyone. The mask has a fixed length."""
    number = (number or "").strip()
    if len(number) < 8:
        return "•••••"
    head = number[:2] if number.startswith("+") else ""
    return f"{head}•••••{number[-4:]}"


def redacted_body(body: str) -> str:
    """A text's body with every link and bare token replaced by a placeholder (they open accounts and tips)."""
    return _TOKEN.sub(TOKEN_MARK, _LINK.sub(LINK_MARK, body or ""))


class ConsoleSmsClient:
    """Development: prints each text to the console instead of sending it.

    Consoles end up in logs and screen shares, so it shows a masked number and the body without its links or
    tokens (an invite link signs someone in)."""

    _ids = itertools.count(1)

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stdout

    def send(self, *, to: str, body: str, outbox_id: int) -> SendResult:
        """Print the text, its number masked and its links removed."""
        sid = f"CONSOLE{next(self._ids):08d}"
        self.stream.write(f"\n--- text #{outbox_id} to {masked_number(to)} ---\n{redacted_body(body)}\n"
                          "--- end of text ---\n")
        self.stream.flush()
        return SendResult(provider_sid=sid)

    def redact_body(self, *, provider_sid: str) -> bool:
        """Nothing is kept anywhere but the console: nothing to redact."""
        return True

    def fetch_media(self, url: str, *, max_bytes: int) -> FetchedMedia:
        """The console receives no texts, so it has no media: always refused."""
        raise MediaRefused("the console client has no media", code="no_media")

    def delete_media(self, *, provider_sid: str, media_sid: str) -> bool:
        """Nothing is kept anywhere but the console: nothing to delete."""
        return True


@dataclass
class MemorySmsClient:
    """Tests: keeps every text in a list; can be told to fail."""

    sent: list[dict] = field(default_factory=list)
    redacted: list[str] = field(default_factory=list)  # provider sids whose body was blanked
    deleted_media: list[tuple[str, str]] = field(default_factory=list)  # (message sid, media sid)
    media: dict[str, FetchedMedia] = field(default_factory=dict)  # url -> what fetch_media answers
    fetched: list[str] = field(default_factory=list)  # every url fetch_media was asked for
    fail_with: SmsError | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, *, to: str, body: str, outbox_id: int) -> SendResult:
        """Record the text, or raise the configured failure."""
        if self.fail_with is not None:
            raise self.fail_with
        with self._lock:
            self.sent.append({"to": to, "body": body, "outbox_id": outbox_id})
            return SendResult(provider_sid=f"MEM{len(self.sent):010d}")

    def redact_body(self, *, provider_sid: str) -> bool:
        """Blank the kept body of a text this client sent; note the sid (any sid, as received texts have ours)."""
        if self.fail_with is not None:
            raise self.fail_with
        with self._lock:
            for index, text in enumerate(self.sent):
                if f"MEM{index + 1:010d}" == provider_sid:
                    text["body"] = ""
            self.redacted.append(provider_sid)
            return True

    def fetch_media(self, url: str, *, max_bytes: int) -> FetchedMedia:
        """The media put in self.media under this url; MediaRefused for any other url or one over max_bytes."""
        if self.fail_with is not None:
            raise self.fail_with
        with self._lock:
            self.fetched.append(url)
            found = self.media.get(url)
        if found is None:
            raise MediaRefused("no such media", code="host")
        if len(found.data) > max_bytes:
            raise MediaRefused("media too large", code="too_big")
        return found

    def delete_media(self, *, provider_sid: str, media_sid: str) -> bool:
        """Note the media as deleted."""
        if self.fail_with is not None:
            raise self.fail_with
        with self._lock:
            self.deleted_media.append((provider_sid, media_sid))
            return True

    def clear(self) -> None:
        """Forget every recorded text, and send again (a failure set with fail_with is over)."""
        with self._lock:
            self.sent.clear()
            self.redacted.clear()
            self.deleted_media.clear()
            self.media.clear()
            self.fetched.clear()
            self.fail_with = None
