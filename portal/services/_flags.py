"""The queries behind due_for_contact(): a fixed handful of set-based queries, whatever the number of cases."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from ..extensions import db
from ..models import Agency, Appointment, Case, CaseMessage, CaseUpdate, FamilyMember, Lead, OutboxMessage, Outreach
from .contact import ACT_NOW, LISTED, SOON, Flag, add_business_days, cadence_days, counts_as_contact

FAILED_TEXT = ("undelivered", "failed")
GOOD_TEXT = ("sent", "delivered")


def _scope(stmt, *, liaison_id: int | None, case_ids):
    """Limit a statement that involves Case to the caseload or cases asked for."""
    if liaison_id is not None:
        stmt = stmt.where(or_(Case.liaison_id == liaison_id, Case.backup_liaison_id == liaison_id))
    if case_ids is not None:
        stmt = stmt.where(Case.id.in_(list(case_ids)))
    return stmt


class _Builder:
    """Collects flags; loads the cases it needs (those not already loaded) in one query at the end."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.cases: dict[int, Case] = {}
        self.pending: list[dict] = []

    def add(self, *, kind: str, case_id: int, since: datetime, severity: int = ACT_NOW, **kw) -> None:
        self.pending.append({"kind": kind, "case_id": case_id, "since": since, "severity": severity, **kw})

    def build(self) -> list[Flag]:
        missing = {p["case_id"] for p in self.pending} - set(self.cases)
        if missing:
            for case in db.session.scalars(select(Case).where(Case.id.in_(missing))
                                           .options(joinedload(Case.liaison))):
                self.cases[case.id] = case
        flags = []
        for p in self.pending:
            case = self.cases[p.pop("case_id")]
            member = p.pop("member", None)
            flags.append(Flag(case_id=case.id, case_number=case.case_number, decedent_name=case.decedent_name,
                              liaison_id=case.liaison_id, liaison_name=case.liaison.name if case.liaison else None,
                              now=self.now, member_id=member.id if member else p.pop("member_id", None),
                              member_name=member.name if member else p.pop("member_name", None), **p))
        return flags


def _last_contacts(now, scope) -> tuple[dict[int, datetime], dict[int, datetime], dict[int, datetime]]:
    """Latest real contact per case, per family member, and per case for entries naming no member."""
    rows = db.session.execute(scope(
        select(Outreach.case_id, Outreach.family_member_id, func.max(Outreach.occurred_at))
        .join(Case, Case.id == Outreach.case_id)
        .where(Outreach.occurred_at <= now, counts_as_contact())
        .group_by(Outreach.case_id, Outreach.family_member_id)
    )).all()
    per_case: dict[int, datetime] = {}
    per_member: dict[int, datetime] = {}
    whole_family: dict[int, datetime] = {}
    for case_id, member_id, at in rows:
        per_case[case_id] = max(at, per_case.get(case_id, at))
        if member_id is None:
            whole_family[case_id] = at
        else:
            per_member[member_id] = at
    return per_case, per_member, whole_family


def _contact_flags(b: _Builder, cases, agency: Agency, per_case, per_member, whole_family) -> None:
    """First contact, cadence, stage change and do-not-contact, for open cases."""
    now = b.now
    for case in cases:
        b.cases[case.id] = case
        members = list(case.family_members)
        reachable = [m for m in members if m.cadence != "do_not_contact"]
        for m in members:
            if m.cadence == "do_not_contact":
                b.add(kind="do_not_contact", case_id=case.id, since=m.updated_at or case.opened_at,
                      severity=LISTED, member=m)
        if members and not reachable:
            continue  # the family asked us to wait for them: listed above, never flagged
        contact = per_case.get(case.id)
        first = min(reachable, key=lambda m: (not m.is_spokesperson, m.id)) if reachable else None
        if contact is None:
            waited = now - case.opened_at
            if waited >= timedelta(hours=agency.first_contact_hours):
                severity = ACT_NOW
            elif waited >= timedelta(hours=agency.first_contact_warning_hours):
                severity = SOON
            else:
                severity = None
            if severity is not None:
                b.add(kind="first_contact", case_id=case.id, since=case.opened_at, severity=severity, member=first,
                      due_at=case.opened_at + timedelta(hours=agency.first_contact_hours),
                      channel=(first.preferred_channel if first else None) or "phone")
        else:
            for m in reachable:
                days = cadence_days(m.cadence, agency)
                if days is None:
                    continue
                candidates = [t for t in (per_member.get(m.id), whole_family.get(case.id)) if t is not None]
                anchor = max(candidates) if candidates else case.opened_at
                due = anchor + timedelta(days=days)
                if now >= due:
                    b.add(kind="cadence", case_id=case.id, since=anchor, due_at=due, member=m,
                          channel=m.preferred_channel or "phone", extra={"cadence": m.cadence})
        changed = case.stage_changed_at
        if changed > case.opened_at and (contact is None or contact < changed):
            due = changed + timedelta(days=agency.stage_change_contact_days)
            if now >= due:
                b.add(kind="stage_change", case_id=case.id, since=changed, due_at=due, member=first,
                      channel=(first.preferred_channel if first else None) or "phone")


def _lead_flags(b: _Builder, agency: Agency, scope) -> None:
    limit = b.now - timedelta(hours=agency.lead_review_hours)
    rows = db.session.execute(scope(
        select(Lead.id, Lead.case_id, Lead.created_at).join(Case, Case.id == Lead.case_id)
        .where(Lead.status == "new", Lead.created_at <= limit)
    )).all()
    for lead_id, case_id, created in rows:
        b.add(kind="lead_unreviewed", case_id=case_id, since=created, ref_id=lead_id,
              due_at=created + timedelta(hours=agency.lead_review_hours))


