"""Consent on record, before any text: each number's history (who, when, how), STOP/START, and texts held for it.

A number with no consent on record gets one consent request and nothing else: every other text waits in the outbox
as `awaiting_consent` until the member says yes (replies YES, says so on a call, signs a form, turns texts on in the
portal). An opt-out covers every family member who uses that number.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from ... import audit
from ...errors import ServiceError
from ...extensions import db
from ...models import GRANT_METHODS, ContactConsent, FamilyMember, InboundSms, Notification, Outreach, User, utcnow
from . import policy
from .states import AWAITING_CONSENT, WAITING

# What staff read out on a call before ticking "They said yes to getting texts" (and what the form records).
SPOKEN_WORDING = _l("Is it all right if we text you about your family's case at this number? You can reply STOP "
                    "at any time to stop.")
WRITTEN_WORDING = _l("Signed the agency's written form agreeing to texts about the case.")


def has_sms_consent(member: FamilyMember) -> bool:
    """Whether this member's number has consent on record and no STOP since."""
    return member.texts_consent_at is not None and member.sms_opted_out_at is None


def opted_out_numbers(session: Session, numbers: set[str]) -> set[str]:
    """Which of these numbers belong to someone who opted out of texts."""
    if not numbers:
        return set()
    return set(session.scalars(
        select(FamilyMember.phone).where(FamilyMember.phone.in_(numbers), FamilyMember.sms_opted_out_at.is_not(None))
    ))


def _record(member: FamilyMember, *, event: str, method: str, wording: str | None = None,
            outreach: Outreach | None = None, inbound: InboundSms | None = None, by: User | None = None,
            channel: str = "sms") -> ContactConsent:
    row = ContactConsent(family_member_id=member.id, channel=channel,
                         address=(member.phone if channel == "sms" else member.email) or "", event=event,
                         method=method, wording=wording, outreach_id=outreach.id if outreach is not None else None,
                         inbound_sms_id=inbound.id if inbound is not None else None,
                         recorded_by_id=by.id if by is not None else None, created_at=utcnow())
    db.session.add(row)
    return row


def histories(member_ids: list[int]) -> dict[int, list[ContactConsent]]:
    """The consent history of each of these members, newest first (one query)."""
    found: dict[int, list[ContactConsent]] = {member_id: [] for member_id in member_ids}
    if member_ids:
        for row in db.session.scalars(
                select(ContactConsent).where(ContactConsent.family_member_id.in_(member_ids))
                .options(joinedload(ContactConsent.recorded_by))
                .order_by(ContactConsent.created_at.desc(), ContactConsent.id.desc())):
            found[row.family_member_id].append(row)
    return found


def held_counts(member_ids: list[int]) -> dict[int, int]:
    """How many texts wait for consent, per family member (one query)."""
    if not member_ids:
        return {}
    rows = db.session.execute(
        select(Notification.family_member_id, func.count())
        .where(Notification.family_member_id.in_(member_ids), Notification.status == AWAITING_CONSENT)
        .group_by(Notification.family_member_id)).all()
    return {member_id: count for member_id, count in rows}


def record_consent(member: FamilyMember, *, method: str, wording: str | None = None,
                   outreach: Outreach | None = None, inbound: InboundSms | None = None,
                   by: User | None = None) -> int:
    """Put the member's yes to texts on record and send what was held for it; returns how many texts were released.

    After a STOP only the member can turn texts back on, by texting START or YES from that phone.
    """
    if method not in GRANT_METHODS:
        raise ServiceError(f"unknown consent method {method!r}")
    if not member.phone:
        raise ServiceError(str(_l("Add a mobile number first.")), "phone")
    if member.sms_opted_out_at is not None and method not in ("replied_start", "replied_yes"):
        raise ServiceError(str(_l("They replied STOP. Only they can turn texts back on, by texting START to our "
                                  "number.")), "texts_consent")
    now = utcnow()
    member.texts_consent_at = now
    member.texts_consent_wording = wording
    member.texts_consent_method = method
    member.stop_line_sent_at = None  # the first text after consent says how to stop
    _record(member, event="granted", method=method, wording=wording, outreach=outreach, inbound=inbound, by=by)
    db.session.flush()
    audit.record("consent.grant", member, actor=by, method=method, channel="sms")
    return release_held(member)


def record_spoken_consent(member: FamilyMember, outreach: Outreach, *, by: User) -> int:
    """The member said yes to texts on the call logged as this outreach entry."""
    return record_consent(member, method="said_yes_on_call", wording=str(SPOKEN_WORDING), outreach=outreach, by=by)


def record_email_event(member: FamilyMember, *, agreed: bool, address: str, by: User | None) -> None:
    """Staff put the member's yes (or no) to email on record: kept in the consent history beside the texts'."""
    row = _record(member, channel="email", event="granted" if agreed else "revoked",
                  method="told_staff" if agreed else "staff_recorded_refusal", by=by)
    row.address = address
    audit.record("consent.grant" if agreed else "consent.revoke", member, actor=by, channel="email")


def record_texts_turned_off(member: FamilyMember, *, by: User | None) -> None:
    """The member turned texts off in the portal: kept in the history (texts_enabled holds the switch)."""
    if member.phone:
        _record(member, event="revoked", method="turned_off_in_portal", by=by)


