"""Appointment reminders by text, 24 hours and 1 hour before; each goes once even with many consumers.

Each reminder is claimed by an UPDATE guarded on its "sent" column: a second consumer running the same job at the
same time waits for the first one's commit (PostgreSQL row lock; SQLite serialises writers) and then finds it taken.
The caller (tasks.appointment_reminders) commits.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from ..display import appointment_when
from ..extensions import db
from ..models import ACTIVE_SLOT_STATUSES, Appointment, utcnow
from .notifications.email import queue_family_notice
from .notifications.outbox import portal_link

log = logging.getLogger(__name__)

# (column that says it was sent, template, how long before, latest useful moment before, urgent)
REMINDERS = (
    ("reminder_24h_sent_at", "appointment_reminder_24h", timedelta(hours=24), timedelta(hours=2), False),
    ("reminder_1h_sent_at", "appointment_reminder_1h", timedelta(hours=1), timedelta(0), True),
)


def queue_due_reminders(now: datetime | None = None) -> int:
    """Queue every reminder that has come due and was not queued yet; returns how many were handled."""
    now = now or utcnow()
    handled = 0
    for column_name, template, ahead, latest, urgent in REMINDERS:
        column = getattr(Appointment, column_name)
        due = db.session.scalars(
            select(Appointment)
            .where(Appointment.status.in_(ACTIVE_SLOT_STATUSES), Appointment.starts_at.is_not(None),
                   Appointment.family_member_id.is_not(None), column.is_(None),
                   Appointment.starts_at <= now + ahead, Appointment.starts_at > now + latest)
            .options(selectinload(Appointment.family_member), selectinload(Appointment.liaison))
            .order_by(Appointment.starts_at).limit(200)
        ).all()
        for appointment in due:
            # Claim the reminder: a second consumer running the same job finds it already taken. One booked after
            # this reminder's time is claimed too (the booking itself was the reminder), so it never comes back.
            claimed = db.session.execute(
                update(Appointment).where(Appointment.id == appointment.id, column.is_(None))
                .values({column_name: now}).execution_options(synchronize_session=False)
            ).rowcount
            if claimed and appointment.created_at < appointment.starts_at - ahead:
                member = appointment.family_member
                when, at = appointment_when(appointment.starts_at, member.language, member.timezone)
                queue_family_notice(member, template, kind="appointment_reminder", urgent=urgent, when=when, time=at,
                                 mode=appointment.mode,
                                 link=portal_link("family.appointment", appointment_id=appointment.id),
                                 liaison_name=appointment.liaison.name if appointment.liaison else None)
                handled += 1
    if handled:
        log.info("queued %d appointment reminders", handled)
    return handled
