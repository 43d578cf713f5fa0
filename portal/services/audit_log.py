"""Reading the audit log (supervisors and admins): filters shared by the page and the CSV export."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, func, or_, select

from ..extensions import db
from ..models import AuditEvent, User
from ..models.types import db_int
from .reports import local_midnight


@dataclass
class AuditFilters:
    """What the audit log is narrowed to; empty fields mean any."""

    actor: str = ""
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    outcome: str = ""
    start: date | None = None
    end: date | None = None


def audit_query(filters: AuditFilters, *, tz: str) -> Select:
    """Events and their actors (newest first) matching the filters; dates are local to the agency."""
    stmt = select(AuditEvent, User).outerjoin(User, User.id == AuditEvent.actor_id)
    if filters.actor:
        needle = filters.actor.strip()
        if needle.isascii() and needle.isdigit():  # an id ("²" is a digit too, but not a number int() reads)
            stmt = stmt.where(AuditEvent.actor_id == (db_int(needle) or 0))
        else:
            like = f"%{needle.lower()}%"
            stmt = stmt.where(or_(func.lower(User.email).like(like), func.lower(User.name).like(like)))
    if filters.action:
        stmt = stmt.where(AuditEvent.action == filters.action)
    if filters.target_type:
        stmt = stmt.where(AuditEvent.target_type == filters.target_type)
    if filters.target_id:
        stmt = stmt.where(AuditEvent.target_id == filters.target_id.strip())
    if filters.outcome:
        stmt = stmt.where(AuditEvent.outcome == filters.outcome)
    if filters.start:
        stmt = stmt.where(AuditEvent.occurred_at >= local_midnight(filters.start, tz))
    if filters.end:
        stmt = stmt.where(AuditEvent.occurred_at < local_midnight(filters.end + timedelta(days=1), tz))
    return stmt.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())


def audit_choices() -> dict[str, list[str]]:
    """The actions, target types and outcomes that occur, for the filter menus."""
    def values(column):
        return [v for v in db.session.scalars(select(column).distinct().order_by(column)) if v]

    return {"action": values(AuditEvent.action), "target_type": values(AuditEvent.target_type),
            "outcome": values(AuditEvent.outcome)}