def release_held(member: FamilyMember) -> int:
    """Queue the member's texts that waited for consent, the first one with the STOP line; returns how many."""
    held = list(db.session.scalars(
        select(Notification).where(Notification.family_member_id == member.id,
                                   Notification.status == AWAITING_CONSENT).order_by(Notification.id)))
    now = utcnow()
    for message in held:
        if stop_line_due(member, now):
            message.body = with_stop_line(message.body, member.language)
            member.stop_line_sent_at = now
        send_at = now if message.urgent else policy.send_time_for(member)
        message.status = "deferred" if send_at > now else "queued"
        message.next_attempt_at = send_at if send_at > now else None
        if send_at <= now:
            db.session.info.setdefault(policy.OUTBOX_SESSION_KEY, []).append(message.id)
    db.session.flush()
    return len(held)


def stop_line_due(member: FamilyMember, now: datetime | None = None) -> bool:
    """Whether the next text to this member should say "Reply STOP to stop" (first after consent, then monthly)."""
    now = now or utcnow()
    return member.stop_line_sent_at is None or now - member.stop_line_sent_at >= policy.STOP_LINE_EVERY


def stop_line(language: str) -> str:
    """The opt-out line, in the member's language."""
    with force_locale(language):
        return _("Reply STOP to stop.")


def with_stop_line(body: str, language: str) -> str:
    """The text with the opt-out line after it, unless it already says how to stop."""
    line = stop_line(language)
    return body if "STOP" in body else f"{body}\n{line}"


def take_stop_line(member: FamilyMember, body: str) -> str:
    """The body to send now: with the STOP line when one is due (and noted as sent)."""
    if not stop_line_due(member):
        return body
    member.stop_line_sent_at = utcnow()
    return with_stop_line(body, member.language)


def note_request(member: FamilyMember) -> None:
    """The one consent request was queued for this member's number."""
    member.sms_consent_requested_at = utcnow()
    _record(member, event="requested", method="consent_request")


def awaiting_answer(members: list[FamilyMember]) -> list[FamilyMember]:
    """Of the members with this number, those who were asked for consent and have not answered."""
    return [m for m in members if m.sms_consent_requested_at is not None and m.texts_consent_at is None
            and m.sms_opted_out_at is None]


def opt_out_number(session: Session, phone: str, *, now: datetime, inbound: InboundSms | None = None
                   ) -> list[FamilyMember]:
    """Opt a number out and block what is waiting for it; returns the family members who were opted in until now."""
    members = list(session.scalars(select(FamilyMember).where(FamilyMember.phone == phone)))
    newly = [m for m in members if m.sms_opted_out_at is None]
    for member in newly:
        member.sms_opted_out_at = now
        _record(member, event="revoked", method="replied_stop", inbound=inbound)
    session.execute(
        update(Notification)
        .where(Notification.recipient == phone, Notification.channel == "sms", Notification.status.in_(WAITING),
               Notification.kind != policy.OPT_OUT_CONFIRMATION)
        .values(status="blocked", claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return newly


def opt_in_number(session: Session, phone: str, *, inbound: InboundSms | None = None,
                  method: str = "replied_start") -> list[tuple[FamilyMember, int]]:
    """Opt a number back in (START, or YES to the consent request): consent on record for every member with it.

    Returns each member who was opted out or waiting for consent until now, with how many held texts it released.
    """
    members = list(session.scalars(select(FamilyMember).where(FamilyMember.phone == phone)
                                   .order_by(FamilyMember.id)))
    back = []
    for member in members:
        if member.sms_opted_out_at is None and member.texts_consent_at is not None:
            continue
        member.sms_opted_out_at = None
        back.append((member, record_consent(member, method=method, inbound=inbound,
                                            wording=inbound.body[:200] if inbound is not None else None)))
    session.flush()
    return back


def unreachable_numbers(session: Session, numbers: set[str]) -> set[str]:
    """Which of these numbers opted out or cannot get texts (a carrier said so), in one query."""
    if not numbers:
        return set()
    return set(session.scalars(
        select(FamilyMember.phone).where(FamilyMember.phone.in_(numbers),
                                         or_(FamilyMember.sms_opted_out_at.is_not(None),
                                             FamilyMember.phone_not_textable_at.is_not(None)))
    ))


def mark_not_textable(session: Session, phone: str, code: str, *, now: datetime) -> int:
    """Mark every family member with this number "cannot get texts" (with Twilio's code) and flagged, and stop what
    is waiting for it; returns how many members were newly marked."""
    marked = session.execute(
        update(FamilyMember)
        .where(FamilyMember.phone == phone, FamilyMember.phone_not_textable_at.is_(None))
        .values(phone_not_textable_at=now, phone_not_textable_code=code,
                phone_flagged_at=func.coalesce(FamilyMember.phone_flagged_at, now))
        .execution_options(synchronize_session=False)
    ).rowcount
    session.execute(
        update(Notification)
        .where(Notification.recipient == phone, Notification.channel == "sms", Notification.status.in_(WAITING))
        .values(status="blocked", claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    return marked
