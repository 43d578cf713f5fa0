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


class MediaRefused(SmsError):
    """A media file we will not fetch or keep: a URL off Twilio's API host, a bad redirect, or too many bytes."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message, code=code, retryable=False)


@dataclass(frozen=True)
class FetchedMedia:
    """The bytes of one media file, and the type the provider said it was (never trusted: sniff the bytes)."""

    data: bytes
    content_type: str


@dataclass
class SendResult:
    """What the provider said when it accepted a text."""

    provider_sid: str
    status: str = "sent"


class SmsClient(Protocol):
    """Anything that can hand one text to a provider, and make the provider forget what it kept of one."""

    def send(self, *, to: str, body: str, outbox_id: int) -> SendResult:
        """Send one text; raise SmsError when it could not be handed over."""
        ...

    def redact_body(self, *, provider_sid: str) -> bool:
        """Blank the body the provider keeps of a text in a final state (sent or received); False when the
        provider has no such message (nothing left to redact); SmsError when it could not be done now."""
        ...

    def fetch_media(self, url: str, *, max_bytes: int) -> FetchedMedia:
        """The bytes of one media file of a message sent to us (MediaUrlN); MediaRefused for a URL that is not the
        provider's own or a file over max_bytes, SmsError (retryable) when it could not be fetched now."""
        ...

    def delete_media(self, *, provider_sid: str, media_sid: str) -> bool:
        """Delete one media file (an MMS picture) the provider keeps of a message, once we stored our own copy;
        False when the provider has no such media; SmsError when it could not be done now."""
        ...
