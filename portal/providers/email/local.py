"""The email clients that send nothing: console (development: prints each email) and memory (tests: keeps a list)."""
from __future__ import annotations

import itertools
import sys
import threading
from dataclasses import dataclass, field

from ..sms.local import redacted_body
from .base import EmailContent, EmailError, SendResult


def masked_address(address: str) -> str:
    """An email address with its mailbox hidden but its first letter: rosa@example.org -> r•••@example.org."""
    mailbox, at, domain = (address or "").strip().partition("@")
    if not at or not mailbox:
        return "•••"
    return f"{mailbox[0]}•••@{domain}"


class ConsoleEmailClient:
    """Development: prints each email's subject and text part instead of sending it.

    As the console texts client does: the address masked, links and tokens removed (a link may sign someone in).
    The print is the only place the body goes; nothing is logged."""

    _ids = itertools.count(1)

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stdout

    def send(self, *, to: str, content: EmailContent, outbox_id: int) -> SendResult:
        """Print the email, its address masked and its links removed."""
        sid = f"console{next(self._ids):08d}@portal.invalid"
        self.stream.write(f"\n--- email #{outbox_id} to {masked_address(to)} ---\nSubject: {content.subject}\n\n"
                          f"{redacted_body(content.text)}\n--- end of email ---\n")
        self.stream.flush()
        return SendResult(provider_sid=sid)


@dataclass
class MemoryEmailClient:
    """Tests: keeps every email in a list; can be told to fail."""

    sent: list[dict] = field(default_factory=list)
    fail_with: EmailError | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, *, to: str, content: EmailContent, outbox_id: int) -> SendResult:
        """Record the email, or raise the configured failure."""
        if self.fail_with is not None:
            raise self.fail_with
        with self._lock:
            self.sent.append({"to": to, "subject": content.subject, "text": content.text, "html": content.html,
                              "outbox_id": outbox_id})
            return SendResult(provider_sid=f"mem{len(self.sent):010d}@portal.invalid")

    def clear(self) -> None:
        """Forget every recorded email, and send again (a failure set with fail_with is over)."""
        with self._lock:
            self.sent.clear()
            self.fail_with = None
