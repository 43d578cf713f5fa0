"""Reminder texts for booked calls: a day before and an hour before, once each, only for calls still on."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from portal.models import Appointment, OutboxMessage
from portal.services.appointment_reminders import queue_due_reminders

from . import factories
from . import family_factories as ffac

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _texts(db):
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _appointment(db, member, case, *, starts_in, booked_ago=timedelta(days=3), status="booked"):
    appointment = ffac.make_appointment(case=case, member=member, starts_at=NOW + starts_in, status=status)
    appointment.created_at = NOW - booked_ago
    db.session.commit()
    return appointment


def test_a_day_before_and_an_hour_before_each_reminder_goes_once(app, db):
    liaison = factories.make_user(role="liaison", name="Officer Dana Rivera")
    _user, member, case = factories.make_family(liaison=liaison, detailed_texts=True)
    appointment = _appointment(db, member, case, starts_in=timedelta(hours=20))
    with app.test_request_context():
        assert queue_due_reminders(now=NOW) == 1
        assert queue_due_reminders(now=NOW + timedelta(minutes=5)) == 0
        db.session.commit()
        assert queue_due_reminders(now=NOW + timedelta(hours=19, minutes=10)) == 1
        db.session.commit()
    texts = _texts(db)
    assert [t.kind for t in texts] == ["appointment_reminder", "appointment_reminder"]
    assert [t.urgent for t in texts] == [False, True]
    assert "a reminder of your call with Officer Dana Rivera" in texts[0].body
    stored = db.session.get(Appointment, appointment.id)
    assert stored.reminder_24h_sent_at is not None and stored.reminder_1h_sent_at is not None


def test_no_reminder_for_cancelled_calls_or_a_day_ahead_of_a_call_booked_today(app, db):
    _user, member, case = factories.make_family(liaison=factories.make_user(role="liaison"))
    _appointment(db, member, case, starts_in=timedelta(hours=5), status="cancelled")
    late = _appointment(db, member, case, starts_in=timedelta(hours=6), booked_ago=timedelta(hours=1))
    with app.test_request_context():
        assert queue_due_reminders(now=NOW) == 0
        db.session.commit()
    assert _texts(db) == []
    assert db.session.get(Appointment, late.id).reminder_24h_sent_at is not None  # marked, never sent later


def test_reminders_carry_no_details_unless_asked(app, db):
    _user, member, case = factories.make_family(liaison=factories.make_user(role="liaison", name="Officer X"))
    _appointment(db, member, case, starts_in=timedelta(minutes=50))
    with app.test_request_context():
        queue_due_reminders(now=NOW)
        db.session.commit()
    (text,) = _texts(db)
    assert text.body.startswith("There is an update from ") and "Officer X" not in text.body
