"""Pictures of texts sent to us (MMS): fetch each from Twilio, clean and store it, delete Twilio's copy, then make
the lead (services/notifications/mms.py). A job, not part of the webhook: the text and its pending rows are
committed first, so Twilio is answered at once and an outage only delays a picture.

Each step is its own short transaction on a session of the job's own (a fresh app context: the request that
queued the pictures has just committed its own). A row is claimed (claimed_at) before it is fetched, so two
consumers never fetch one picture twice at once; a claim older than the lease is taken over. A fetch that failed
for a reason that may pass (Twilio down, a timeout) is tried again by the every-minute sweep with the outbox's
backoff, up to its number of attempts; a refusal (a URL off Twilio's host, a bad redirect, too big, not a
picture) is recorded as 'rejected' and never retried.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from .. import uploads
from ..errors import ServiceError
from ..extensions import db
from ..models import InboundSms, InboundSmsMedia, utcnow
from ..providers.sms import MediaRefused, SmsError
from ..services.notifications import policy
from ..services.notifications.mms import lead_from_text
from .delivery import client_for

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=5)
# Refusals after which Twilio's copy is left alone: the URL was not Twilio's, or Twilio has nothing there.
NOT_OURS_TO_DELETE = ("host", "redirect", "gone")


@dataclass
class MediaResult:
    """What one run did, for logs and tests."""

    stored: int = 0
    rejected: int = 0
    failed: int = 0
    deleted: int = 0
    leads: int = 0


def _due(now, ids: list[int] | None):
    due = or_(InboundSmsMedia.status == "pending",
              and_(InboundSmsMedia.status == "failed", InboundSmsMedia.next_attempt_at <= now))
    free = or_(InboundSmsMedia.claimed_at.is_(None), InboundSmsMedia.claimed_at < now - CLAIM_LEASE)
    where = [due, free]
    if ids is not None:
        where.append(InboundSmsMedia.id.in_(ids))
    return where


def _claim(media_id: int, now) -> bool:
    claimed = db.session.execute(
        update(InboundSmsMedia).where(InboundSmsMedia.id == media_id, *_due(now, None)).values(claimed_at=now)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return bool(claimed)


def _fail(row: InboundSmsMedia, exc: SmsError, result: MediaResult) -> None:
    row.attempts += 1
    row.claimed_at = None
    row.error = (exc.code or "error")[:32]
    if not exc.retryable:
        row.status = "rejected"
        result.rejected += 1
    else:
        row.status = "failed"
        row.next_attempt_at = (utcnow() + policy.retry_delay(row.attempts)
                               if row.attempts < policy.MAX_ATTEMPTS else None)
        result.failed += 1
    log.info("text picture not stored media_id=%s attempt=%d code=%s now=%s", row.id, row.attempts, row.error,
             row.status)


def _store(row: InboundSmsMedia, result: MediaResult) -> None:
    max_bytes = int(current_app.config.get("MMS_MAX_BYTES") or uploads.MAX_FILE_BYTES)
    try:
        fetched = client_for("sms").fetch_media(row.media_url, max_bytes=max_bytes)
    except SmsError as exc:
        _fail(row, exc, result)
        return
    except Exception as exc:  # type only: an exception's text may hold the URL and its sids
        log.error("text picture fetch crashed media_id=%s error=%s", row.id, type(exc).__name__)
        _fail(row, SmsError("unexpected error", code="error"), result)
        return
    try:
        stored = uploads.store_bytes(fetched.data, f"text-picture-{row.position + 1}", only=uploads.IMAGE_KINDS)
    except ServiceError:
        _fail(row, MediaRefused("not a picture we accept", code="not_accepted"), result)
        return
    row.attempts += 1
    row.status, row.claimed_at, row.error, row.next_attempt_at = "stored", None, None, None
    for name in ("stored_name", "original_name", "content_type", "size", "sha256", "original_stored_name",
                 "original_sha256", "original_size", "original_content_type", "original_key"):
        setattr(row, name, getattr(stored, name))
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        uploads.discard([stored])
        raise
    result.stored += 1
    log.info("text picture stored media_id=%s bytes=%d", row.id, stored.size)


def _fetch_due(ids: list[int] | None, result: MediaResult) -> set[int]:
    now = utcnow()
    touched: set[int] = set()
    for media_id in db.session.scalars(select(InboundSmsMedia.id).where(*_due(now, ids))
                                       .order_by(InboundSmsMedia.id).limit(200)).all():
        if not _claim(media_id, utcnow()):
            continue  # another consumer has it
        row = db.session.get(InboundSmsMedia, media_id)
        _store(row, result)
        db.session.commit()
        touched.add(row.inbound_sms_id)
    return touched


def _delete_provider_copies(ids: list[int] | None, result: MediaResult) -> None:
    """Delete Twilio's copy of each picture that is done with (stored, or refused for a reason of its own)."""
    where = [InboundSmsMedia.provider_deleted_at.is_(None), InboundSmsMedia.delete_error.is_(None),
             or_(InboundSmsMedia.status == "stored",
                 and_(InboundSmsMedia.status == "rejected", InboundSmsMedia.error.not_in(NOT_OURS_TO_DELETE)))]
    if ids is not None:
        where.append(InboundSmsMedia.id.in_(ids))
    rows = db.session.execute(select(InboundSmsMedia.id, InboundSmsMedia.media_sid, InboundSms.message_sid)
                              .join(InboundSms, InboundSms.id == InboundSmsMedia.inbound_sms_id)
                              .where(*where).order_by(InboundSmsMedia.id).limit(500)).all()
    db.session.commit()
    client = client_for("sms")
    for media_id, media_sid, message_sid in rows:
        values: dict = {"provider_deleted_at": utcnow()}
        if not media_sid:
            values = {"delete_error": "no_sid"}
        else:
            try:
                client.delete_media(provider_sid=message_sid, media_sid=media_sid)
            except SmsError as exc:
                if exc.retryable:  # Twilio is in trouble: the next sweep tries again
                    log.warning("deleting Twilio's copy paused code=%s", exc.code)
                    return
                values = {"delete_error": (exc.code or "error")[:16]}
        db.session.execute(update(InboundSmsMedia).where(InboundSmsMedia.id == media_id).values(**values)
                           .execution_options(synchronize_session=False))
        db.session.commit()
        result.deleted += "provider_deleted_at" in values


