"""The two statements behind the contact flags: the contact state of the cases in scope, and every other signal.

Whatever the number of cases, flags take two SELECTs (plus the agency row, loaded once per request):
1. `contact_state`: each case in scope with its family members, and for each the latest real contact (with that
   member, with the whole family, with anyone on the case). Correlated "latest entry" subqueries walk the
   outreach indexes backwards, one short probe per member and per case, so no plan reads all of outreach.
2. `signals`: one UNION ALL of the other inputs (leads waiting, family messages, failed texts, numbers flagged
   wrong, callback requests, no-shows, meeting requests) with the case and member names they need.
The rules that turn these rows into flags are in _flags.py.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Integer, String, and_, case, cast, exists, func, literal_column, null, or_, select, union_all
from sqlalchemy.orm import aliased

from ..models import (
    Agency,
    Appointment,
    Case,
    CaseMessage,
    CaseUpdate,
    FamilyMember,
    Lead,
    OutboxMessage,
    Outreach,
    User,
)
from ..models.types import UTCDateTime
from .contact import NO_CADENCE, counts_as_contact

FAILED_TEXT = ("undelivered", "failed")
GOOD_TEXT = ("sent", "delivered")


def latest_contact(now: datetime, *where):
    """A correlated scalar subquery: when the latest real contact matching `where` happened (None if never)."""
    return (select(Outreach.occurred_at).where(*where, Outreach.occurred_at <= now, counts_as_contact())
            .order_by(Outreach.occurred_at.desc()).limit(1).scalar_subquery())


def scoped(stmt, *, liaison_id: int | None, case_ids):
    """Limit a statement that involves Case to a caseload (as liaison or backup) or to given cases."""
    if liaison_id is not None:
        stmt = stmt.where(or_(Case.liaison_id == liaison_id, Case.backup_liaison_id == liaison_id))
    if case_ids is not None:
        stmt = stmt.where(Case.id.in_(list(case_ids)))
    return stmt


def contact_state(now: datetime, *, liaison_id: int | None = None, case_ids=None, member_ids=None,
                  open_only: bool = True):
    """One row per (case, family member) in scope (a case without members: one row with member columns NULL).

    Columns: case_id, case_number, decedent_name, liaison_id, liaison_name, opened_at, stage_changed_at,
    closed_at, case_last (latest real contact on the case), family_last (latest one naming no member),
    member_id, member_name, cadence, is_spokesperson, preferred_channel, member_updated_at, member_last.
    """
    cases = select(
        Case.id.label("case_id"), Case.case_number, Case.decedent_name, Case.liaison_id,
        User.name.label("liaison_name"), Case.opened_at, Case.stage_changed_at, Case.closed_at,
        latest_contact(now, Outreach.case_id == Case.id).label("case_last"),
        latest_contact(now, Outreach.case_id == Case.id, Outreach.family_member_id.is_(None)).label("family_last"),
    ).outerjoin(User, User.id == Case.liaison_id)
    if open_only:
        cases = cases.where(Case.closed_at.is_(None), Case.opened_at <= now)
    c = scoped(cases, liaison_id=liaison_id, case_ids=case_ids).cte("scope_cases")
    fm = FamilyMember
    # Only members with a regular cadence need their own latest contact (on_change / do_not_contact never do).
    member_last = case((fm.cadence.not_in(NO_CADENCE), latest_contact(now, Outreach.family_member_id == fm.id)))
    stmt = (select(c, fm.id.label("member_id"), fm.name.label("member_name"), fm.cadence, fm.is_spokesperson,
                   fm.preferred_channel, fm.updated_at.label("member_updated_at"), member_last.label("member_last"))
            .select_from(c).outerjoin(fm, fm.case_id == c.c.case_id).order_by(c.c.case_id, fm.id))
    if member_ids is not None:
        stmt = stmt.where(fm.id.in_(list(member_ids)))
    return stmt


def _branch(kind: str, case_id, member_id, ref_id, at, at2=None):
    """One SELECT of the signals union, with the union's columns in order (constants inline, typed NULLs)."""
    return select(
        literal_column(f"'{kind}'", String).label("kind"), case_id.label("case_id"),
        (member_id if member_id is not None else cast(null(), Integer)).label("member_id"),
        (ref_id if ref_id is not None else cast(null(), Integer)).label("ref_id"),
        at.label("at"), (at2 if at2 is not None else cast(null(), UTCDateTime)).label("at2"),
    )


