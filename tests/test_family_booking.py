"""Booking: open slots in the family's time zone, one person per slot (even at the same instant), .ics, changes."""
from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from icalendar import Calendar
from sqlalchemy import func, select

from portal.models import ACTIVE_SLOT_STATUSES, Appointment, AvailabilityException, Notification
from portal.services import appointments as appts

from . import factories
from . import family_factories as ffac
from .conftest import csrf_from, sign_in

MONDAY_NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # US daylight saving time starts on Sunday March 8
SLOT_RE = re.compile(r'name="start" value="([^"]+)"')


@pytest.fixture
def liaison():
    return factories.make_user(role="liaison", name="Officer Dana Rivera", phone="+13125550101")


@pytest.fixture
def family(client, liaison):
    user, member, case = factories.make_family(case=factories.make_case(liaison=liaison, decedent="Jordan Ellis"))
    sign_in(client, user)
    return {"user": user, "member": member, "case": case}


def _utc(y, m, d, h, mi=0):
    return datetime(y, m, d, h, mi, tzinfo=UTC)


def test_open_slots_are_windows_minus_exceptions_minus_bookings_for_14_days(app, db, liaison):
    _user, member, case = factories.make_family(liaison=liaison)
    ffac.make_window(liaison=liaison, weekday=1, start=time(17, 0), end=time(19, 0))  # Tuesdays
    ffac.make_window(liaison=liaison, weekday=3, start=time(10, 0), end=time(11, 0), slot_minutes=60)  # Thursdays
    db.session.add_all([
        AvailabilityException(liaison_id=liaison.id, day=date(2026, 3, 3), start_time=time(17, 0),
                              end_time=time(18, 0), reason="training"),
        AvailabilityException(liaison_id=liaison.id, day=date(2026, 3, 5), reason="court"),
    ])
    db.session.commit()
    ffac.make_appointment(case=case, member=member, starts_at=_utc(2026, 3, 10, 22, 30))
    ffac.make_appointment(case=case, member=member, starts_at=_utc(2026, 3, 10, 23, 0), status="cancelled")
    with time_machine.travel(MONDAY_NOON, tick=False):
        starts = [slot.starts_at for slot in appts.open_slots(liaison.id)]
    assert starts == [
        _utc(2026, 3, 4, 0, 0), _utc(2026, 3, 4, 0, 30),  # Tue Mar 3, 18:00 and 18:30 Chicago (CST)
        _utc(2026, 3, 10, 22, 0), _utc(2026, 3, 10, 23, 0), _utc(2026, 3, 10, 23, 30),  # Tue Mar 10 (CDT)
        _utc(2026, 3, 12, 15, 0),  # Thu Mar 12, 10:00 CDT; Thu Mar 5 is blocked all day
    ]


def test_slots_are_shown_in_the_family_members_time_zone(app, db, liaison):
    user, member, case = factories.make_family(liaison=liaison)
    member.timezone = "America/Los_Angeles"
    db.session.commit()
    ffac.make_window(liaison=liaison, weekday=1, start=time(17, 0), end=time(17, 30))
    with time_machine.travel(MONDAY_NOON, tick=False):
        client = app.test_client()
        sign_in(client, user)  # the session cookie is signed "now", so sign in inside the frozen time
        page = client.get(f"/my/cases/{case.id}/book").get_data(as_text=True).replace("\u202f", " ")
    assert "3:00 PM" in page and "5:00 PM" not in page  # 17:00 in Chicago is 15:00 in Los Angeles
    assert "Pacific Time" in page


def _book(client, case_id, *, slot=None, mode="phone", reason="About the lab results"):
    page = client.get(f"/my/cases/{case_id}/book").get_data(as_text=True)
    slot = slot or SLOT_RE.findall(page)[0]
    return client.post(f"/my/cases/{case_id}/book", data={"csrf_token": csrf_from(page), "start": slot,
                                                          "mode": mode, "reason": reason}), slot