def _make_leads(inbound_ids: set[int] | None, result: MediaResult) -> None:
    """Make the lead of every linked text whose pictures are all done and not yet part of one."""
    query = (select(InboundSms).join(InboundSmsMedia, InboundSmsMedia.inbound_sms_id == InboundSms.id)
             .where(InboundSms.handling == "conversation", InboundSmsMedia.status == "stored",
                    InboundSmsMedia.lead_attachment_id.is_(None)).distinct())
    if inbound_ids is not None:
        query = query.where(InboundSms.id.in_(inbound_ids))
    for inbound in db.session.scalars(query.limit(200)).all():
        if lead_from_text(inbound) is not None:
            result.leads += 1
        db.session.commit()


def process(ids: list[int] | None = None) -> MediaResult:
    """Fetch, store and clean up these pictures (or every one that is due), then make the leads they complete."""
    result = MediaResult()
    with current_app.app_context():  # a session of the job's own, never the caller's
        try:
            touched = _fetch_due(ids, result)
            _delete_provider_copies(ids, result)
            _make_leads(touched if ids is not None else None, result)
        finally:
            db.session.remove()
    if result.stored or result.rejected or result.failed or result.leads:
        log.info("text pictures: stored=%d rejected=%d failed=%d deleted=%d leads=%d", result.stored,
                 result.rejected, result.failed, result.deleted, result.leads)
    return result

