"""The optional daily digest: each staff member who asked for it gets a count of their flags (text or print).

Built from due_for_contact(), the same function as the staff home page, so the digest never disagrees with it.
portal/tasks.py runs send_daily_digests() every hour; it sends at DIGEST_HOUR in the agency's time zone, once a
day per person. `flask send-digests` runs send_digests() by hand or from cron.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time

from flask_babel import force_locale
from sqlalchemy import select

from .. import audit
from ..contact_rules import ACT_NOW, LISTED
from ..display import zone
from ..extensions import db
from ..models import STAFF_ROLES, AuditEvent, User, utcnow
from .agency import get_agency
from .contact import due_for_contact
from .flags import Flag
from .notifications.outbox import portal_link, queue_sms, render_sms

DIGEST_HOUR = 7  # the scheduled digest goes out at 07:00 in the agency's time zone, before the working day


@dataclass
class Digest:
    """One staff member's summary."""

    user: User
    flags: list[Flag]

    @property
    def act_now(self) -> int:
        return sum(f.severity == ACT_NOW for f in self.flags)


def digest_recipients(*, everyone: bool = False) -> list[User]:
    """Active staff who asked for the digest (or every active liaison with everyone=True)."""
    stmt = select(User).where(User.active.is_(True), User.role.in_(STAFF_ROLES)).order_by(User.id)
    stmt = stmt.where(User.role == "liaison") if everyone else stmt.where(User.daily_digest.is_(True))
    return list(db.session.scalars(stmt))


def build_digest(user: User, *, now: datetime | None = None) -> Digest:
    """The flags on this person's caseload (listed do-not-contact families left out)."""
    flags = [f for f in due_for_contact(now=now or utcnow(), liaison=user) if f.severity > LISTED]
    return Digest(user=user, flags=flags)


def digest_lines(digest: Digest) -> list[str]:
    """A printable digest: case numbers and reasons only (no family names), in the person's language."""
    with force_locale(digest.user.language):
        return [f"{digest.user.name} <{digest.user.email}>: {len(digest.flags)} ({digest.act_now} act now)"] + \
            [f"  {f.case_number}  {f.reason}" for f in digest.flags]


def send_digests(*, now: datetime | None = None, print_only: bool = False, everyone: bool = False,
                 echo: Callable[[str], None] | None = print, skip: frozenset[int] = frozenset()) -> dict[str, int]:
    """Text each recipient with a phone their count of flags, print the rest; nobody with no flags is bothered.

    With echo=None nothing is printed: recipients without a phone are only counted (the scheduled run, whose
    output would land in logs). skip holds the ids of people who already had their digest.
    """
    now = now or utcnow()
    link = portal_link("staff.dashboard")
    counts = {"texted": 0, "printed": 0, "nothing_due": 0, "no_phone": 0}
    for user in digest_recipients(everyone=everyone):
        if user.id in skip:
            continue
        if echo is None and not user.phone:
            counts["no_phone"] += 1
            continue
        digest = build_digest(user, now=now)
        if not digest.flags:
            counts["nothing_due"] += 1
            continue
        if user.phone and not print_only:
            body = render_sms("digest", user.language, count=len(digest.flags), act_now=digest.act_now, link=link)
            queue_sms(to=user.phone, body=body, kind="digest", language=user.language)
            counts["texted"] += 1
        else:
            for line in digest_lines(digest):
                echo(line)
            counts["printed"] += 1
        audit.record("digest.send", user, actor=None, ip=None, flags=len(digest.flags),
                     texted=bool(user.phone and not print_only))
    return counts


def send_daily_digests(*, now: datetime | None = None) -> dict[str, int] | None:
    """The scheduled run: at DIGEST_HOUR agency time, text each recipient who has not had today's digest yet."""
    now = now or utcnow()
    tz = zone(get_agency().timezone)
    local = now.astimezone(tz)
    if local.hour != DIGEST_HOUR:
        return None
    day_start = datetime.combine(local.date(), time(0, 0), tzinfo=tz)
    had_it = db.session.scalars(select(AuditEvent.target_id).where(
        AuditEvent.action == "digest.send", AuditEvent.target_type == User.__tablename__,
        AuditEvent.occurred_at >= day_start))
    return send_digests(now=now, echo=None, skip=frozenset(int(user_id) for user_id in had_it))
