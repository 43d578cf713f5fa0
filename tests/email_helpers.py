"""The email fixtures: a real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives and can refuse
chosen addresses, and the app pointed at it through Flask-Mailman's SMTP backend (EMAIL_BACKEND=smtp)."""
from __future__ import annotations

import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from portal.app import email_client_for


@dataclass
class Mailbox:
    """What the local SMTP server received, and the answers it gives to chosen recipients."""

    messages: list[EmailMessage] = field(default_factory=list)
    # address -> SMTP answer to RCPT TO, e.g. "550 5.1.1 No such mailbox" or "451 4.3.0 Try again later"
    refuse: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's name)
        """Accept a recipient unless told to answer something else for it."""
        answer = self.refuse.get(address.lower())
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        """Keep the message, parsed."""
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        """The messages received for one address."""
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 and a free port; yields (mailbox, port)."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield mailbox, controller.port
    finally:
        controller.stop()


@pytest.fixture
def smtp(app, monkeypatch, smtp_server):
    """The app sends email through Flask-Mailman's SMTP backend into the local server; returns its mailbox."""
    mailbox, port = smtp_server
    for key, value in {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_USE_TLS": False,
                       "MAIL_USERNAME": None, "MAIL_PASSWORD": None, "MAIL_TIMEOUT": 5}.items():
        monkeypatch.setitem(app.config, key, value)
    monkeypatch.setitem(app.config, "EMAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.extensions, "email_client", email_client_for(app, "smtp"))
    return mailbox
