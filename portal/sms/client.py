"""One SmsClient around the text provider: twilio (production), console (development), memory (tests)."""
from __future__ import annotations

import itertools
import logging
import sys
import threading
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)


class SmsError(Exception):
    """A text could not be handed to the provider. retryable says whether trying again may help."""

    def __init__(self, message: str, *, code: str | None = None, retryable: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


@dataclass
class SendResult:
    """What the provider said when it accepted a text."""

    provider_sid: str
    status: str = "sent"


class SmsClient(Protocol):
    """Anything that can hand one text to a provider."""

    def send(self, *, to: str, body: str, outbox_id: int) -> SendResult:
        """Send one text; raise SmsError when it could not be handed over."""
        ...


class ConsoleSmsClient:
    """Development: prints each text to the console instead of sending it."""

    _ids = itertools.count(1)

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stdout

    def send(self, *, to: str, body: str, outbox_id: int) -> SendResult:
        """Print the text (development only: this shows the number and body on purpose)."""
        sid = f"CONSOLE{next(self._ids):08d}"
        self.stream.write(f"\n--- text #{outbox_id} to {to} ---\n{body}\n--- end of text ---\n")
        self.stream.flush()
        return SendResult(provider_sid=sid)


@dataclass
class MemorySmsClient:
    """Tests: keeps every text in a list; can be told to fail."""

    sent: list[dict] = field(default_factory=list)
    fail_with: SmsError | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, *, to: str, body: str, outbox_id: int) -> SendResult:
        """Record the text, or raise the configured failure."""
        if self.fail_with is not None:
            raise self.fail_with
        with self._lock:
            self.sent.append({"to": to, "body": body, "outbox_id": outbox_id})
            return SendResult(provider_sid=f"MEM{len(self.sent):010d}")

    def clear(self) -> None:
        """Forget every recorded text."""
        with self._lock:
            self.sent.clear()


def _twilio_client() -> SmsClient:
    from .twilio_client import TwilioSmsClient

    return TwilioSmsClient()


_BACKENDS = {"console": ConsoleSmsClient, "memory": MemorySmsClient, "twilio": _twilio_client}


def build_client(backend: str) -> SmsClient:
    """The SmsClient for a backend name (SMS_BACKEND)."""
    try:
        return _BACKENDS[backend]()
    except KeyError:
        raise RuntimeError(f"Unknown SMS_BACKEND {backend!r}; use one of {', '.join(_BACKENDS)}") from None


def register_backend(name: str, factory) -> None:
    """Make another backend (e.g. twilio) available to build_client."""
    _BACKENDS[name] = factory