def test_booking_a_slot_confirms_it_with_a_detail_free_text(daytime, client, db, family, liaison):
    # daytime first: the family signs in and books at 11:00 in Chicago, when a text may go out at once.
    ffac.make_every_day_windows(liaison=liaison)
    response, _slot = _book(client, family["case"].id)
    assert response.status_code == 302
    appointment = db.session.scalar(select(Appointment))
    assert appointment.status == "booked" and appointment.mode == "phone" and appointment.liaison_id == liaison.id
    assert appointment.reason == "About the lab results"
    text = db.session.scalar(select(Notification))
    assert text.kind == "appointment_confirmation" and text.status == "queued"
    assert text.body.startswith("There is an update from ")
    assert text.body.endswith(f"Sign in to read it: http://localhost/my/appointments/{appointment.id}")
    assert "Rivera" not in text.body and "Jordan" not in text.body


def test_detailed_texts_say_when_and_with_whom_and_texts_off_sends_nothing(app, client, db, family, liaison):
    ffac.make_every_day_windows(liaison=liaison)
    member = family["member"]
    member.detailed_texts = True
    db.session.merge(member)
    db.session.commit()
    _book(client, family["case"].id)
    text = db.session.scalar(select(Notification))
    assert "your call with Officer Dana Rivera is booked for" in text.body
    other_user, other_member, other_case = factories.make_family(liaison=liaison, texts_enabled=False)
    other = app.test_client()
    sign_in(other, other_user)
    assert _book(other, other_case.id)[0].status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 1


def test_a_slot_someone_just_took_gives_a_clear_message(app, client, db, family, liaison):
    ffac.make_every_day_windows(liaison=liaison)
    rival_user, _rival_member, rival_case = factories.make_family(liaison=liaison)
    rival = app.test_client()
    sign_in(rival, rival_user)
    page = client.get(f"/my/cases/{family['case'].id}/book").get_data(as_text=True)
    slot = SLOT_RE.findall(page)[0]
    assert _book(rival, rival_case.id, slot=slot)[0].status_code == 302
    taken = client.post(f"/my/cases/{family['case'].id}/book",
                        data={"csrf_token": csrf_from(page), "start": slot, "mode": "video", "reason": "kept words"})
    assert taken.status_code == 409
    html = taken.get_data(as_text=True)
    assert "Sorry, someone just took this time. Please choose another time." in html
    assert html.count('role="alert">Sorry, someone just took this time.') == 1  # said once, on this page only
    assert "someone just took" not in client.get(f"/my/cases/{family['case'].id}/book").get_data(as_text=True)
    assert "kept words" in html and f'value="{slot}"' not in html
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 1


