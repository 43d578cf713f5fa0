"""Appointments: a liaison's open slots, booking, callback requests, rescheduling, cancelling, calendar files."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from icalendar import Alarm, Calendar, Event
from sqlalchemy import Date, String, Time, cast, literal_column, null, select, union_all
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..display import APPOINTMENT_MODE_LABELS, appointment_when, label
from ..errors import Conflict, ServiceError
from ..extensions import db
from ..models import (
    ACTIVE_SLOT_STATUSES,
    APPOINTMENT_MODES,
    Appointment,
    AvailabilityException,
    AvailabilityWindow,
    Case,
    FamilyMember,
    User,
    utcnow,
)
from ..models.types import UTCDateTime
from .agency import get_agency
from .notifications.email import queue_family_notice
from .notifications.outbox import cancel_waiting_texts, portal_link

log = logging.getLogger(__name__)

BOOKING_DAYS = 14
MIN_NOTICE = timedelta(hours=1)  # nobody can book a call that starts in a few minutes
REMINDER_RUN = timedelta(minutes=5)  # a reminder job run writes its texts within moments of claiming them
CALLBACK_WINDOWS = {
    "weekday_morning": _l("Weekday mornings (8 to 12)"),
    "weekday_afternoon": _l("Weekday afternoons (12 to 5)"),
    "weekday_evening": _l("Weekday evenings (5 to 8)"),
    "weekend": _l("Weekends"),
    "any": _l("Any time"),
}


@dataclass(frozen=True)
class Slot:
    """One open time with a liaison, in UTC."""

    starts_at: datetime
    ends_at: datetime


def _overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def open_slots(liaison_id: int | None, *, now: datetime | None = None, days: int = BOOKING_DAYS) -> list[Slot]:
    """The liaison's free slots in the next `days` days: weekly windows minus exceptions minus booked times."""
    if liaison_id is None:
        return []
    now = now or utcnow()
    zone = ZoneInfo(get_agency().timezone)
    first_day = now.astimezone(zone).date()
    last_day = first_day + timedelta(days=days)
    windows = db.session.scalars(select(AvailabilityWindow).where(AvailabilityWindow.liaison_id == liaison_id)).all()
    if not windows:
        return []
    # The liaison's exceptions and booked times in the period, in one statement.
    busy = db.session.execute(union_all(
        select(literal_column("'exception'", String).label("kind"), AvailabilityException.day,
               AvailabilityException.start_time, AvailabilityException.end_time,
               cast(null(), UTCDateTime).label("starts_at"), cast(null(), UTCDateTime).label("ends_at"))
        .where(AvailabilityException.liaison_id == liaison_id, AvailabilityException.day >= first_day,
               AvailabilityException.day <= last_day),
        select(literal_column("'booked'", String), cast(null(), Date), cast(null(), Time), cast(null(), Time),
               Appointment.starts_at, Appointment.ends_at)
        .where(Appointment.liaison_id == liaison_id, Appointment.status.in_(ACTIVE_SLOT_STATUSES),
               Appointment.starts_at.is_not(None), Appointment.starts_at < now + timedelta(days=days + 1),
               Appointment.ends_at > now),
    )).all()
    exceptions = [row for row in busy if row.kind == "exception"]
    booked = [(row.starts_at, row.ends_at) for row in busy if row.kind == "booked"]
    earliest, latest = now + MIN_NOTICE, now + timedelta(days=days)
    slots: dict[datetime, Slot] = {}
    for offset in range(days + 1):
        day = first_day + timedelta(days=offset)
        for window in windows:
            if window.weekday != day.weekday() or window.slot_minutes <= 0:
                continue
            for start, end in _window_slots(day, window, zone):
                if start < earliest or start > latest or _blocked(day, start, end, exceptions, booked, zone):
                    continue
                slots.setdefault(start, Slot(start, end))
    return [slots[key] for key in sorted(slots)]


def _window_slots(day: date, window: AvailabilityWindow, zone: ZoneInfo):
    step = timedelta(minutes=window.slot_minutes)
    start = datetime.combine(day, window.start_time, tzinfo=zone)
    close = datetime.combine(day, window.end_time, tzinfo=zone)
    while start + step <= close:
        yield start.astimezone(ZoneInfo("UTC")), (start + step).astimezone(ZoneInfo("UTC"))
        start += step


def _blocked(day: date, start: datetime, end: datetime, exceptions, booked, zone: ZoneInfo) -> bool:
    for exception in exceptions:
        if exception.day != day:
            continue
        if exception.start_time is None:
            return True
        ex_start = datetime.combine(day, exception.start_time, tzinfo=zone)
        ex_end = datetime.combine(day, exception.end_time or time(23, 59, 59), tzinfo=zone)
        if _overlaps(start, end, ex_start, ex_end):
            return True
    return any(_overlaps(start, end, b_start, b_end or b_start) for b_start, b_end in booked)


