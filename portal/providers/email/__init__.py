"""Email: the EmailClient protocol and its smtp (Flask-Mailman), console and memory clients."""
from __future__ import annotations

from collections.abc import Callable, Mapping

from .base import EmailClient, EmailContent, EmailError, SendResult
from .local import ConsoleEmailClient, MemoryEmailClient

__all__ = ["BACKENDS", "ConsoleEmailClient", "EmailClient", "EmailContent", "EmailError", "MemoryEmailClient",
           "SendResult", "build_email_client"]

BACKENDS = ("console", "memory", "smtp")


def build_email_client(backend: str, *, settings: Mapping, connect: Callable[..., object]) -> EmailClient:
    """The EmailClient for a backend name (EMAIL_BACKEND); settings (MAIL_*) are read at send time."""
    if backend == "console":
        return ConsoleEmailClient()
    if backend == "memory":
        return MemoryEmailClient()
    if backend == "smtp":
        from .smtp_client import SmtpEmailClient

        return SmtpEmailClient(settings=settings, connect=connect)
    raise RuntimeError(f"Unknown EMAIL_BACKEND {backend!r}; use one of {', '.join(BACKENDS)}")