def signals(now: datetime, agency: Agency, *, liaison_id: int | None = None, case_ids=None):
    """Everything but the contact state that can raise a flag, in one statement (see _flags.py for the rules)."""

    def scope(stmt):
        return scoped(stmt, liaison_id=liaison_id, case_ids=case_ids)

    staff_reply = aliased(CaseMessage)
    answered = exists().where(staff_reply.case_id == CaseMessage.case_id, staff_reply.sender == "staff",
                              staff_reply.created_at > CaseMessage.created_at, staff_reply.created_at <= now)
    good = aliased(OutboxMessage)
    later_ok = exists().where(good.family_member_id == OutboxMessage.family_member_id,
                              good.status.in_(GOOD_TEXT), good.created_at > OutboxMessage.created_at)
    branches = [
        scope(_branch("lead", Lead.case_id, None, Lead.id, Lead.created_at).join(Case, Case.id == Lead.case_id)
              .where(Lead.status == "new", Lead.created_at <= now - timedelta(hours=agency.lead_review_hours))),
        scope(_branch("message", CaseMessage.case_id, CaseMessage.family_member_id, None, CaseMessage.created_at)
              .join(Case, Case.id == CaseMessage.case_id)
              .where(CaseMessage.sender == "family", CaseMessage.created_at <= now, ~answered)),
        scope(_branch("text_failed", FamilyMember.case_id, OutboxMessage.family_member_id, None,
                      func.min(OutboxMessage.updated_at))
              .join(FamilyMember, FamilyMember.id == OutboxMessage.family_member_id)
              .join(Case, Case.id == FamilyMember.case_id)
              .where(OutboxMessage.status.in_(FAILED_TEXT), OutboxMessage.to_number == FamilyMember.phone,
                     OutboxMessage.updated_at <= now, ~later_ok)
              .group_by(OutboxMessage.family_member_id, FamilyMember.case_id)),
        scope(_branch("phone_flagged", FamilyMember.case_id, FamilyMember.id, None, FamilyMember.phone_flagged_at)
              .join(Case, Case.id == FamilyMember.case_id)
              .where(FamilyMember.phone_flagged_at.is_not(None), FamilyMember.phone_flagged_at <= now)),
        scope(_branch("callback", Appointment.case_id, Appointment.family_member_id, Appointment.id,
                      Appointment.created_at).join(Case, Case.id == Appointment.case_id)
              .where(Appointment.kind == "callback", Appointment.status == "requested")),
        scope(_branch("no_show", Appointment.case_id, Appointment.family_member_id, Appointment.id,
                      func.coalesce(Appointment.starts_at, Appointment.updated_at))
              .join(Case, Case.id == Appointment.case_id).where(Appointment.status == "no_show")),
        scope(_branch("meeting", CaseUpdate.case_id, None, None, func.max(CaseUpdate.created_at))
              .join(Case, Case.id == CaseUpdate.case_id)
              .where(CaseUpdate.kind == "meeting_request", CaseUpdate.created_at <= now)
              .group_by(CaseUpdate.case_id)),
    ]
    s = union_all(*branches).subquery("signals")
    member = aliased(FamilyMember)
    texts = s.c.kind.in_(("text_failed", "phone_flagged"))
    return (select(s, Case.case_number, Case.decedent_name, Case.liaison_id, User.name.label("liaison_name"),
                   member.name.label("member_name"),
                   case((~texts, latest_contact(now, Outreach.case_id == s.c.case_id))).label("case_last"),
                   case((texts, latest_contact(now, Outreach.family_member_id == s.c.member_id))).label("member_last"))
            .join(Case, Case.id == s.c.case_id).outerjoin(User, User.id == Case.liaison_id)
            .outerjoin(member, and_(member.id == s.c.member_id)))
