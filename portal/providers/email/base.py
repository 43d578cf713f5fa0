"""What every email client shares: the EmailClient protocol, what a send returns, and the one error it raises."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class EmailError(Exception):
    """An email could not be handed to the mail server. retryable: a temporary refusal (SMTP 4xx, no connection)
    that trying again may cure; False for a permanent one (SMTP 5xx: no such mailbox, refused)."""

    def __init__(self, message: str, *, code: str | None = None, retryable: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


@dataclass
class SendResult:
    """What the mail server said when it accepted an email: provider_sid is the email's Message-ID."""

    provider_sid: str
    status: str = "sent"


@dataclass(frozen=True)
class EmailContent:
    """One email's parts: a subject, a plain-text body and the same in HTML (sent as alternatives)."""

    subject: str
    text: str
    html: str


class EmailClient(Protocol):
    """Anything that can hand one multipart email (text and HTML) to a mail server."""

    def send(self, *, to: str, content: EmailContent, outbox_id: int) -> SendResult:
        """Send one email; raise EmailError when it could not be handed over."""
        ...
