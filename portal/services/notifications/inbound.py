"""Texts people send us: consent keywords, replies into the case conversation, and the unmatched inbox."""
from __future__ import annotations

import logging
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ... import audit
from ...errors import ServiceError
from ...extensions import db
from ...models import FamilyMember, InboundSms, Notification, User, utcnow
from ...providers.sms import keywords
from . import consent, policy
from .history import add_to_conversation
from .mms import lead_from_text, record_media
from .outbox import portal_link, queue_sms, render_sms

log = logging.getLogger(__name__)

RECENT_TEXT_DAYS = 30


def _members_with_number(phone: str) -> list[FamilyMember]:
    return list(db.session.scalars(select(FamilyMember).where(FamilyMember.phone == phone).order_by(FamilyMember.id)))


def pick_member(phone: str, members: list[FamilyMember]) -> FamilyMember | None:
    """Whose reply this is: the only family member with the number, or the one we texted last; else unknown.

    A number on several cases is never guessed: its texts wait in the unmatched inbox for staff to place them.
    """
    if len(members) <= 1:
        return members[0] if members else None
    if len({m.case_id for m in members}) > 1:
        return None
    by_id = {m.id: m for m in members}
    recent = db.session.scalar(
        select(Notification.family_member_id)
        .where(Notification.recipient == phone, Notification.family_member_id.in_(by_id),
               Notification.sent_at >= utcnow() - timedelta(days=RECENT_TEXT_DAYS))
        .order_by(Notification.sent_at.desc()).limit(1)
    )
    return by_id.get(recent, members[0])  # one case: the message lands in its thread either way


def _unknown_number_opted_out(phone: str, before_id: int) -> bool:
    """For a number no family member has: whether its last consent keyword was an opt-out."""
    earlier = db.session.scalars(
        select(InboundSms.body).where(InboundSms.from_number == phone, InboundSms.handling == "keyword",
                                      InboundSms.id < before_id)
        .order_by(InboundSms.id.desc()).limit(20)
    )
    for body in earlier:
        word = keywords.classify(body)
        if word in (keywords.OPT_OUT, keywords.OPT_IN):
            return word == keywords.OPT_OUT
    return False


def _reply(phone: str, member: FamilyMember | None, name: str, kind: str, *, asked_in: str = "en",
           **context) -> Notification:
    language = member.language if member is not None else asked_in  # a stranger gets the language they wrote in
    body = render_sms(name, language, link=portal_link(), **context)
    return queue_sms(to=phone, body=body, kind=kind, language=language, urgent=True,
                     case=member.case if member is not None else None, family_member=member)


def _acknowledge_unmatched(inbound: InboundSms, members: list[FamilyMember]) -> None:
    """Tell a sender we could not place (an unknown number, or one on several cases) that their text arrived, once a
    day at most, in words that name no case and no person."""
    since = utcnow() - timedelta(days=1)
    if _unknown_number_opted_out(inbound.from_number, inbound.id) or db.session.scalar(
            select(Notification.id).where(Notification.recipient == inbound.from_number,
                                          Notification.kind == policy.UNMATCHED_RECEIPT,
                                          Notification.created_at >= since).limit(1)) is not None:
        return
    languages = {m.language for m in members}
    _reply(inbound.from_number, None, "unmatched_receipt", policy.UNMATCHED_RECEIPT,
           asked_in=languages.pop() if len(languages) == 1 else keywords.language_of(inbound.body))


def _opt_out(inbound: InboundSms, members: list[FamilyMember]) -> None:
    newly = consent.opt_out_number(db.session, inbound.from_number, now=utcnow(), inbound=inbound)
    for member in newly:
        audit.record("sms.opt_out", member, actor=None, source="text")
    if newly:
        _reply(inbound.from_number, pick_member(inbound.from_number, newly) or newly[0], "opt_out_confirmation",
               policy.OPT_OUT_CONFIRMATION)
    elif not members and not _unknown_number_opted_out(inbound.from_number, inbound.id):
        _reply(inbound.from_number, None, "opt_out_confirmation", policy.OPT_OUT_CONFIRMATION,
               asked_in=keywords.language_of(inbound.body))


