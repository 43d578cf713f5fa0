"""The portal conversation between a family and its liaison team; every message is also an outreach entry."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import audit
from ..display import first_name
from ..errors import ServiceError
from ..extensions import db
from ..models import Case, CaseMessage, FamilyMember, Notification, Outreach, User, utcnow
from .notifications.notices import queue_notice
from .notifications.outbox import portal_link, queue_family_sms, why_no_text

MAX_MESSAGE = 5000
MAX_TEXT = 1500  # a message sent as a text (Twilio takes 1600 characters; the signature needs a few)


def _clean(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ServiceError(str(_l("Write your message first.")), "body")
    if len(body) > MAX_MESSAGE:
        raise ServiceError(str(_l("Please keep the message under %(n)d characters.", n=MAX_MESSAGE)), "body")
    return body


def _outreach(message: CaseMessage, *, direction: str, outcome: str, member_id: int | None,
              staff_id: int | None) -> Outreach:
    entry = Outreach(case_id=message.case_id, family_member_id=member_id, staff_id=staff_id,
                     channel="portal_message", direction=direction, outcome=outcome, occurred_at=message.created_at,
                     notes="", is_system=True, source_type="portal_message", source_id=message.id,
                     created_by_id=staff_id)
    db.session.add(entry)
    return entry


def post_family_message(*, case: Case, member: FamilyMember, body: str, actor: User | None) -> CaseMessage:
    """A family member writes to the liaison team (staff see it as waiting for a reply)."""
    message = CaseMessage(case_id=case.id, sender="family", family_member_id=member.id,
                          author_id=member.user_id, channel="portal", body=_clean(body), created_at=utcnow())
    db.session.add(message)
    db.session.flush()
    _outreach(message, direction="inbound", outcome="message_received", member_id=member.id, staff_id=None)
    db.session.flush()
    audit.record("case_message.create", message, actor=actor, case_id=case.id, sender="family")
    return message


def post_staff_message(*, case: Case, author: User, body: str, text_to: list[int] | None = None) -> CaseMessage:
    """Staff write to the family: sent as written by text to each member picked in text_to (and to a member without
    an account who chose detailed texts); everyone else gets a detail-free "new message" text, with a one-time link
    when they have no account (see notifications/links.py)."""
    message = CaseMessage(case_id=case.id, sender="staff", author_id=author.id, channel="portal",
                          body=_clean(body), created_at=utcnow())
    db.session.add(message)
    db.session.flush()
    _outreach(message, direction="outbound", outcome="message_sent", member_id=None, staff_id=author.id)
    db.session.flush()
    picked = set(text_to or ())
    if picked and len(message.body) > MAX_TEXT:
        raise ServiceError(str(_l("A text can hold %(n)d characters. Shorten the message, or send it in the portal "
                                  "only.", n=MAX_TEXT)), "body")
    texted = 0
    for member in case.family_members:
        notice = {"kind": "staff_message", "author_name": author.name, "decedent_name": case.decedent_name,
                  "link": portal_link("family.messages", case_id=case.id), "item": message}
        if member.id in picked or (member.user_id is None and member.detailed_texts):
            texted += queue_family_sms(member, "staff_text", kind="staff_text", case_message_id=message.id,
                                       author_first_name=first_name(author.name), body=message.body) is not None
            queue_notice(member, "staff_message", by_text=False, **notice)  # and by email, if they get email
        else:
            queue_notice(member, "staff_message", **notice)
    audit.record("case_message.create", message, actor=author, case_id=case.id, sender="staff", texts=texted)
    return message


def text_recipients(case: Case) -> list[tuple[FamilyMember, str | None]]:
    """Who on this case a staff message can go to by text, each with why not (None: it can)."""
    return [(member, why_no_text(member)) for member in case.family_members if member.phone]


def delivery_of(messages: list[CaseMessage]) -> dict[int, list[Notification]]:
    """The texts that carried each of these messages, by message id (one query)."""
    found: dict[int, list[Notification]] = {}
    ids = [m.id for m in messages if m.sender == "staff"]
    if ids:
        for text in db.session.scalars(select(Notification).where(Notification.case_message_id.in_(ids))
                                       .options(selectinload(Notification.family_member))
                                       .order_by(Notification.id)):
            found.setdefault(text.case_message_id, []).append(text)
    return found


def messages_for(case: Case) -> list[CaseMessage]:
    """The case's conversation, oldest first."""
    return list(db.session.scalars(
        select(CaseMessage).where(CaseMessage.case_id == case.id)
        .options(selectinload(CaseMessage.author), selectinload(CaseMessage.family_member))
        .order_by(CaseMessage.created_at, CaseMessage.id)))


def cases_waiting_for_reply(case_ids: list[int]) -> set[int]:
    """Of these cases, the ones whose latest message came from the family (staff should answer)."""
    if not case_ids:
        return set()
    latest = (select(CaseMessage.case_id, func.max(CaseMessage.id).label("last_id"))
              .where(CaseMessage.case_id.in_(case_ids)).group_by(CaseMessage.case_id).subquery())
    rows = db.session.execute(select(CaseMessage.case_id).join(latest, CaseMessage.id == latest.c.last_id)
                              .where(CaseMessage.sender == "family")).all()
    return {row.case_id for row in rows}
