"""What every text client shares: the SmsClient protocol, what a send returns, and the one error it raises."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


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
