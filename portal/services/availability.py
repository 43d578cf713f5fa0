"""Availability and appointments: weekly windows and exceptions in the agency's zone; confirm, complete, no-show."""
from __future__ import annotations

from datetime import date, time

from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit
from ..errors import ServiceError
from ..extensions import db
from ..models import Appointment, AvailabilityException, AvailabilityWindow, Outreach, User, utcnow
from .notifications.email import queue_family_notice
from .notifications.outbox import portal_link

MODE_CHANNEL = {"phone": "phone", "video": "video", "in_person": "visit"}


def windows_for(liaison: User) -> list[AvailabilityWindow]:
    """A liaison's weekly windows, Monday first."""
    return list(db.session.scalars(select(AvailabilityWindow).where(AvailabilityWindow.liaison_id == liaison.id)
                                   .order_by(AvailabilityWindow.weekday, AvailabilityWindow.start_time)))


def exceptions_for(liaison: User, *, since: date) -> list[AvailabilityException]:
    """A liaison's days off from a date on."""
    return list(db.session.scalars(
        select(AvailabilityException).where(AvailabilityException.liaison_id == liaison.id,
                                            AvailabilityException.day >= since)
        .order_by(AvailabilityException.day, AvailabilityException.start_time)))


def add_window(*, liaison: User, weekday: int, start_time: time, end_time: time,
               slot_minutes: int = 30, by: User | None) -> AvailabilityWindow:
    """Publish a weekly window (e.g. Tuesday 17:00-19:00, agency time); overlapping windows are refused."""
    if weekday not in range(7):
        raise ServiceError(_("Choose a day."), "weekday")
    if end_time <= start_time:
        raise ServiceError(_("The end must be after the start."), "end_time")
    if not 10 <= slot_minutes <= 120:
        raise ServiceError(_("Between 10 and 120 minutes."), "slot_minutes")
    for other in windows_for(liaison):
        if other.weekday == weekday and other.start_time < end_time and start_time < other.end_time:
            raise ServiceError(_("This overlaps a window you already have on that day."), "end_time")
    window = AvailabilityWindow(liaison_id=liaison.id, weekday=weekday, start_time=start_time, end_time=end_time,
                                slot_minutes=slot_minutes)
    db.session.add(window)
    db.session.flush()
    audit.record("availability_window.create", window, actor=by, liaison_id=liaison.id)
    return window


def remove_window(window: AvailabilityWindow, *, by: User | None) -> None:
    """Stop offering a weekly window (booked appointments stay as they are)."""
    audit.record("availability_window.delete", window, actor=by, liaison_id=window.liaison_id,
                 weekday=window.weekday)
    db.session.delete(window)
    db.session.flush()


def add_exception(*, liaison: User, day: date, start_time: time | None = None, end_time: time | None = None,
                  reason: str = "", by: User | None) -> AvailabilityException:
    """Mark a day, or part of one, as not available."""
    if (start_time is None) != (end_time is None):
        raise ServiceError(_("Give both times, or neither for the whole day."), "end_time")
    if start_time is not None and end_time <= start_time:
        raise ServiceError(_("The end must be after the start."), "end_time")
    exception = AvailabilityException(liaison_id=liaison.id, day=day, start_time=start_time, end_time=end_time,
                                      reason=reason.strip())
    db.session.add(exception)
    db.session.flush()
    audit.record("availability_exception.create", exception, actor=by, liaison_id=liaison.id)
    return exception


def remove_exception(exception: AvailabilityException, *, by: User | None) -> None:
    """Remove a day off."""
    audit.record("availability_exception.delete", exception, actor=by, liaison_id=exception.liaison_id)
    db.session.delete(exception)
    db.session.flush()


def confirm_appointment(appointment: Appointment, *, by: User | None) -> None:
    """Confirm a booked slot or a callback request; a callback's family member gets a short text."""
    if appointment.status not in ("requested", "booked"):
        raise ServiceError(_("Only a new request or booking can be confirmed."))
    was = appointment.status
    appointment.status = "confirmed"
    appointment.confirmed_at = utcnow()
    if appointment.liaison_id is None and by is not None:
        appointment.liaison_id = by.id
    member = appointment.family_member
    if appointment.kind == "callback" and member is not None:
        queue_family_notice(member, "callback_confirmed", kind="callback_confirmed",
                         link=portal_link("family.case", case_id=appointment.case_id))
    audit.record("appointment.confirm", appointment, actor=by, case_id=appointment.case_id, status_from=was)


def complete_appointment(appointment: Appointment, *, by: User | None) -> Outreach:
    """Mark an appointment held; it becomes an entry in the outreach log by itself."""
    if appointment.status not in ("requested", "booked", "confirmed"):
        raise ServiceError(_("This appointment is over or was cancelled."))
    now = utcnow()
    appointment.status = "completed"
    appointment.completed_at = now
    held = appointment.starts_at if appointment.starts_at and appointment.starts_at <= now else now
    entry = Outreach(case_id=appointment.case_id, family_member_id=appointment.family_member_id,
                     staff_id=appointment.liaison_id or (by.id if by else None),
                     channel=MODE_CHANNEL.get(appointment.mode, "phone"), direction="outbound", outcome="attended",
                     occurred_at=held, is_system=True, source_type="appointment", source_id=appointment.id,
                     created_by_id=by.id if by else None, created_at=now)
    db.session.add(entry)
    db.session.flush()
    audit.record("appointment.complete", appointment, actor=by, case_id=appointment.case_id,
                 outreach_id=entry.id)
    return entry


def mark_no_show(appointment: Appointment, *, by: User | None) -> None:
    """Mark that the family did not come; "who needs contact" flags it until someone reaches them."""
    if appointment.status not in ("booked", "confirmed"):
        raise ServiceError(_("Only a booked appointment can be marked as missed."))
    if appointment.starts_at is not None and appointment.starts_at > utcnow():
        raise ServiceError(_("This appointment has not started yet."))
    appointment.status = "no_show"
    audit.record("appointment.no_show", appointment, actor=by, case_id=appointment.case_id)
