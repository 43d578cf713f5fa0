"""Texts: the SmsClient protocol, its twilio, console and memory clients, segment counting and keyword parsing."""
from __future__ import annotations

from collections.abc import Callable, Mapping

from .base import FetchedMedia, MediaRefused, SendResult, SmsClient, SmsError
from .local import ConsoleSmsClient, MemorySmsClient

__all__ = ["BACKENDS", "ConsoleSmsClient", "FetchedMedia", "MediaRefused", "MemorySmsClient", "SendResult",
           "SmsClient", "SmsError", "build_sms_client"]

BACKENDS = ("console", "memory", "twilio")


def build_sms_client(backend: str, *, settings: Mapping, status_callback_url: Callable[[int], str]) -> SmsClient:
    """The SmsClient for a backend name (SMS_BACKEND); settings are read at send time (TWILIO_*)."""
    if backend == "console":
        return ConsoleSmsClient()
    if backend == "memory":
        return MemorySmsClient()
    if backend == "twilio":
        from .twilio_client import TwilioSmsClient

        return TwilioSmsClient(settings=settings, status_callback_url=status_callback_url)
    raise RuntimeError(f"Unknown SMS_BACKEND {backend!r}; use one of {', '.join(BACKENDS)}")
