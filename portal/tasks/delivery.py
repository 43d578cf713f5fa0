"""Delivering the outbox, for every channel: claim due notifications (safe with many consumers), send each through
its channel's provider client, record every outcome (services/notifications/states.py says which moves
are allowed). A job, not a service: it runs outside any request with a database session of its own and commits
each step itself.

A claimed notification is 'sending' with claimed_at as the claim's token; every later write checks that token, so
a consumer whose claim was taken over can never overwrite another's result. A consumer that dies leaves its rows
'sending'; the sweep gives them back after SMS_CLAIM_LEASE_SECONDS, which can repeat only a notification that was
in flight at that moment.
"""
from __future__ import annotations

import logging
import math
import secrets
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Agency, FamilyMember, Notification, utcnow
from ..providers.email import EmailError
from ..providers.sms import SmsError
from ..services.notifications import carrier_codes, consent, policy
from ..services.notifications.email import content_of, record_address_state
from ..services.notifications.history import add_sent_outreach
from ..services.notifications.redaction import redact_one_time_links
from ..services.notifications.states import CLAIMABLE

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class Claimed:
    """The parts of a claimed text that delivery needs (read in the claim itself, no second query)."""

    id: int
    channel: str
    recipient: str
    body: str
    kind: str
    urgent: bool
    attempts: int
    case_id: int | None
    family_member_id: int | None


@dataclass
class DrainResult:
    """What one drain did, for logs and tests."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    blocked: int = 0
    deferred: int = 0
    released: int = 0
    paused: bool = False


def client_for(channel: str):
    """The provider client that delivers this channel (built in create_app: app.extensions["<channel>_client"])."""
    return current_app.extensions[f"{channel}_client"]


def claim(session: Session, *, now: datetime, limit: int,
          ids: list[int] | None = None) -> tuple[datetime, list[Claimed]]:
    """Mark up to limit due texts 'sending' for this consumer alone; returns the claim token and the texts."""
    token = now + timedelta(microseconds=secrets.randbelow(1000))  # two claims in one microsecond differ
    due = or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now)
    pick = select(Notification.id).where(Notification.status.in_(CLAIMABLE), due)
    if ids is not None:
        pick = pick.where(Notification.id.in_(ids))
    # PostgreSQL skips rows another consumer holds instead of waiting. SQLite ignores FOR UPDATE: its writers
    # take turns, and the status guard in the UPDATE makes a second claim of a row impossible.
    pick = pick.order_by(Notification.id).limit(limit).with_for_update(skip_locked=True)
    rows = session.execute(
        update(Notification)
        .where(Notification.id.in_(pick), Notification.status.in_(CLAIMABLE))
        .values(status="sending", claimed_at=token)
        .returning(Notification.id, Notification.channel, Notification.recipient, Notification.body, Notification.kind,
                   Notification.urgent, Notification.attempts, Notification.case_id,
                   Notification.family_member_id)
        .execution_options(synchronize_session=False)
    ).all()
    session.commit()
    return token, sorted((Claimed(*row) for row in rows), key=lambda c: c.id)


def _mine(item: Claimed, token: datetime):
    return and_(Notification.id == item.id, Notification.status == "sending", Notification.claimed_at == token)


def _finish(session: Session, item: Claimed, token: datetime, **values) -> bool:
    done = session.execute(update(Notification).where(_mine(item, token)).values(**values)
                           .execution_options(synchronize_session=False)).rowcount
    session.commit()
    return bool(done)


def release(session: Session, items: list[Claimed], token: datetime, *, at: datetime) -> int:
    """Give claimed texts that were not tried back to the queue, due at the given time."""
    if not items:
        return 0
    count = session.execute(
        update(Notification)
        .where(Notification.id.in_([i.id for i in items]), Notification.status == "sending",
               Notification.claimed_at == token)
        .values(status="queued", claimed_at=None, next_attempt_at=at)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    return count


def _redacted(item: Claimed) -> dict:
    """The body without its one-time link tokens, for a text that is done with them (sent, or never to be sent)."""
    body = redact_one_time_links(item.body)
    return {"body": body} if body != item.body else {}


def _send(item: Claimed):
    """Hand one notification to its channel's client: a text's body as it is, an email's stored parts."""
    client = client_for(item.channel)
    if item.channel == "email":
        return client.send(to=item.recipient, content=content_of(item.body), outbox_id=item.id)
    return client.send(to=item.recipient, body=item.body, outbox_id=item.id)