def _message_flags(b: _Builder, agency: Agency, scope, per_case) -> None:
    staff_reply = aliased(CaseMessage)
    answered = exists().where(staff_reply.case_id == CaseMessage.case_id, staff_reply.sender == "staff",
                              staff_reply.created_at > CaseMessage.created_at, staff_reply.created_at <= b.now)
    rows = db.session.execute(scope(
        select(CaseMessage.case_id, CaseMessage.family_member_id, CaseMessage.created_at)
        .join(Case, Case.id == CaseMessage.case_id)
        .where(CaseMessage.sender == "family", CaseMessage.created_at <= b.now, ~answered)
    )).all()
    oldest: dict[int, tuple[datetime, int | None]] = {}
    for case_id, member_id, at in rows:
        contact = per_case.get(case_id)
        if contact is not None and contact >= at:
            continue  # answered by a call, a visit or a text after it
        if case_id not in oldest or at < oldest[case_id][0]:
            oldest[case_id] = (at, member_id)
    for case_id, (at, member_id) in oldest.items():
        due = add_business_days(at, agency.message_reply_business_days, agency.timezone)
        if b.now >= due:
            b.add(kind="message_unanswered", case_id=case_id, since=at, due_at=due, member_id=member_id,
                  channel="portal_message")


def _text_flags(b: _Builder, scope, per_member) -> None:
    good = aliased(OutboxMessage)
    later_ok = exists().where(good.family_member_id == OutboxMessage.family_member_id,
                              good.status.in_(GOOD_TEXT), good.created_at > OutboxMessage.created_at)
    failed = dict(db.session.execute(scope(
        select(OutboxMessage.family_member_id, func.min(OutboxMessage.updated_at))
        .join(FamilyMember, FamilyMember.id == OutboxMessage.family_member_id)
        .join(Case, Case.id == FamilyMember.case_id)
        .where(OutboxMessage.status.in_(FAILED_TEXT), OutboxMessage.to_number == FamilyMember.phone,
               OutboxMessage.updated_at <= b.now, ~later_ok)
        .group_by(OutboxMessage.family_member_id)
    )).all())
    members = db.session.scalars(scope(
        select(FamilyMember).join(Case, Case.id == FamilyMember.case_id)
        .where(or_(FamilyMember.id.in_(list(failed)),
                   and_(FamilyMember.phone_flagged_at.is_not(None), FamilyMember.phone_flagged_at <= b.now)))
    )).all()
    for member in members:
        signals = [t for t in (failed.get(member.id), member.phone_flagged_at) if t is not None and t <= b.now]
        if not signals:
            continue
        at = min(signals)
        contact = per_member.get(member.id)
        if contact is not None and contact >= at:
            continue  # someone reached them after the failure: the number works
        b.add(kind="text_undelivered", case_id=member.case_id, since=at, member=member, channel="phone")


def _appointment_flags(b: _Builder, agency: Agency, scope, per_case) -> None:
    rows = db.session.scalars(scope(
        select(Appointment).join(Case, Case.id == Appointment.case_id)
        .options(joinedload(Appointment.family_member))
        .where(or_(and_(Appointment.kind == "callback", Appointment.status == "requested"),
                   Appointment.status == "no_show"))
    )).all()
    for appt in rows:
        contact = per_case.get(appt.case_id)
        if appt.status == "requested":
            if appt.created_at > b.now or (contact is not None and contact >= appt.created_at):
                continue
            due = add_business_days(appt.created_at, agency.callback_confirm_business_days, agency.timezone)
            if b.now >= due:
                b.add(kind="callback_unconfirmed", case_id=appt.case_id, since=appt.created_at, due_at=due,
                      member=appt.family_member, ref_id=appt.id)
        else:
            missed = appt.starts_at or appt.updated_at
            if missed > b.now or (contact is not None and contact >= missed):
                continue
            b.add(kind="no_show", case_id=appt.case_id, since=missed, member=appt.family_member, ref_id=appt.id)


def _meeting_flags(b: _Builder, scope, per_case) -> None:
    rows = db.session.execute(scope(
        select(CaseUpdate.case_id, func.max(CaseUpdate.created_at)).join(Case, Case.id == CaseUpdate.case_id)
        .where(CaseUpdate.kind == "meeting_request", CaseUpdate.created_at <= b.now)
        .group_by(CaseUpdate.case_id)
    )).all()
    for case_id, at in rows:
        contact = per_case.get(case_id)
        if contact is None or contact < at:
            b.add(kind="meeting_request", case_id=case_id, since=at, channel="phone")


def compute_flags(*, now: datetime, liaison_id: int | None, case_ids, agency: Agency) -> list[Flag]:
    """All flags in scope, unsorted (due_for_contact sorts)."""
    if case_ids is not None:
        case_ids = list(case_ids)
        if not case_ids:
            return []

    def scope(stmt):
        return _scope(stmt, liaison_id=liaison_id, case_ids=case_ids)

    b = _Builder(now)
    per_case, per_member, whole_family = _last_contacts(now, scope)
    open_cases = db.session.scalars(scope(
        select(Case).where(Case.closed_at.is_(None), Case.opened_at <= now)
        .options(joinedload(Case.liaison), selectinload(Case.family_members))
    )).unique().all()
    _contact_flags(b, open_cases, agency, per_case, per_member, whole_family)
    _lead_flags(b, agency, scope)
    _message_flags(b, agency, scope, per_case)
    _text_flags(b, scope, per_member)
    _appointment_flags(b, agency, scope, per_case)
    _meeting_flags(b, scope, per_case)
    return b.build()

