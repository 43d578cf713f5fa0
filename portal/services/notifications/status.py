"""Twilio's status callbacks: a text's status only moves forward, and a repeated callback changes nothing."""
from __future__ import annotations

import logging

from sqlalchemy import func, or_, update

from ...extensions import db
from ...models import Notification, utcnow
from . import carrier_codes, consent
from .history import add_sent_outreach
from .states import NOT_YET_SENT

log = logging.getLogger(__name__)

# Twilio's words for a text's status -> ours. accepted/queued/sending/scheduled say nothing new to us.
PROVIDER_STATUS = {"sent": "sent", "delivered": "delivered", "read": "delivered", "undelivered": "undelivered",
                   "failed": "failed"}


def apply_status_callback(*, outbox_id: int, provider_status: str | None, provider_sid: str | None,
                          error_code: str | None = None) -> bool:
    """Move a text's status forward; False when the callback is old news, repeated, or about another message."""
    new = PROVIDER_STATUS.get((provider_status or "").strip().lower())
    message = db.session.get(Notification, outbox_id)
    if new is None or message is None:
        return False
    now = utcnow()
    values = {"status": new}
    if new == "delivered":
        values["delivered_at"] = now
    if error_code:
        values["error_code"] = str(error_code)[:16]
    same_message = or_(Notification.provider_sid.is_(None), Notification.provider_sid == provider_sid)
    # First move out of "not yet sent" (the callback beat the worker's own write): it counts as sent now.
    first = db.session.execute(
        update(Notification)
        .where(Notification.id == outbox_id, Notification.status.in_(NOT_YET_SENT), same_message)
        .values(**values, provider_sid=func.coalesce(Notification.provider_sid, provider_sid),
                sent_at=func.coalesce(Notification.sent_at, now), claimed_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    moved = bool(first)
    if first:
        add_sent_outreach(db.session, outbox_id=message.id, case_id=message.case_id,
                          family_member_id=message.family_member_id, at=now)
    elif new != "sent":
        moved = bool(db.session.execute(
            update(Notification)
            .where(Notification.id == outbox_id, Notification.status == "sent", same_message)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount)
    if moved and error_code:
        code = str(error_code).strip()[:16]
        action = carrier_codes.action_for(code)
        if action == carrier_codes.OPTED_OUT:
            consent.opt_out_number(db.session, message.recipient, now=now)
        elif action == carrier_codes.NOT_TEXTABLE:
            consent.mark_not_textable(db.session, message.recipient, code, now=now)
        # FILTERED needs nothing more here: the stored error code is what the carrier alarm counts.
    db.session.flush()
    db.session.expire(message)
    log.info("status callback outbox_id=%s status=%s applied=%s code=%s", outbox_id, new, moved, error_code)
    return moved
