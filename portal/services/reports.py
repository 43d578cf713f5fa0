"""Supervisor reports: contact compliance, time to first contact, overdue families over time, leads per week.

Every figure is computed here, from the same contact rules as the flags (counts_as_contact, cadence_days), over a
date range in the agency's time zone. Liaison figures follow the case's current liaison.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased, selectinload

from ..contact_rules import cadence_days, counts_as_contact
from ..extensions import db
from ..models import Agency, Case, Lead, Outreach

DEFAULT_WEEKS = 12


@dataclass(frozen=True)
class ReportRange:
    """An inclusive range of local dates and the UTC instants that bound it."""

    start: date
    end: date
    tz: str

    @property
    def start_utc(self) -> datetime:
        return local_midnight(self.start, self.tz)

    @property
    def end_utc(self) -> datetime:
        """The first instant after the range (midnight after the end date)."""
        return local_midnight(self.end + timedelta(days=1), self.tz)


def local_midnight(day: date, tz: str) -> datetime:
    """00:00 of a local date, in UTC."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def report_range(*, start: date | None, end: date | None, tz: str, today: date) -> ReportRange:
    """The range asked for, or the last 12 weeks; start and end swap if given backwards."""
    end = end or today
    start = start or end - timedelta(weeks=DEFAULT_WEEKS) + timedelta(days=1)
    if start > end:
        start, end = end, start
    return ReportRange(start=start, end=end, tz=tz)


@dataclass
class ComplianceRow:
    """One liaison's contact due dates in the range, and how many were met on time."""

    liaison_id: int | None
    liaison_name: str
    due: int = 0
    on_time: int = 0

    @property
    def missed(self) -> int:
        return self.due - self.on_time

    @property
    def percent(self) -> float | None:
        return round(100 * self.on_time / self.due, 1) if self.due else None


@dataclass
class FirstContactRow:
    """Cases opened in the range: how long until the first contact."""

    liaison_id: int | None
    liaison_name: str
    opened: int = 0
    waiting: int = 0
    hours: list[float] | None = None

    @property
    def median_hours(self) -> float | None:
        return round(median(self.hours), 1) if self.hours else None


@dataclass
class LeadWeek:
    """Leads received in one week (Monday to Sunday) and how fast they were first reviewed."""

    week_start: date
    received: int = 0
    review_hours: list[float] | None = None

    @property
    def reviewed(self) -> int:
        return len(self.review_hours or [])

    @property
    def median_review_hours(self) -> float | None:
        return round(median(self.review_hours), 1) if self.review_hours else None


def _hours(delta: timedelta) -> float:
    return max(delta.total_seconds(), 0) / 3600


def _cases_and_contacts(rng: ReportRange, now: datetime):
    """Cases open at some point in the range (with members and liaison) and their real contacts up to the end."""
    until = min(rng.end_utc, now)
    cases = db.session.scalars(
        select(Case).where(Case.opened_at < until, or_(Case.closed_at.is_(None), Case.closed_at > rng.start_utc))
        .options(selectinload(Case.family_members), selectinload(Case.liaison)).order_by(Case.id)
    ).all()
    contacts: dict[int, list[tuple[int | None, datetime]]] = defaultdict(list)
    rows = db.session.execute(
        select(Outreach.case_id, Outreach.family_member_id, Outreach.occurred_at)
        .join(Case, Case.id == Outreach.case_id)
        .where(Outreach.occurred_at <= until, counts_as_contact(Outreach, aliased(Outreach)), Case.opened_at < until,
               or_(Case.closed_at.is_(None), Case.closed_at > rng.start_utc))
        .order_by(Outreach.occurred_at)
    ).all()
    for case_id, member_id, at in rows:
        contacts[case_id].append((member_id, at))
    return cases, contacts, until


def _member_times(contacts, member_id: int) -> list[datetime]:
    return [at for mid, at in contacts if mid is None or mid == member_id]


def _name(case: Case) -> tuple[int | None, str]:
    return (case.liaison_id, case.liaison.name) if case.liaison else (None, "—")


