"""The life of one notification (a text now, an email next), the same for every channel.

    queued ──claim──> sending ──provider took it──> sent ──callback──> delivered | undelivered | failed
      │  ^               │ └─provider refused: retry later──> queued      (a callback may also arrive before
      │  └─quiet hours── deferred                                         the worker writes "sent")
      ├──> blocked   (the recipient opted out)          sending ──gave up──> failed
      └──> cancelled (its reason went away, e.g. an appointment was cancelled)

    awaiting_consent ──the member said yes──> queued | deferred     (held: no consent on record yet; only the
      └──> blocked | cancelled                                      one consent request goes out meanwhile)

Every status write in tasks/delivery.py, status.py, consent.py and outbox.py is guarded by one of the sets below, so a
notification only ever moves along an arrow here; tests/test_notification_states.py checks the guards against
TRANSITIONS.
"""
from __future__ import annotations

from ...models import OUTBOX_STATUSES

STATES = OUTBOX_STATUSES

TRANSITIONS: dict[str, frozenset[str]] = {
    "queued": frozenset({"sending", "deferred", "blocked", "cancelled", "sent", "delivered", "undelivered",
                         "failed"}),
    "deferred": frozenset({"sending", "blocked", "cancelled", "sent", "delivered", "undelivered", "failed"}),
    "sending": frozenset({"queued", "deferred", "blocked", "sent", "delivered", "undelivered", "failed"}),
    "sent": frozenset({"delivered", "undelivered", "failed"}),
    "awaiting_consent": frozenset({"queued", "deferred", "blocked", "cancelled"}),
    "delivered": frozenset(),
    "undelivered": frozenset(),
    "failed": frozenset(),
    "blocked": frozenset(),
    "cancelled": frozenset(),
}

AWAITING_CONSENT = "awaiting_consent"
# Not yet handed to a consumer: may still be blocked or cancelled.
WAITING = ("queued", "deferred", AWAITING_CONSENT)
CLAIMABLE = ("queued", "deferred")  # what a consumer may claim when it is due (never a text held for consent)
NOT_YET_SENT = ("queued", "deferred", "sending")  # a status callback here means it was sent after all
FAILED = ("undelivered", "failed")  # the recipient did not get it
GOT_THROUGH = ("sent", "delivered")  # handed over, or confirmed delivered
FINAL_AT_PROVIDER = ("delivered", "undelivered", "failed")  # the provider is done with it: its copy can be redacted


def may_move(old: str, new: str) -> bool:
    """Whether a notification may go from status old to status new."""
    return new in TRANSITIONS.get(old, frozenset())
