"""Twilio keeps nothing: once a text we sent reaches a final status, or a text sent to us is stored, the body
Twilio keeps of it is blanked through the provider (SmsClient.redact_body). A job, not part of the webhook: the
status or the inbound text is committed first and never depends on Twilio answering; a row waits here until its
redaction is done (provider_redacted_at) or refused for good (redact_error), so an outage only delays it.

Media of inbound texts (MMS) are not this job's: tasks/media.py deletes Twilio's copy of each picture once the
portal has stored its own (or refused it), so the only copy is never lost.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import InboundSms, Notification, utcnow
from ..providers.sms import SmsError
from ..services.notifications.states import FINAL_AT_PROVIDER
from .delivery import client_for

log = logging.getLogger(__name__)

# A text still "sent" this long after sending never got its final callback: try to redact it anyway.
SENT_WITHOUT_CALLBACK = timedelta(days=3)


@dataclass
class RedactionResult:
    """What one run did, for logs and tests."""

    redacted: int = 0
    missing: int = 0  # Twilio had no such message: nothing left there
    refused: int = 0  # a refusal that trying again will not change (redact_error set)
    paused: bool = False  # Twilio is in trouble: the rest waits for the next run


def _unredacted(model):
    return and_(model.provider_redacted_at.is_(None), model.redact_error.is_(None))


def due_for_redaction(session: Session, *, limit: int) -> list[tuple[type, int, str]]:
    """(model, id, provider sid) of texts whose body Twilio may still hold and may now be blanked, oldest first."""
    stale = utcnow() - SENT_WITHOUT_CALLBACK
    sent = session.execute(
        select(Notification.id, Notification.provider_sid)
        .where(_unredacted(Notification), Notification.channel == "sms", Notification.provider_sid.is_not(None),
               or_(Notification.status.in_(FINAL_AT_PROVIDER),
                   and_(Notification.status == "sent", Notification.sent_at < stale)))
        .order_by(Notification.id).limit(limit)
    ).all()
    received = session.execute(
        select(InboundSms.id, InboundSms.message_sid).where(_unredacted(InboundSms))
        .order_by(InboundSms.id).limit(limit)
    ).all()
    return [(Notification, i, sid) for i, sid in sent] + [(InboundSms, i, sid) for i, sid in received]


def _mark(session: Session, model, ident: int, **values) -> None:
    if "updated_at" in model.__table__.c:  # blanking Twilio's copy is no news about the text (the carrier alarm
        values["updated_at"] = model.updated_at  # counts filtered texts by when they were last updated)
    session.execute(update(model).where(model.id == ident, _unredacted(model)).values(**values)
                    .execution_options(synchronize_session=False))
    session.commit()


def redact_provider_copies(*, limit: int = 500, budget_seconds: float | None = 50) -> RedactionResult:
    """Blank Twilio's copy of every text that is due (up to limit of each kind, within the time budget)."""
    result = RedactionResult()
    stop_at = time.monotonic() + (budget_seconds if budget_seconds is not None else float("inf"))
    client = client_for("sms")
    with Session(db.engine, expire_on_commit=False) as session:
        due = due_for_redaction(session, limit=limit)
        session.commit()  # end the read: each outcome below is its own short transaction
        for model, ident, sid in due:
            if time.monotonic() > stop_at:
                break
            try:
                found = client.redact_body(provider_sid=sid)
            except SmsError as exc:
                if exc.retryable:  # an outage: nothing is lost, the next run tries again
                    result.paused = True
                    log.warning("redaction paused: the provider is in trouble code=%s", exc.code)
                    break
                _mark(session, model, ident, redact_error=(exc.code or "error")[:16])
                result.refused += 1
                log.warning("redaction refused for %s id=%s code=%s", model.__tablename__, ident, exc.code)
                continue
            _mark(session, model, ident, provider_redacted_at=utcnow())
            if found:
                result.redacted += 1
            else:
                result.missing += 1
    if result.redacted or result.refused or result.paused:
        log.info("redaction: redacted=%d missing=%d refused=%d paused=%s", result.redacted, result.missing,
                 result.refused, result.paused)
    return result
