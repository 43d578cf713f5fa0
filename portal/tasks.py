"""Background work: delivering the outbox. Runs outside any request, with its own database session."""
from __future__ import annotations

import logging
import time

from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm import Session

from .extensions import db
from .models import FamilyMember, OutboxMessage, utcnow
from .sms.client import SmsError

log = logging.getLogger(__name__)


def sms_client():
    """The app's SmsClient."""
    return current_app.extensions["sms_client"]


def deliver_message(outbox_id: int) -> str:
    """Claim one queued text and hand it to the provider; returns the text's new status."""
    with Session(db.engine) as session:
        claimed = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id, OutboxMessage.status == "queued")
            .values(status="sending", claimed_at=utcnow())
        ).rowcount
        session.commit()
        message = session.get(OutboxMessage, outbox_id)
        if message is None or not claimed:
            return message.status if message else "missing"
        member = session.get(FamilyMember, message.family_member_id) if message.family_member_id else None
        if member is not None and member.sms_opted_out_at is not None and message.kind != "opt_out_confirmation":
            message.status = "blocked"
            session.commit()
            log.info("text blocked: recipient opted out", extra={"outbox_id": outbox_id})
            return message.status
        started = time.monotonic()
        try:
            result = sms_client().send(to=message.to_number, body=message.body, outbox_id=message.id)
        except SmsError as exc:
            message.attempts += 1
            message.error_code = exc.code
            message.status = "queued" if exc.retryable else "failed"
            session.commit()
            log.warning("text not sent: outbox_id=%s code=%s retryable=%s duration_ms=%d", outbox_id, exc.code,
                        exc.retryable, (time.monotonic() - started) * 1000)
            return message.status
        message.attempts += 1
        message.status = result.status
        message.provider_sid = result.provider_sid
        message.sent_at = utcnow()
        session.commit()
        log.info("text sent: outbox_id=%s duration_ms=%d", outbox_id, (time.monotonic() - started) * 1000)
        return message.status


def dispatch_outbox(ids: list[int]) -> None:
    """Called after a commit that queued texts: deliver now (inline) or leave them for a worker."""
    if current_app.config["SMS_DELIVERY"] != "inline":
        return
    for outbox_id in ids:
        try:
            deliver_message(outbox_id)
        except Exception:  # delivery must never break the request that queued the text
            log.exception("inline delivery failed for outbox_id=%s; it stays queued", outbox_id)