def _record_sent(session: Session, item: Claimed, token: datetime, provider_sid: str) -> None:
    now = utcnow()
    # Normally the text is still ours. If the claim was lost it may be queued again: we did send it, so say so.
    table = Notification.__table__  # plain UPDATEs: this runs once for every text a worker sends
    moved = session.execute(
        update(table)
        .where(table.c.id == item.id,
               or_(table.c.status.in_(CLAIMABLE),
                   and_(table.c.status == "sending", table.c.claimed_at == token)))
        .values(status="sent", provider_sid=provider_sid, sent_at=now, attempts=item.attempts + 1,
                error_code=None, claimed_at=None, next_attempt_at=None, **_redacted(item))
    ).rowcount
    if moved:
        add_sent_outreach(session, outbox_id=item.id, case_id=item.case_id, family_member_id=item.family_member_id,
                          at=now, channel=item.channel)
    else:  # a status callback got here first and already moved it on (and logged the outreach)
        session.execute(update(table).where(table.c.id == item.id)
                        .values(attempts=table.c.attempts + 1, sent_at=func.coalesce(table.c.sent_at, now),
                                **_redacted(item)))
    if item.channel == "email":
        record_address_state(session, member_id=item.family_member_id, address=item.recipient, refused_at=None)
    session.commit()


def _action(item: Claimed, exc: SmsError | EmailError) -> str:
    """What a refusal means: Twilio's codes by name (carrier_codes.py) for a text; retry or give up for an email."""
    if item.channel == "sms":
        return carrier_codes.action_for(exc.code, retryable=exc.retryable)
    return carrier_codes.RETRY if exc.retryable else carrier_codes.GIVE_UP


def _record_failure(session: Session, item: Claimed, token: datetime, exc: SmsError | EmailError,
                    result: DrainResult) -> None:
    now = utcnow()
    attempts = item.attempts + 1
    values = {"attempts": attempts, "error_code": (exc.code or "")[:16] or None, "claimed_at": None}
    texted = item.channel == "sms"
    action = _action(item, exc)
    if action == carrier_codes.OPTED_OUT:
        values["status"] = "blocked"
        consent.opt_out_number(session, item.recipient, now=now)
    elif action == carrier_codes.NOT_TEXTABLE:
        values["status"] = "failed"
        consent.mark_not_textable(session, item.recipient, values["error_code"], now=now)
    elif action != carrier_codes.RETRY or attempts >= policy.MAX_ATTEMPTS:
        values["status"] = "failed"  # given up (FILTERED too: the carrier alarm counts its error code)
    else:
        values["status"] = "queued"
        values["next_attempt_at"] = now + policy.retry_delay(attempts)
    if values["status"] != "queued":  # never to be sent: its one-time link has no more use here
        values.update(_redacted(item))
    if not texted and values["status"] == "failed":  # refused for good (SMTP 5xx) or never taken: flag it
        record_address_state(session, member_id=item.family_member_id, address=item.recipient, refused_at=now)
    _finish(session, item, token, **values)
    counter = {"blocked": "blocked", "failed": "failed", "queued": "retrying"}[values["status"]]
    setattr(result, counter, getattr(result, counter) + 1)
    log.info("%s not sent: outbox_id=%s attempt=%d code=%s now=%s", item.channel, item.id, attempts,
             values["error_code"], values["status"])