def contact_compliance(rng: ReportRange, *, now: datetime, agency: Agency) -> list[ComplianceRow]:
    """Per liaison: of the cadence due dates that fell in the range, how many were met by a contact in time."""
    cases, contacts, until = _cases_and_contacts(rng, now)
    rows: dict[int | None, ComplianceRow] = {}
    for case in cases:
        limit = min(until, case.closed_at) if case.closed_at else until
        row = rows.setdefault(case.liaison_id, ComplianceRow(*_name(case)))
        for member in case.family_members:
            days = cadence_days(member.cadence, agency.default_cadence_days)
            if days is None:
                continue
            times = _member_times(contacts[case.id], member.id)
            anchor = case.opened_at
            while (due := anchor + timedelta(days=days)) < limit:
                in_time = [t for t in times if anchor < t <= due]
                if in_time:
                    met, anchor = True, max(in_time)
                else:
                    later = [t for t in times if t > due]
                    met, anchor = False, (later[0] if later else due)
                if due >= rng.start_utc:
                    row.due += 1
                    row.on_time += int(met)
    return sorted(rows.values(), key=lambda r: r.liaison_name)


def first_contact_times(rng: ReportRange, *, now: datetime) -> list[FirstContactRow]:
    """Per liaison: cases opened in the range, the median hours to the first contact, and those still waiting."""
    cases, contacts, _until = _cases_and_contacts(rng, now)
    rows: dict[int | None, FirstContactRow] = {}
    for case in cases:
        if not rng.start_utc <= case.opened_at < rng.end_utc:
            continue
        row = rows.setdefault(case.liaison_id, FirstContactRow(*_name(case), hours=[]))
        row.opened += 1
        if contacts[case.id]:
            row.hours.append(round(_hours(contacts[case.id][0][1] - case.opened_at), 2))
        else:
            row.waiting += 1
    return sorted(rows.values(), key=lambda r: r.liaison_name)


def sample_points(rng: ReportRange, now: datetime) -> list[tuple[date, datetime]]:
    """The instants the overdue count is taken at: the end of each day (each week for long ranges), up to now."""
    step = 1 if (rng.end - rng.start).days < 62 else 7
    points, day = [], rng.start + timedelta(days=step - 1)
    while day <= rng.end:
        at = min(local_midnight(day + timedelta(days=1), rng.tz), now)
        points.append((day, at))
        if at == now:
            break
        day += timedelta(days=step)
    return points


def overdue_at(case: Case, contacts, at: datetime, agency: Agency) -> bool:
    """Whether a family was overdue for first contact or for its cadence at a given instant."""
    if case.opened_at > at or (case.closed_at is not None and case.closed_at <= at):
        return False
    members = [m for m in case.family_members if m.created_at <= at]
    reachable = [m for m in members if m.cadence != "do_not_contact"]
    if members and not reachable:
        return False
    seen = [(mid, t) for mid, t in contacts if t <= at]
    if not seen:
        return at - case.opened_at >= timedelta(hours=agency.first_contact_hours)
    for member in reachable:
        days = cadence_days(member.cadence, agency.default_cadence_days)
        if days is None:
            continue
        times = _member_times(seen, member.id)
        if (max(times) if times else case.opened_at) + timedelta(days=days) <= at:
            return True
    return False


def overdue_over_time(rng: ReportRange, *, now: datetime, agency: Agency) -> list[tuple[date, int]]:
    """How many families were overdue (first contact or cadence) at the end of each day or week."""
    cases, contacts, _until = _cases_and_contacts(rng, now)
    return [(day, sum(overdue_at(c, contacts[c.id], at, agency) for c in cases))
            for day, at in sample_points(rng, now)]


def leads_per_week(rng: ReportRange, *, now: datetime) -> list[LeadWeek]:
    """Leads received per week (weeks start on Monday) and the median hours until first review."""
    first_monday = rng.start - timedelta(days=rng.start.weekday())
    weeks: dict[date, LeadWeek] = {}
    day = first_monday
    while day <= rng.end:
        weeks[day] = LeadWeek(week_start=day, review_hours=[])
        day += timedelta(days=7)
    rows = db.session.execute(
        select(Lead.created_at, Lead.reviewed_at)
        .where(Lead.created_at >= rng.start_utc, Lead.created_at < min(rng.end_utc, now))
    ).all()
    zone = ZoneInfo(rng.tz)
    for created, reviewed in rows:
        local = created.astimezone(zone).date()
        week = weeks[local - timedelta(days=local.weekday())]
        week.received += 1
        if reviewed is not None and reviewed <= now:
            week.review_hours.append(round(_hours(reviewed - created), 2))
    return list(weeks.values())


def overall_median(values: list[float]) -> float | None:
    """The median of a list, or None when it is empty."""
    return round(median(values), 1) if values else None

