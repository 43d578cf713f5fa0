"""Appointment reminders: 24 hours and 1 hour before, each queued once, in the member's words and time zone."""
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal.extensions import db as _db
from portal.models import Appointment, Notification
from portal.services.reminders import queue_due_reminders
from portal.tasks import appointment_reminders

from . import factories
from .sms_helpers import DAYTIME


def _appointment(*, starts_in: timedelta, booked_before: timedelta = timedelta(days=3), member=None, **fields):
    liaison = factories.make_user(role="liaison", name="Officer Dana Rivera")
    member = member or factories.make_family_member(case=factories.make_case(liaison=liaison))
    starts = DAYTIME + starts_in
    appointment = Appointment(case_id=member.case_id, family_member_id=member.id, liaison_id=liaison.id,
                              starts_at=starts, ends_at=starts + timedelta(minutes=30),
                              created_at=starts - booked_before, **{"status": "booked", **fields})
    _db.session.add(appointment)
    _db.session.commit()
    return appointment


def _texts():
    _db.session.expire_all()
    return _db.session.scalars(select(Notification).order_by(Notification.id)).all()


def test_reminders_go_24_hours_and_1_hour_before_each_once(db):
    appointment = _appointment(starts_in=timedelta(days=2))
    with time_machine.travel(DAYTIME, tick=False) as clock:
        assert queue_due_reminders() == 0
        clock.move_to(appointment.starts_at - timedelta(hours=24))
        assert queue_due_reminders() == 1
        assert queue_due_reminders() == 0  # the next run, or another consumer, finds it taken
        clock.move_to(appointment.starts_at - timedelta(minutes=59))
        assert queue_due_reminders() == 1
        clock.move_to(appointment.starts_at - timedelta(minutes=30))
        appointment_reminders.call_local()  # the periodic huey task runs the same function
    texts = _texts()
    assert [t.kind for t in texts] == ["appointment_reminder", "appointment_reminder"]
    assert "reminder, you have an appointment on Thu, Mar 5, 11:00 AM" in texts[0].body  # Chicago time
    assert "starts in 1 hour, at 11:00 AM" in texts[1].body and texts[1].urgent
    assert "Rivera" not in texts[0].body + texts[1].body  # who it is with is a detail: not on a shared phone


def test_detailed_reminders_say_who_and_how_in_the_members_language(db):
    member = factories.make_family_member(case=factories.make_case(), detailed_texts=True, language="es")
    appointment = _appointment(starts_in=timedelta(days=2), member=member, mode="video")
    with time_machine.travel(appointment.starts_at - timedelta(hours=23), tick=False):
        queue_due_reminders()
    [text] = _texts()
    assert "Officer Dana Rivera" in text.body and "videollamada" in text.body  # Spanish, from the catalog
    assert "jue, 5 mar, 11:00" in text.body and text.language == "es"


@pytest.mark.parametrize("status", ["cancelled", "completed", "requested"])
def test_no_reminder_for_appointments_that_are_not_active(db, status):
    appointment = _appointment(starts_in=timedelta(hours=20), status=status)
    with time_machine.travel(appointment.starts_at - timedelta(hours=20), tick=False):
        assert queue_due_reminders() == 0
    assert _texts() == []


def test_a_late_booking_gets_only_the_one_hour_reminder(db):
    appointment = _appointment(starts_in=timedelta(hours=10), booked_before=timedelta(hours=5))
    with time_machine.travel(appointment.starts_at - timedelta(hours=4), tick=False) as clock:
        assert queue_due_reminders() == 0
        clock.move_to(appointment.starts_at - timedelta(minutes=50))
        assert queue_due_reminders() == 1
    assert "starts in 1 hour" in _texts()[0].body


def test_an_opted_out_member_gets_no_reminder_but_it_is_not_retried(db):
    from portal.models import utcnow

    member = factories.make_family_member(case=factories.make_case(), sms_opted_out_at=utcnow())
    appointment = _appointment(starts_in=timedelta(days=2), member=member)
    with time_machine.travel(appointment.starts_at - timedelta(hours=23), tick=False):
        assert queue_due_reminders() == 1
        assert queue_due_reminders() == 0
    assert _texts() == []


def test_cancelling_an_appointment_withdraws_its_waiting_reminder_and_no_other(app, db):
    from portal.services.appointments import cancel_appointment

    member = factories.make_family_member(case=factories.make_case())
    # Both 24-hour reminders come due at night in Chicago, so they wait (deferred) for 08:00.
    first = _appointment(starts_in=timedelta(days=1, hours=12), member=member)  # Wed 23:00 Chicago
    second = _appointment(starts_in=timedelta(days=1, hours=13), member=member)
    with time_machine.travel(first.starts_at - timedelta(hours=24), tick=False) as clock:
        assert queue_due_reminders() == 1
        clock.move_to(second.starts_at - timedelta(hours=24))
        assert queue_due_reminders() == 1
        assert [t.status for t in _texts()] == ["deferred", "deferred"]
        with app.test_request_context():
            cancel_appointment(appointment=_db.session.get(Appointment, first.id), actor=None)
            _db.session.commit()
    texts = [t for t in _texts() if t.kind == "appointment_reminder"]
    assert [t.status for t in texts] == ["cancelled", "deferred"]  # the second call's reminder still goes
    assert "11:00 PM" in texts[0].body and "12:00 AM" in texts[1].body
