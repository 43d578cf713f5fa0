"""Email through an SMTP server, with Flask-Mailman's SMTP backend: one multipart (text + HTML) message per send.

The server's answer decides what happens next: a 4xx (mailbox busy, greylisting, try later) or no connection at
all is temporary and the outbox retries; a 5xx (no such mailbox, refused) is permanent. Log lines carry the outbox
id, the SMTP code and the time taken, never the address or the body.
"""
from __future__ import annotations

import logging
import smtplib
import time
import uuid
from collections.abc import Callable, Mapping

from flask_mailman import EmailMultiAlternatives

from .base import EmailContent, EmailError, SendResult

log = logging.getLogger(__name__)


def _domain(sender: str) -> str:
    """The domain of the sender's address (for the Message-ID), at most 40 characters."""
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    return (address.rpartition("@")[2] or "portal.invalid")[:40]


def _error_for(exc: Exception) -> EmailError:
    """Our EmailError for what smtplib raised: 5xx is permanent, 4xx and lost connections are temporary."""
    code: int | None = None
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [answer[0] for answer in exc.recipients.values()]
        code = max(codes) if codes else None
    elif isinstance(exc, smtplib.SMTPResponseException):  # sender refused, data refused, other answers
        code = exc.smtp_code
    if code is None:  # no answer at all: the server is down or unreachable
        return EmailError("mail server unreachable", code="connect", retryable=True)
    return EmailError(f"mail server answered {code}", code=str(code), retryable=not 500 <= code < 600)


class SmtpEmailClient:
    """Sends through MAIL_SERVER; settings are read at send time, so a changed config needs no restart."""

    def __init__(self, *, settings: Mapping, connect: Callable[..., object]) -> None:
        self.settings = settings
        self.connect = connect  # Flask-Mailman's get_connection (the app's Mail, bound in create_app)

    def _connection(self):
        s = self.settings
        return self.connect(backend="smtp", host=s.get("MAIL_SERVER"), port=s.get("MAIL_PORT"),
                            username=s.get("MAIL_USERNAME") or "", password=s.get("MAIL_PASSWORD") or "",
                            use_tls=bool(s.get("MAIL_USE_TLS")), use_ssl=False, timeout=s.get("MAIL_TIMEOUT"))

    def send(self, *, to: str, content: EmailContent, outbox_id: int) -> SendResult:
        """Send one multipart email; its Message-ID is the provider id. Raise EmailError when refused."""
        sender = self.settings.get("MAIL_DEFAULT_SENDER") or ""
        message_id = f"{uuid.uuid4().hex}@{_domain(sender)}"
        message = EmailMultiAlternatives(subject=content.subject, body=content.text, from_email=sender, to=[to],
                                         headers={"Message-ID": f"<{message_id}>"}, connection=self._connection())
        message.attach_alternative(content.html, "text/html")
        started = time.monotonic()
        try:
            accepted = message.send()
        except (smtplib.SMTPException, OSError) as exc:
            error = _error_for(exc)
            log.info("email refused: outbox_id=%s code=%s retryable=%s ms=%d", outbox_id, error.code,
                     error.retryable, (time.monotonic() - started) * 1000)
            raise error from None  # smtplib's message may repeat the address
        if not accepted:
            raise EmailError("mail server took nothing", code="none", retryable=True)
        log.info("email sent: outbox_id=%s ms=%d", outbox_id, (time.monotonic() - started) * 1000)
        return SendResult(provider_sid=message_id)