def _opt_in(inbound: InboundSms, *, answering_request: bool) -> None:
    """START after a STOP, or YES to the consent request: consent on record, held texts go out."""
    method = "replied_yes" if answering_request else "replied_start"
    back = consent.opt_in_number(db.session, inbound.from_number, inbound=inbound, method=method)
    for member, _released in back:
        audit.record("sms.opt_in", member, actor=None, source="text", method=method)
    if back and not any(released for _member, released in back):  # a released text already says how to stop
        members = [member for member, _released in back]
        name, kind = (("consent_confirmation", "consent_confirmation") if answering_request
                      else ("opt_in_confirmation", "opt_in_confirmation"))
        reply = _reply(inbound.from_number, pick_member(inbound.from_number, members) or members[0], name, kind)
        for member in members:
            member.stop_line_sent_at = reply.created_at


def _help(inbound: InboundSms, members: list[FamilyMember], opted_out: bool) -> None:
    if opted_out or (not members and _unknown_number_opted_out(inbound.from_number, inbound.id)):
        return  # nothing but the one confirmation goes to an opted-out number
    from ..agency import get_agency

    member = pick_member(inbound.from_number, members) or (members[0] if members else None)
    _reply(inbound.from_number, member, "help", "help_reply", asked_in=keywords.language_of(inbound.body),
           agency_phone=get_agency().phone)


def receive_inbound_sms(*, message_sid: str, from_number: str, to_number: str, body: str,
                        media: list[tuple[str, str]] | None = None) -> InboundSms | None:
    """Record a text sent to us and act on it; None when this MessageSid was handled before.

    media: (MediaUrlN, MediaContentTypeN) of its pictures, recorded to be fetched after commit (mms.py)."""
    if db.session.scalar(select(InboundSms.id).where(InboundSms.message_sid == message_sid)) is not None:
        return None
    inbound = InboundSms(message_sid=message_sid, from_number=from_number[:20], to_number=to_number[:20],
                         body=body, handling="unmatched", received_at=utcnow())
    db.session.add(inbound)
    db.session.flush()  # the unique MessageSid also stops a simultaneous duplicate at commit
    members = _members_with_number(inbound.from_number)
    opted_out = any(m.sms_opted_out_at is not None for m in members)
    word = keywords.classify(body)
    asked = bool(consent.awaiting_answer(members))  # we asked this number for consent and it has not answered
    if word == keywords.OPT_IN and not opted_out and not asked and keywords.is_conversational(body):
        word = None  # "yes" from someone who was not asked and never opted out is an answer, not a keyword
    if word is None:
        member = pick_member(inbound.from_number, members)
        if member is not None:
            add_to_conversation(db.session, inbound, member)
        elif not opted_out:
            _acknowledge_unmatched(inbound, members)
        if media:
            record_media(inbound, media)
        log.info("inbound text id=%s handling=%s media=%d", inbound.id, inbound.handling, len(media or []))
        return inbound
    inbound.handling = "keyword"
    owner = pick_member(inbound.from_number, members)
    if owner is not None:
        inbound.family_member_id, inbound.case_id = owner.id, owner.case_id
    if word == keywords.OPT_OUT:
        _opt_out(inbound, members)
    elif word == keywords.OPT_IN:
        _opt_in(inbound, answering_request=asked and not opted_out)
    else:
        _help(inbound, members, opted_out)
    log.info("inbound text id=%s handling=keyword word=%s", inbound.id, word)
    return inbound


def unmatched_texts(limit: int = 100) -> list[InboundSms]:
    """Texts from numbers no family member has, newest first, waiting for staff to link them."""
    return list(db.session.scalars(
        select(InboundSms).where(InboundSms.handling == "unmatched").order_by(InboundSms.received_at.desc(),
                                                                             InboundSms.id.desc()).limit(limit)
    ))


def numbers_on_several_cases(numbers: set[str]) -> set[str]:
    """Which of these numbers family members on more than one case share (one query)."""
    if not numbers:
        return set()
    return set(db.session.scalars(
        select(FamilyMember.phone).where(FamilyMember.phone.in_(numbers)).group_by(FamilyMember.phone)
        .having(func.count(func.distinct(FamilyMember.case_id)) > 1)))


def link_inbound_sms(inbound: InboundSms, member: FamilyMember, *, staff: User) -> None:
    """Put an unmatched text into a family member's conversation (the caller checked the staff may see them)."""
    if inbound.handling != "unmatched":
        raise ServiceError(str(_l("This text was already linked.")))
    add_to_conversation(db.session, inbound, member)
    inbound.linked_by_id = staff.id
    inbound.linked_at = utcnow()
    db.session.flush()
    audit.record("inbound_sms.link", inbound, actor=staff, family_member_id=member.id, case_id=member.case_id)
    lead_from_text(inbound)  # its held pictures become the member's lead (or do, once the last one is fetched)
