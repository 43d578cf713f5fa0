"""The contact policy: who is due or overdue for contact, computed from the data, and the outreach log.

due_for_contact() is the one function behind the staff home page, the daily digest and the tests. Nothing here
is stored by hand: a flag disappears as soon as the data that raised it changes (a contact is logged, a lead is
opened, a callback is confirmed...).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from .. import audit
from ..contact_rules import NO_CADENCE, next_due
from ..errors import ServiceError
from ..extensions import db
from ..models import CHANNELS, DIRECTIONS, OUTCOMES, Case, FamilyMember, Outreach, User, utcnow
from .agency import get_agency
from .flag_queries import member_anchors
from .flags import Flag, FlagPage, compute_flags, flag_page


def _liaison_id(liaison) -> int | None:
    return liaison if isinstance(liaison, int) or liaison is None else liaison.id


def due_for_contact(*, now: datetime | None = None, liaison: User | int | None = None,
                    case_ids=None) -> list[Flag]:
    """Every flag for the cases in scope (a liaison's caseload, given cases, or all), sorted by severity then age."""
    flags, _anchors = compute_flags(now=now or utcnow(), liaison_id=_liaison_id(liaison), case_ids=case_ids,
                                    agency=get_agency())
    return flags


def flags_page(*, liaison: User | int | None = None, page: int = 1, per_page: int = 50, listed_limit: int = 50,
               now: datetime | None = None) -> FlagPage:
    """One page of due_for_contact() for the dashboard (and the totals), without building the whole list."""
    return flag_page(now=now or utcnow(), liaison_id=_liaison_id(liaison), agency=get_agency(), page=page,
                     per_page=per_page, listed_limit=listed_limit)


def next_contacts_due(members, *, now: datetime | None = None) -> dict[int, datetime | None]:
    """When each family member is next due for contact, by member id, from one query for them all.

    The family's chosen cadence after the latest real contact with that member or with the whole family (an entry
    naming no one), else after the case opened; automatic texts do not count. None for on_change/do_not_contact.
    The cadence flag is raised by the same rule, on the same SQL anchor.
    """
    members = list(members)
    due: dict[int, datetime | None] = {m.id: None for m in members}
    if not any(m.cadence not in NO_CADENCE for m in members):
        return due
    agency = get_agency()
    for member_id, cadence, anchor in db.session.execute(member_anchors(), {"now": now or utcnow(),
                                                                          "member_ids": list(due)}):
        due[member_id] = next_due(cadence, anchor, agency.default_cadence_days)
    return due


def next_contact_due(member: FamilyMember, *, now: datetime | None = None) -> datetime | None:
    """When this family member is next due for contact (see next_contacts_due); one query."""
    return next_contacts_due([member], now=now)[member.id]


def case_contact_overview(case: Case, *, now: datetime | None = None) -> tuple[list[Flag], dict[int, datetime | None]]:
    """A case's flags (sorted) and each member's next contact due: two statements, whatever the case holds."""
    agency = get_agency()
    flags, anchors = compute_flags(now=now or utcnow(), liaison_id=None, case_ids=[case.id], agency=agency,
                                   anchors=True)
    default = agency.default_cadence_days
    due = {member_id: next_due(cadence, anchor, default) for member_id, (cadence, anchor) in anchors.items()}
    return flags, due


# --- the outreach log ------------------------------------------------------------------------------------

FUTURE_TOLERANCE = timedelta(minutes=5)


def log_outreach(*, case: Case, staff: User | None, channel: str, direction: str, outcome: str,
                 member: FamilyMember | None = None, occurred_at: datetime | None = None, notes: str = "",
                 corrects: Outreach | None = None, now: datetime | None = None) -> Outreach:
    """Log one contact or attempt with a family (time defaults to now); the matching flag clears at once."""
    now = now or utcnow()
    if channel not in CHANNELS:
        raise ServiceError(_("Choose how you made contact."), "channel")
    if direction not in DIRECTIONS:
        raise ServiceError(_("Choose who reached out."), "direction")
    if outcome not in OUTCOMES:
        raise ServiceError(_("Choose what happened."), "outcome")
    if member is not None and member.case_id != case.id:
        raise ServiceError(_("That person is not on this case."), "member")
    occurred_at = occurred_at or now
    if occurred_at.tzinfo is None:
        raise ServiceError("occurred_at must be timezone-aware", "occurred_at")
    if occurred_at > now + FUTURE_TOLERANCE:
        raise ServiceError(_("The time is in the future. Enter when the contact happened."), "occurred_at")
    if corrects is not None and corrects.case_id != case.id:
        raise ServiceError(_("A correction must be on the same case."), "notes")
    entry = Outreach(case_id=case.id, family_member_id=member.id if member else None,
                     staff_id=staff.id if staff else None, channel=channel, direction=direction, outcome=outcome,
                     occurred_at=occurred_at, notes=(notes or "").strip(), is_system=False,
                     corrects_id=corrects.id if corrects else None, created_by_id=staff.id if staff else None,
                     created_at=now)
    db.session.add(entry)
    db.session.flush()
    audit.record("outreach.correct" if corrects else "outreach.log", entry, actor=staff, case_id=case.id,
                 channel=channel, contact_outcome=outcome, corrects_id=corrects.id if corrects else None)
    return entry


def contact_history(case_id: int):
    """A SELECT of a case's contacts as they stand (entries replaced by a correction left out), newest first.

    The one place that hides corrected entries: a correction replaces what it corrects, so the family never sees
    both. Add loader options (e.g. the staff member's name) to the returned SELECT.
    """
    correction = aliased(Outreach)
    return (select(Outreach)
            .where(Outreach.case_id == case_id, ~exists().where(correction.corrects_id == Outreach.id))
            .order_by(Outreach.occurred_at.desc(), Outreach.id.desc()))
