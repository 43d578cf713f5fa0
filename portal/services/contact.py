"""Contact policy. This minimal version only answers when a family member's next contact is due.

The staff side replaces this module with the full contact policy; keep the signature of next_contact_due.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from ..extensions import db
from ..models import CADENCE_DAYS, FamilyMember, Outreach, utcnow


def next_contact_due(member: FamilyMember, *, now: datetime | None = None) -> datetime | None:
    """Last outreach with the member (or the case opening) plus their cadence; None for on_change/do_not_contact."""
    days = CADENCE_DAYS.get(member.cadence)
    if days is None:
        return None
    now = now or utcnow()
    last = db.session.scalar(select(func.max(Outreach.occurred_at)).where(
        Outreach.family_member_id == member.id, Outreach.occurred_at <= now))
    return (last or member.case.opened_at) + timedelta(days=days)
