"""Reminder texts for booked calls: a day before and an hour before, once each."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from ..extensions import db
from ..models import ACTIVE_SLOT_STATUSES, Appointment, utcnow
from .family_texts import local_time_words, public_url, text_family_member

REMINDERS = (("reminder_24h_sent_at", timedelta(hours=24), False), ("reminder_1h_sent_at", timedelta(hours=1), True))


def queue_due_reminders(*, now: datetime | None = None) -> int:
    """Queue the 24-hour and 1-hour reminder texts that are due; safe to run from several workers at once."""
    now = now or utcnow()
    queued = 0
    for column_name, ahead, urgent in REMINDERS:
        column = getattr(Appointment, column_name)
        due = db.session.scalars(select(Appointment).where(
            Appointment.status.in_(ACTIVE_SLOT_STATUSES), Appointment.starts_at > now,
            Appointment.starts_at <= now + ahead, column.is_(None))).all()
        for appointment in due:
            # Claim the reminder first, so two workers never both send it.
            claimed = db.session.execute(update(Appointment).where(Appointment.id == appointment.id, column.is_(None))
                                         .values({column_name: now})).rowcount
            booked_late = appointment.created_at > appointment.starts_at - ahead  # the confirmation just went out
            hour_reminder_instead = ahead > timedelta(hours=1) and appointment.starts_at <= now + timedelta(hours=1)
            if not claimed or booked_late or hour_reminder_instead or appointment.family_member is None:
                continue
            sent = text_family_member(
                appointment.family_member, "appointment_reminder", kind="appointment_reminder", urgent=urgent,
                when=local_time_words(appointment.starts_at, appointment.family_member),
                liaison_name=appointment.liaison.name if appointment.liaison else "",
                link=public_url("family.appointment", appointment_id=appointment.id))
            queued += sent is not None
    db.session.flush()
    return queued