def _where(exc: BaseException) -> str:
    """file:line of the innermost frame that raised (the portal's or a library's), for a log line."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno}"


def _stopped(item: Claimed, opted_out: set[str], members: dict) -> bool:
    """Whether the recipient asked for no more of this channel since it was queued (STOP, or an email opt-out)."""
    if item.channel == "sms":
        return item.recipient in opted_out
    member = members.get(item.family_member_id)
    return member is not None and (member.email_opted_out_at is not None or member.email != item.recipient)


def _send_batch(session: Session, batch: list[Claimed], token: datetime, result: DrainResult, *,
                deadline: float, agency_tz: str) -> None:
    opted_out = consent.unreachable_numbers(session, {i.recipient for i in batch if i.channel == "sms"})
    member_ids = {i.family_member_id for i in batch if i.family_member_id}
    members = {m.id: m for m in session.scalars(select(FamilyMember).where(FamilyMember.id.in_(member_ids)))} \
        if member_ids else {}
    paused: set[str] = set()
    for index, item in enumerate(batch):
        if time.monotonic() > deadline:  # the claim may soon be handed to another consumer: stop in time
            result.released += release(session, batch[index:], token, at=utcnow())
            return
        if item.channel in paused:  # this channel's provider is in trouble: leave its notifications for later
            result.released += release(session, [item], token, at=utcnow() + policy.PAUSE_AFTER_PROVIDER_ERROR)
            continue
        if _stopped(item, opted_out, members) and item.kind != policy.OPT_OUT_CONFIRMATION:
            result.blocked += _finish(session, item, token, status="blocked", claimed_at=None, **_redacted(item))
            continue
        now = utcnow()
        if not item.urgent and item.channel == "sms":  # texts wait for daytime; an inbox does not ring
            member = members.get(item.family_member_id)
            send_at = (policy.next_send_time(now, member.timezone, member.quiet_start, member.quiet_end) if member
                       else policy.next_send_time(now, agency_tz))
            if send_at > now:
                result.deferred += _finish(session, item, token, status="deferred", next_attempt_at=send_at,
                                           claimed_at=None)
                continue
        try:
            sent = _send(item)
        except Exception as exc:
            if not isinstance(exc, (SmsError, EmailError)):
                # Type and place only: an exception's own message (and so a traceback) may repeat the number
                # or the body it was handed, which must never reach a log line.
                log.error("%s delivery crashed: outbox_id=%s error=%s at=%s", item.channel, item.id,
                          type(exc).__name__, _where(exc))
                exc = SmsError("unexpected error", code="error")
            _record_failure(session, item, token, exc, result)
            if _action(item, exc) in (carrier_codes.OPTED_OUT, carrier_codes.NOT_TEXTABLE):
                opted_out.add(item.recipient)  # the rest of this batch to that number is blocked too
            if exc.retryable:  # the provider, not this one, is in trouble: leave the rest of its channel for later
                result.paused = True
                paused.add(item.channel)
            continue
        _record_sent(session, item, token, sent.provider_sid)
        result.sent += 1


def drain(*, ids: list[int] | None = None, budget_seconds: float | None = None) -> DrainResult:
    """Deliver due texts (all, or only these ids) batch by batch until none is left or the provider is in trouble."""
    config = current_app.config
    batch_size = int(config.get("SMS_BATCH_SIZE", 20))
    half_lease = int(config.get("SMS_CLAIM_LEASE_SECONDS", 300)) / 2
    stop_at = time.monotonic() + (budget_seconds if budget_seconds is not None else math.inf)
    result = DrainResult()
    with Session(db.engine, expire_on_commit=False) as session:
        agency_tz = session.scalar(select(Agency.timezone).order_by(Agency.id).limit(1)) \
            or config["AGENCY_TIMEZONE"]
        while time.monotonic() < stop_at:
            token, batch = claim(session, now=utcnow(), limit=batch_size, ids=ids)
            if not batch:
                break
            _send_batch(session, batch, token, result, deadline=time.monotonic() + half_lease, agency_tz=agency_tz)
            if result.paused:
                break
    return result


def reclaim_stale(*, now: datetime | None = None) -> int:
    """Give back texts left 'sending' longer than the lease (their consumer died); returns how many."""
    now = now or utcnow()
    lease = timedelta(seconds=int(current_app.config.get("SMS_CLAIM_LEASE_SECONDS", 300)))
    with Session(db.engine) as session:
        count = session.execute(
            update(Notification)
            .where(Notification.status == "sending", Notification.claimed_at < now - lease)
            .values(status="queued", claimed_at=None)
            .execution_options(synchronize_session=False)
        ).rowcount
        session.commit()
    if count:
        log.warning("gave back %d texts left 'sending' by a consumer that stopped", count)
    return count


def sweep(*, budget_seconds: float | None = 50) -> DrainResult:
    """The every-minute job: take back abandoned claims, then deliver everything that is due."""
    reclaim_stale()
    result = drain(budget_seconds=budget_seconds)
    if result.sent or result.retrying or result.failed:
        log.info("sweep: sent=%d retrying=%d failed=%d blocked=%d deferred=%d paused=%s", result.sent,
                 result.retrying, result.failed, result.blocked, result.deferred, result.paused)
    return result


def deliver_message(outbox_id: int) -> str:
    """Deliver one text now if it is due; returns its status afterwards."""
    drain(ids=[outbox_id])
    with Session(db.engine) as session:
        status = session.scalar(select(Notification.status).where(Notification.id == outbox_id))
    return status or "missing"
