"""Availability windows and exceptions, and the appointments list: confirm, held (a contact), missed (a flag)."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Appointment, AvailabilityException, AvailabilityWindow, Notification, Outreach
from portal.services.contact import due_for_contact

from . import factories
from . import staff_factories as sf
from .conftest import sign_in
from .html_pages import form_with_action

NOW = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)  # Wednesday, noon in Chicago


@pytest.fixture
def liaison(client, time_machine):
    time_machine.move_to(NOW, tick=False)
    user = factories.make_user(role="liaison")
    sign_in(client, user)
    return user


def _submit(client, page, action, **values):
    form = form_with_action(client.get(page).get_data(as_text=True), action)
    response = client.post(form.action, data=form.data(**values))
    db.session.commit()
    return response


def test_a_liaison_publishes_a_weekly_window_in_agency_time(client, liaison):
    response = _submit(client, "/staff/availability", "/staff/availability/windows", **{
        "window-weekday": "1", "window-start_time": "17:00", "window-end_time": "19:00", "window-slot_minutes": "30"})
    assert response.status_code == 302
    window = db.session.scalar(select(AvailabilityWindow))
    assert (window.liaison_id, window.weekday, window.start_time, window.end_time) == \
        (liaison.id, 1, time(17), time(19))
    page = client.get("/staff/availability").get_data(as_text=True)
    assert "Tuesday 17:00–19:00" in page and "America/Chicago" in page


@pytest.mark.parametrize("start,end,message", [
    ("19:00", "17:00", "The end must be after the start."),
    ("18:00", "20:00", "This overlaps a window you already have on that day."),
])
def test_a_backwards_or_overlapping_window_is_refused(client, liaison, start, end, message):
    sf.make_window(liaison=liaison, weekday=1)
    response = _submit(client, "/staff/availability", "/staff/availability/windows", **{
        "window-weekday": "1", "window-start_time": start, "window-end_time": end, "window-slot_minutes": "30"})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert len(db.session.scalars(select(AvailabilityWindow)).all()) == 1


def test_days_off_and_removing_a_window(client, liaison):
    window = sf.make_window(liaison=liaison, weekday=3)
    _submit(client, "/staff/availability", "/staff/availability/exceptions", **{
        "exception-day": "2026-03-12", "exception-reason": "Court"})
    exception = db.session.scalar(select(AvailabilityException))
    assert (str(exception.day), exception.start_time, exception.reason) == ("2026-03-12", None, "Court")
    half = _submit(client, "/staff/availability", "/staff/availability/exceptions", **{
        "exception-day": "2026-03-13", "exception-start_time": "09:00"})
    assert half.status_code == 422 and "Give both times" in half.get_data(as_text=True)
    _submit(client, "/staff/availability", f"/staff/availability/windows/{window.id}/delete")
    assert db.session.scalar(select(AvailabilityWindow)) is None


def test_a_liaison_cannot_touch_anothers_availability_but_a_supervisor_can(app, client, liaison):
    other = factories.make_user(role="liaison")
    window = sf.make_window(liaison=other)
    assert client.get(f"/staff/availability?liaison={other.id}").status_code == 404
    supervisor = app.test_client()
    sign_in(supervisor, factories.make_user(role="supervisor"))
    page = supervisor.get(f"/staff/availability?liaison={other.id}").get_data(as_text=True)
    form = form_with_action(page, f"/staff/availability/windows/{window.id}/delete")
    assert supervisor.post(form.action, data=form.data()).status_code == 302
    db.session.commit()
    assert db.session.scalar(select(AvailabilityWindow)) is None


@pytest.fixture
def family(liaison):
    case = factories.make_case(liaison=liaison, opened_at=NOW - timedelta(days=10))
    member = factories.make_family_member(case=case, name="Rosa Díaz", phone="+13125550150")
    factories.make_outreach(case=case, member=member, staff=liaison, occurred_at=NOW - timedelta(days=9))
    return case, member


def test_confirming_a_callback_request_texts_the_family_and_clears_its_flag(client, liaison, family):
    case, member = family
    callback = sf.make_appointment(case=case, member=member, kind="callback", status="requested",
                                   created_at=NOW - timedelta(days=2), callback_window="Weekday evenings")
    assert "callback_unconfirmed" in [f.kind for f in due_for_contact(case_ids=[case.id])]
    db.session.commit()
    page = client.get("/staff/appointments?show=requested").get_data(as_text=True)
    assert "Weekday evenings" in page and "Rosa Díaz" in page
    form = form_with_action(page, f"/staff/appointments/{callback.id}/confirm")
    client.post(form.action, data=form.data())
    db.session.commit()
    callback = db.session.get(Appointment, callback.id)
    assert callback.status == "confirmed" and callback.confirmed_at == NOW
    assert db.session.scalar(select(Notification)).kind == "callback_confirmed"
    assert "callback_unconfirmed" not in [f.kind for f in due_for_contact(case_ids=[case.id])]


def test_a_held_appointment_becomes_a_contact_by_itself(client, liaison, family):
    case, member = family
    slot = sf.make_appointment(case=case, member=member, status="confirmed", mode="video",
                               starts_at=NOW - timedelta(hours=1), ends_at=NOW - timedelta(minutes=30))
    page = client.get("/staff/appointments?show=past").get_data(as_text=True)
    form = form_with_action(page, f"/staff/appointments/{slot.id}/complete")
    client.post(form.action, data=form.data())
    db.session.commit()
    entry = db.session.scalar(select(Outreach).where(Outreach.is_system.is_(True)))
    assert (entry.source_type, entry.source_id, entry.channel, entry.outcome, entry.occurred_at) == \
        ("appointment", slot.id, "video", "attended", NOW - timedelta(hours=1))
    assert db.session.get(Appointment, slot.id).status == "completed"
    assert due_for_contact(case_ids=[case.id]) == []  # the cadence counts from the meeting


def test_a_missed_appointment_flags_the_family(client, liaison, family):
    case, member = family
    slot = sf.make_appointment(case=case, member=member, status="booked", starts_at=NOW - timedelta(hours=2))
    future = sf.make_appointment(case=case, member=member, status="booked", starts_at=NOW + timedelta(days=1))
    page = client.get("/staff/appointments?show=all").get_data(as_text=True)
    assert f"/staff/appointments/{future.id}/no-show" not in page  # cannot miss what has not started
    form = form_with_action(page, f"/staff/appointments/{slot.id}/no-show")
    client.post(form.action, data=form.data())
    db.session.commit()
    assert db.session.get(Appointment, slot.id).status == "no_show"
    assert [f.kind for f in due_for_contact(case_ids=[case.id])] == ["no_show"]
    client.post(f"/staff/appointments/{future.id}/no-show", data=form.data())
    db.session.commit()
    assert db.session.get(Appointment, future.id).status == "booked"