def next_open_slot(liaison_id: int | None, *, now: datetime | None = None) -> Slot | None:
    """The first open slot in the next two weeks, if any."""
    slots = open_slots(liaison_id, now=now)
    return slots[0] if slots else None


def _find_slot(liaison_id: int, starts_at: datetime, now: datetime | None) -> Slot:
    for slot in open_slots(liaison_id, now=now):
        if slot.starts_at == starts_at:
            return slot
    taken = db.session.scalar(select(Appointment.id).where(
        Appointment.liaison_id == liaison_id, Appointment.starts_at == starts_at,
        Appointment.status.in_(ACTIVE_SLOT_STATUSES)))
    if taken is not None:
        raise Conflict(str(_l("Sorry, someone just took this time. Please choose another time.")))
    raise ServiceError(str(_l("This time is no longer open. Please choose another time.")))


def _own_booking(member: FamilyMember, liaison_id: int | None, starts_at: datetime) -> Appointment | None:
    return db.session.scalar(select(Appointment).where(
        Appointment.family_member_id == member.id, Appointment.liaison_id == liaison_id,
        Appointment.starts_at == starts_at, Appointment.status.in_(ACTIVE_SLOT_STATUSES)))


def _check(mode: str, reason: str) -> None:
    if mode not in APPOINTMENT_MODES:
        raise ServiceError(str(_l("Choose how you want to talk.")), "mode")
    if len(reason) > 2000:
        raise ServiceError(str(_l("Please keep the reason shorter.")), "reason")


def _insert(appointment: Appointment) -> None:
    """Add the appointment; the database refuses a second active booking of one slot."""
    try:
        with db.session.begin_nested():
            db.session.add(appointment)
            db.session.flush()
    except IntegrityError:
        raise Conflict(str(_l("Sorry, someone just took this time. Please choose another time."))) from None


def _confirm_text(appointment: Appointment, member: FamilyMember, template: str, kind: str) -> None:
    when = appointment_when(appointment.starts_at, member.language, member.timezone)[0] if appointment.starts_at else ""
    queue_family_notice(member, template, kind=kind, mode=appointment.mode, when=when,
                     liaison_name=appointment.liaison.name if appointment.liaison else "",
                     link=portal_link("family.appointment", appointment_id=appointment.id))


def _withdraw_reminders(appointment: Appointment) -> int:
    """Cancel the reminders of a cancelled or moved appointment that have not gone out yet; returns how many."""
    member = appointment.family_member
    if member is None:
        return 0
    withdrawn = 0
    # Outbox rows do not name their appointment; the reminder job writes each text right after it claims it,
    # so this appointment's reminders are those written just after its claim times.
    for claimed_at in (appointment.reminder_24h_sent_at, appointment.reminder_1h_sent_at):
        if claimed_at is not None:
            withdrawn += cancel_waiting_texts(member, kind="appointment_reminder",
                                              queued_between=(claimed_at, claimed_at + REMINDER_RUN))
    return withdrawn


def book_slot(*, case: Case, member: FamilyMember, starts_at: datetime, mode: str, reason: str = "",
              now: datetime | None = None, actor: User | None) -> Appointment:
    """Book one open slot with the case's liaison; raises Conflict if someone got it first."""
    _check(mode, reason)
    mine = _own_booking(member, case.liaison_id, starts_at)
    if mine is not None:  # the same person pressed Book twice: one booking, shown again
        return mine
    slot = _find_slot(case.liaison_id, starts_at, now)
    appointment = Appointment(case_id=case.id, family_member_id=member.id, liaison_id=case.liaison_id, kind="slot",
                              mode=mode, starts_at=slot.starts_at, ends_at=slot.ends_at, reason=reason.strip(),
                              status="booked")
    try:
        _insert(appointment)
    except Conflict:
        mine = _own_booking(member, case.liaison_id, starts_at)
        if mine is None:
            raise
        return mine
    audit.record("appointment.book", appointment, actor=actor, case_id=case.id, mode=mode)
    _confirm_text(appointment, member, "appointment_booked", "appointment_confirmation")
    return appointment