def test_two_people_booking_one_slot_at_the_same_instant_get_one_booking(app, db, liaison, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("truly concurrent writers need PostgreSQL; SQLite serialises them")
    ffac.make_every_day_windows(liaison=liaison)
    people = []
    for _ in range(2):
        user, _member, case = factories.make_family(liaison=liaison)
        c = app.test_client()
        sign_in(c, user)
        people.append((c, case))
    pages = [c.get(f"/my/cases/{case.id}/book").get_data(as_text=True) for c, case in people]
    slot = SLOT_RE.findall(pages[0])[0]
    # Both requests get past the "is it still open?" check before either inserts: only the database decides.
    barrier, real_find = threading.Barrier(2), appts._find_slot

    def find_then_wait(*args, **kwargs):
        found = real_find(*args, **kwargs)
        barrier.wait(timeout=10)
        return found

    monkeypatch.setattr(appts, "_find_slot", find_then_wait)
    results = {}

    def book(index):
        c, case = people[index]
        results[index] = c.post(f"/my/cases/{case.id}/book", data={
            "csrf_token": csrf_from(pages[index]), "start": slot, "mode": "phone", "reason": ""})

    threads = [threading.Thread(target=book, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(r.status_code for r in results.values()) == [302, 409]
    loser = next(r for r in results.values() if r.status_code == 409)
    assert "Sorry, someone just took this time." in loser.get_data(as_text=True)
    active = db.session.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.status.in_(ACTIVE_SLOT_STATUSES)))
    assert active == 1


def test_ics_download_is_a_calendar_event_without_case_details(client, db, family, liaison):
    ffac.make_every_day_windows(liaison=liaison)
    _book(client, family["case"].id)
    appointment = db.session.scalar(select(Appointment))
    response = client.get(f"/my/appointments/{appointment.id}/calendar.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    event = next(c for c in Calendar.from_ical(response.data).walk() if c.name == "VEVENT")
    assert event.decoded("dtstart") == appointment.starts_at
    assert event.decoded("dtend") == appointment.ends_at
    assert "Officer Dana Rivera" in str(event.get("summary"))
    assert "Jordan" not in response.get_data(as_text=True) and "lab results" not in response.get_data(as_text=True)


def test_reschedule_moves_the_call_and_frees_the_old_time(client, db, family, liaison):
    ffac.make_every_day_windows(liaison=liaison)
    _book(client, family["case"].id)
    old = db.session.scalar(select(Appointment))
    page = client.get(f"/my/appointments/{old.id}/reschedule").get_data(as_text=True)
    new_slot = SLOT_RE.findall(page)[2]
    moved = client.post(f"/my/appointments/{old.id}/reschedule",
                        data={"csrf_token": csrf_from(page), "start": new_slot})
    assert moved.status_code == 302
    db.session.expire_all()
    rows = db.session.scalars(select(Appointment).order_by(Appointment.id)).all()
    assert [r.status for r in rows] == ["rescheduled", "booked"]
    assert rows[1].rescheduled_from_id == rows[0].id and rows[1].starts_at != rows[0].starts_at
    assert rows[0].starts_at in {s.starts_at for s in appts.open_slots(liaison.id)}
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 2


def test_cancel_frees_the_slot(client, db, family, liaison):
    ffac.make_every_day_windows(liaison=liaison)
    _book(client, family["case"].id)
    appointment = db.session.scalar(select(Appointment))
    assert appointment.starts_at not in {s.starts_at for s in appts.open_slots(liaison.id)}
    page = client.get(f"/my/appointments/{appointment.id}").get_data(as_text=True)
    assert client.post(f"/my/appointments/{appointment.id}/cancel",
                       data={"csrf_token": csrf_from(page)}).status_code == 302
    db.session.expire_all()
    appointment = db.session.get(Appointment, appointment.id)
    assert appointment.status == "cancelled" and appointment.cancelled_at is not None
    assert appointment.starts_at in {s.starts_at for s in appts.open_slots(liaison.id)}


def test_a_callback_window_can_be_requested(client, db, family):
    page = client.get(f"/my/cases/{family['case'].id}/callback").get_data(as_text=True)
    response = client.post(f"/my/cases/{family['case'].id}/callback", data={
        "csrf_token": csrf_from(page), "window": "weekday_evening", "other_times": "not Fridays", "mode": "video",
        "reason": "Questions about court"})
    assert response.status_code == 302
    appointment = db.session.scalar(select(Appointment))
    assert (appointment.kind, appointment.status, appointment.mode) == ("callback", "requested", "video")
    assert appointment.callback_window == "Weekday evenings (5 to 8): not Fridays"
    assert appointment.starts_at is None


def test_a_relatives_appointment_on_the_same_case_is_not_mine(client, db, family):
    sibling = factories.make_family_member(case=family["case"], user=factories.make_user(role="family"))
    theirs = ffac.make_appointment(case=family["case"], member=sibling)
    assert client.get(f"/my/appointments/{theirs.id}").status_code == 404
    assert client.get(f"/my/appointments/{theirs.id}/calendar.ics").status_code == 404


def test_no_liaison_availability_offers_a_call_back(client, family):
    page = client.get(f"/my/cases/{family['case'].id}/book").get_data(as_text=True)
    assert "There are no open times in the next two weeks." in page and "Ask for a call back" in page
    assert timedelta(days=appts.BOOKING_DAYS) == timedelta(days=14)


def test_pressing_book_twice_keeps_one_booking_and_no_scary_message(client, db, family, liaison):
    ffac.make_every_day_windows(liaison=liaison)
    page = client.get(f"/my/cases/{family['case'].id}/book").get_data(as_text=True)
    slot = SLOT_RE.findall(page)[0]
    data = {"csrf_token": csrf_from(page), "start": slot, "mode": "phone", "reason": ""}
    first = client.post(f"/my/cases/{family['case'].id}/book", data=data)
    second = client.post(f"/my/cases/{family['case'].id}/book", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 1
