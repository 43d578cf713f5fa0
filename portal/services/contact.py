"""The contact policy: who is due or overdue for contact, computed from the data, and the outreach log.

due_for_contact() is the one function behind the staff home page, the daily digest and the tests. Nothing here
is stored by hand: a flag disappears as soon as the data that raised it changes (a contact is logged, a lead is
opened, a callback is confirmed...).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import aliased

from .. import audit
from ..extensions import db
from ..models import CADENCE_DAYS, CHANNELS, DIRECTIONS, OUTCOMES, Case, FamilyMember, Outreach, User, utcnow
from .agency import get_agency

# Outcomes that mean the family actually heard from us (or we from them, in a conversation we held).
CONTACT_OUTCOMES = ("reached", "left_voicemail", "declined", "message_sent", "attended")
# Automatic texts (stage-change notices, reminders) are not a person contacting the family.
AUTOMATIC_SOURCES = ("sms",)
NO_CADENCE = ("on_change", "do_not_contact")

ACT_NOW, SOON, LISTED = 2, 1, 0
SEVERITY_NAMES = {ACT_NOW: "act_now", SOON: "soon", LISTED: "listed"}


class OutreachError(ValueError):
    """A contact that cannot be logged as given; the message is safe to show, field names the input at fault."""

    def __init__(self, message: str, field: str = "notes") -> None:
        super().__init__(message)
        self.field = field


def counts_as_contact(entry=Outreach):
    """SQL condition: an outreach entry that counts as contacting the family (and is not corrected away).

    `entry` is Outreach or an alias of it. A correction is found through the partial index on corrects_id.
    """
    correction = aliased(Outreach)
    return and_(
        entry.outcome.in_(CONTACT_OUTCOMES),
        or_(entry.is_system.is_(False), entry.source_type.is_(None), entry.source_type.not_in(AUTOMATIC_SOURCES)),
        ~exists().where(correction.corrects_id == entry.id),
    )


def cadence_days(cadence: str, agency=None) -> int | None:
    """Days between contacts for a cadence; None when the family chose no regular contact."""
    if cadence in NO_CADENCE:
        return None
    if cadence in CADENCE_DAYS:
        return CADENCE_DAYS[cadence]
    return (agency or get_agency()).default_cadence_days


def add_business_days(start: datetime, days: int, tz: str) -> datetime:
    """start plus whole business days (Monday to Friday) in the agency's zone; a weekend start counts from Monday."""
    local = start.astimezone(ZoneInfo(tz))
    if local.weekday() >= 5:
        local = (local + timedelta(days=7 - local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    added = 0
    while added < days:
        local += timedelta(days=1)
        if local.weekday() < 5:
            added += 1
    return local.astimezone(UTC)


def age_words(delta: timedelta) -> str:
    """A duration in plain words: hours up to three days, then days."""
    hours = int(delta.total_seconds() // 3600)
    if hours < 1:
        return _("less than an hour")
    if hours < 72:
        return ngettext("%(num)d hour", "%(num)d hours", hours)
    days = hours // 24
    return ngettext("%(num)d day", "%(num)d days", days)


CADENCE_WORDS = {"weekly": _l("every week"), "biweekly": _l("every 2 weeks"), "monthly": _l("every month")}

REASONS = {
    "first_contact": _l("No first contact for %(age)s"),
    "cadence": _l("Not contacted for %(age)s (asked for contact %(cadence)s)"),
    "stage_change": _l("Stage changed %(age)s ago and the family has not been contacted since"),
    "lead_unreviewed": _l("A lead has waited %(age)s for review"),
    "message_unanswered": _l("A message from the family has waited %(age)s for a reply"),
    "text_undelivered": _l("Texts are not getting through for %(age)s: the number may be wrong"),
    "callback_unconfirmed": _l("A callback request has waited %(age)s for confirmation"),
    "meeting_request": _l("Asked %(age)s ago for a meeting about the prosecutor's decision"),
    "no_show": _l("Missed an appointment %(age)s ago"),
    "do_not_contact": _l("Asked not to be contacted; they will reach out (for %(age)s)"),
}


@dataclass(frozen=True)
class Flag:
    """One reason a family needs attention: what, who, since when and what to do."""

    kind: str
    severity: int
    case_id: int
    case_number: str
    decedent_name: str
    liaison_id: int | None
    liaison_name: str | None
    since: datetime
    now: datetime
    member_id: int | None = None
    member_name: str | None = None
    due_at: datetime | None = None
    ref_id: int | None = None  # the lead, appointment or text behind the flag
    channel: str = "phone"
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def age(self) -> timedelta:
        return self.now - self.since

    @property
    def level(self) -> str:
        return SEVERITY_NAMES[self.severity]

    @property
    def reason(self) -> str:
        """Why, in plain words (in the current language)."""
        cadence = CADENCE_WORDS.get(self.extra.get("cadence", ""), "")
        return str(REASONS[self.kind]) % {"age": age_words(self.age), "cadence": cadence}

    @property
    def sort_key(self) -> tuple:
        return (-self.severity, self.since, self.case_number, self.kind, self.member_id or 0)


def _liaison_id(liaison) -> int | None:
    return liaison if isinstance(liaison, int) or liaison is None else liaison.id


def due_for_contact(*, now: datetime | None = None, liaison: User | int | None = None,
                    case_ids=None) -> list[Flag]:
    """Every flag for the cases in scope (a liaison's caseload, given cases, or all), sorted by severity then age."""
    from ._flags import compute_flags

    flags, _anchors = compute_flags(now=now or utcnow(), liaison_id=_liaison_id(liaison), case_ids=case_ids,
                                    agency=get_agency())
    return flags


def flags_page(*, liaison: User | int | None = None, page: int = 1, per_page: int = 50, listed_limit: int = 50,
               now: datetime | None = None):
    """One page of due_for_contact() for the dashboard (and the totals), without building the whole list."""
    from ._flags import flag_page

    return flag_page(now=now or utcnow(), liaison_id=_liaison_id(liaison), agency=get_agency(), page=page,
                     per_page=per_page, listed_limit=listed_limit)


def _next_due(cadence: str, anchor: datetime | None, agency) -> datetime | None:
    """THE cadence rule: the family's chosen cadence after the anchor (see _flag_queries.cadence_anchor)."""
    days = cadence_days(cadence, agency)
    return None if days is None or anchor is None else anchor + timedelta(days=days)


def next_contacts_due(members, *, now: datetime | None = None) -> dict[int, datetime | None]:
    """When each family member is next due for contact, by member id, from one query for them all.

    The family's chosen cadence after the latest real contact with that member or with the whole family (an entry
    naming no one), else after the case opened; automatic texts do not count. None for on_change/do_not_contact.
    The cadence flag is raised by the same rule, on the same SQL anchor.
    """
    from ._flag_queries import member_anchors

    members = list(members)
    due: dict[int, datetime | None] = {m.id: None for m in members}
    if not any(m.cadence not in NO_CADENCE for m in members):
        return due
    agency = get_agency()
    for member_id, cadence, anchor in db.session.execute(member_anchors(), {"now": now or utcnow(),
                                                                          "member_ids": list(due)}):
        due[member_id] = _next_due(cadence, anchor, agency)
    return due


def next_contact_due(member: FamilyMember, *, now: datetime | None = None) -> datetime | None:
    """When this family member is next due for contact (see next_contacts_due); one query."""
    return next_contacts_due([member], now=now)[member.id]


def case_contact_overview(case: Case, *, now: datetime | None = None) -> tuple[list[Flag], dict[int, datetime | None]]:
    """A case's flags (sorted) and each member's next contact due: two statements, whatever the case holds."""
    from ._flags import compute_flags

    agency = get_agency()
    flags, anchors = compute_flags(now=now or utcnow(), liaison_id=None, case_ids=[case.id], agency=agency,
                                   anchors=True)
    due = {member_id: _next_due(cadence, anchor, agency) for member_id, (cadence, anchor) in anchors.items()}
    return flags, due


# --- the outreach log ------------------------------------------------------------------------------------

FUTURE_TOLERANCE = timedelta(minutes=5)


def log_outreach(*, case: Case, staff: User | None, channel: str, direction: str, outcome: str,
                 member: FamilyMember | None = None, occurred_at: datetime | None = None, notes: str = "",
                 corrects: Outreach | None = None, now: datetime | None = None) -> Outreach:
    """Log one contact or attempt with a family (time defaults to now); the matching flag clears at once."""
    now = now or utcnow()
    if channel not in CHANNELS:
        raise OutreachError(_("Choose how you made contact."), "channel")
    if direction not in DIRECTIONS:
        raise OutreachError(_("Choose who reached out."), "direction")
    if outcome not in OUTCOMES:
        raise OutreachError(_("Choose what happened."), "outcome")
    if member is not None and member.case_id != case.id:
        raise OutreachError(_("That person is not on this case."), "member")
    occurred_at = occurred_at or now
    if occurred_at.tzinfo is None:
        raise OutreachError("occurred_at must be timezone-aware", "occurred_at")
    if occurred_at > now + FUTURE_TOLERANCE:
        raise OutreachError(_("The time is in the future. Enter when the contact happened."), "occurred_at")
    if corrects is not None and corrects.case_id != case.id:
        raise OutreachError(_("A correction must be on the same case."))
    entry = Outreach(case_id=case.id, family_member_id=member.id if member else None,
                     staff_id=staff.id if staff else None, channel=channel, direction=direction, outcome=outcome,
                     occurred_at=occurred_at, notes=(notes or "").strip(), is_system=False,
                     corrects_id=corrects.id if corrects else None, created_by_id=staff.id if staff else None,
                     created_at=now)
    db.session.add(entry)
    db.session.flush()
    audit.record("outreach.correct" if corrects else "outreach.log", entry, case_id=case.id,
                 channel=channel, outcome=outcome, corrects_id=corrects.id if corrects else None)
    return entry


def correct_outreach(original: Outreach, *, staff: User | None, **fields) -> Outreach:
    """Correct a logged contact: a new entry that points at the old one; nothing is ever deleted or changed."""
    values = {"channel": original.channel, "direction": original.direction, "outcome": original.outcome,
              "member": original.family_member, "occurred_at": original.occurred_at, "notes": original.notes}
    values.update({k: v for k, v in fields.items() if v is not None})
    return log_outreach(case=original.case, staff=staff, corrects=original, **values)


def contact_history(case_id: int):
    """A SELECT of a case's contacts as they stand (entries replaced by a correction left out), newest first.

    The one place that hides corrected entries: a correction replaces what it corrects, so the family never sees
    both. Add loader options (e.g. the staff member's name) to the returned SELECT.
    """
    correction = aliased(Outreach)
    return (select(Outreach)
            .where(Outreach.case_id == case_id, ~exists().where(correction.corrects_id == Outreach.id))
            .order_by(Outreach.occurred_at.desc(), Outreach.id.desc()))
