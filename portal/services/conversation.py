"""The portal conversation between a family and its liaison team; every message is also an outreach entry."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import audit
from ..errors import ServiceError
from ..extensions import db
from ..models import Case, CaseMessage, FamilyMember, Outreach, User, utcnow
from .notifications.email import queue_family_notice
from .notifications.outbox import portal_link

MAX_MESSAGE = 5000


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


def post_staff_message(*, case: Case, author: User, body: str) -> CaseMessage:
    """Staff write to the family; each family member with an account and texts on gets a detail-free text."""
    message = CaseMessage(case_id=case.id, sender="staff", author_id=author.id, channel="portal",
                          body=_clean(body), created_at=utcnow())
    db.session.add(message)
    db.session.flush()
    _outreach(message, direction="outbound", outcome="message_sent", member_id=None, staff_id=author.id)
    db.session.flush()
    audit.record("case_message.create", message, actor=author, case_id=case.id, sender="staff")
    for member in case.family_members:
        if member.user_id is not None:
            queue_family_notice(member, "staff_message", kind="staff_message", author_name=author.name,
                             decedent_name=case.decedent_name, link=portal_link("family.messages", case_id=case.id))
    return message


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