def request_callback(*, case: Case, member: FamilyMember, window: str, mode: str, reason: str = "",
                     other_times: str = "", actor: User | None) -> Appointment:
    """Ask the liaison to call back in a window (e.g. weekday evenings); staff confirm it."""
    _check(mode, reason)
    if window not in CALLBACK_WINDOWS:
        raise ServiceError(str(_l("Choose when we can call you.")), "window")
    label = str(CALLBACK_WINDOWS[window])  # in the family's words and language, like the times they typed
    appointment = Appointment(case_id=case.id, family_member_id=member.id, liaison_id=case.liaison_id,
                              kind="callback", mode=mode, reason=reason.strip(), status="requested",
                              callback_window=(f"{label}: {other_times.strip()}" if other_times.strip()
                                               else label)[:200])
    db.session.add(appointment)
    db.session.flush()
    audit.record("appointment.request_callback", appointment, actor=actor, case_id=case.id, window=window)
    return appointment


def reschedule_appointment(*, appointment: Appointment, starts_at: datetime, mode: str | None = None,
                           now: datetime | None = None, actor: User | None) -> Appointment:
    """Move a booking to another open slot: the old one is marked rescheduled, a new one points back at it."""
    if appointment.status not in ACTIVE_SLOT_STATUSES:
        raise ServiceError(str(_l("This call was already changed or cancelled.")))
    mode = mode or appointment.mode
    _check(mode, "")
    slot = _find_slot(appointment.liaison_id, starts_at, now)
    appointment.status = "rescheduled"
    _withdraw_reminders(appointment)  # the new booking gets its own
    db.session.flush()  # frees the old slot before the new one is taken
    new = Appointment(case_id=appointment.case_id, family_member_id=appointment.family_member_id,
                      liaison_id=appointment.liaison_id, kind="slot", mode=mode, starts_at=slot.starts_at,
                      ends_at=slot.ends_at, reason=appointment.reason, status="booked",
                      rescheduled_from_id=appointment.id)
    _insert(new)
    audit.record("appointment.reschedule", new, actor=actor, case_id=new.case_id, rescheduled_from=appointment.id)
    _confirm_text(new, new.family_member, "appointment_rescheduled", "appointment_confirmation")
    return new


def cancel_appointment(*, appointment: Appointment, actor: User | None) -> None:
    """Cancel a booking or a callback request; the slot opens again for others."""
    if appointment.status not in (*ACTIVE_SLOT_STATUSES, "requested"):
        raise ServiceError(str(_l("This call was already changed or cancelled.")))
    appointment.status = "cancelled"
    appointment.cancelled_at = utcnow()
    withdrawn = _withdraw_reminders(appointment)
    audit.record("appointment.cancel", appointment, actor=actor, case_id=appointment.case_id,
                 reminders_withdrawn=withdrawn)
    if appointment.kind == "slot" and appointment.family_member is not None:
        _confirm_text(appointment, appointment.family_member, "appointment_cancelled", "appointment_confirmation")


def upcoming_for(member: FamilyMember, *, now: datetime | None = None) -> list[Appointment]:
    """The member's booked calls still to come and their open callback requests, soonest first."""
    now = now or utcnow()
    rows = db.session.scalars(select(Appointment).where(
        Appointment.family_member_id == member.id,
        ((Appointment.status.in_(ACTIVE_SLOT_STATUSES)) & (Appointment.ends_at > now))
        | (Appointment.status == "requested"),
    ).order_by(Appointment.starts_at.is_(None), Appointment.starts_at, Appointment.id)).all()
    return list(rows)


def appointment_ics(appointment: Appointment, *, language: str = "en") -> bytes:
    """A calendar file (.ics) for a booked call, with a reminder an hour before. No case details in it."""
    if appointment.starts_at is None:
        raise ServiceError("only booked slots have a time")
    liaison: User | None = appointment.liaison
    host = current_app.config["PUBLIC_BASE_URL"].split("//")[-1].split("/")[0] or "portal"
    with force_locale(language):
        summary = str(_l("%(mode)s with %(name)s", mode=label(APPOINTMENT_MODE_LABELS, appointment.mode),
                         name=liaison.name if liaison else _l("your liaison officer")))
        description = str(_l("To change or cancel, sign in to the portal: %(link)s",
                             link=portal_link("family.appointment", appointment_id=appointment.id)))
        reminder = str(_l("Call with your liaison officer in 1 hour"))
    calendar = Calendar()
    calendar.add("prodid", "-//Family Liaison Portal//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"appointment-{appointment.id}@{host}")
    event.add("dtstamp", utcnow())
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at or appointment.starts_at + timedelta(minutes=30))
    event.add("summary", summary)
    event.add("description", description)
    event.add("status", "CANCELLED" if appointment.status == "cancelled" else "CONFIRMED")
    event.add("sequence", 1 if appointment.status == "cancelled" else 0)
    if appointment.mode == "in_person" and get_agency().address:
        event.add("location", get_agency().address)
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", reminder)
    alarm.add("trigger", timedelta(hours=-1))
    event.add_component(alarm)
    calendar.add_component(event)
    return calendar.to_ical()
