"""The contact rules, in one place: what counts as a real contact, cadences, severities and business days.

A leaf: it imports nothing of the portal. counts_as_contact() is the only definition of "a real contact"; the
flags and reports use the SQL expression, and the database trigger that keeps each case's and member's latest
contact (models/last_contact.py) is compiled from the same expression (real_contact_sql()).
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, column, exists, or_, select, table

# Outcomes that mean the family actually heard from us (or we from them, in a conversation we held).
CONTACT_OUTCOMES = ("reached", "left_voicemail", "declined", "message_sent", "attended")
# Automatic texts (stage-change notices, reminders) are not a person contacting the family.
AUTOMATIC_SOURCES = ("sms",)

CADENCES = ("weekly", "biweekly", "monthly", "on_change", "do_not_contact")
CADENCE_DAYS = {"weekly": 7, "biweekly": 14, "monthly": 30}
NO_CADENCE = ("on_change", "do_not_contact")  # families who chose no regular contact

ACT_NOW, SOON, LISTED = 2, 1, 0  # flag severities, most urgent first
SEVERITY_NAMES = {ACT_NOW: "act_now", SOON: "soon", LISTED: "listed"}


def counts_as_contact(entry, correction):
    """SQL condition: an outreach entry that counts as contacting the family, and that no correction replaced.

    entry is the Outreach model or an alias of it (or a Core table's .c); correction is another alias of the same
    table, where corrections of entry are looked for, e.g. counts_as_contact(Outreach, aliased(Outreach)).
    """
    return and_(
        entry.outcome.in_(CONTACT_OUTCOMES),
        or_(entry.is_system.is_(False), entry.source_type.is_(None), entry.source_type.not_in(AUTOMATIC_SOURCES)),
        ~exists().where(correction.corrects_id == entry.id),
    )


_OUTREACH = table("outreach", column("id"), column("outcome"), column("is_system"), column("source_type"),
                  column("corrects_id"))


def real_contact_sql(dialect, alias: str = "o") -> str:
    """counts_as_contact() as SQL text for an outreach row named `alias`, for triggers and bulk statements."""
    row = _OUTREACH.alias(alias)
    condition = counts_as_contact(row.c, _OUTREACH.alias("x").c)
    compiled = select(row.c.id).where(condition).compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    return str(compiled).split("WHERE", 1)[1].strip()


def cadence_days(cadence: str, default_days: int) -> int | None:
    """Days between contacts for a cadence; None when the family chose no regular contact."""
    if cadence in NO_CADENCE:
        return None
    return CADENCE_DAYS.get(cadence, default_days)


def next_due(cadence: str, anchor: datetime | None, default_days: int) -> datetime | None:
    """THE cadence rule: the family's chosen cadence after the anchor (the latest real contact, else the opening)."""
    days = cadence_days(cadence, default_days)
    return None if days is None or anchor is None else anchor + timedelta(days=days)


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
