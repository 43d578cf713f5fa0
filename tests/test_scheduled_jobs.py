"""The periodic jobs on huey: outbox sweep and reminders every minute, the daily digest at 07:00 agency time."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import func, select

from portal import tasks
from portal.models import AuditEvent, Notification
from portal.services.agency import get_agency

from . import factories

# Tuesday 3 March 2026 in Chicago (CST, UTC-6): 06:00, 07:00 and 07:59 local time.
SIX_LOCAL = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
SEVEN_LOCAL = SIX_LOCAL + timedelta(hours=1)


def _periodic(task) -> object:
    assert task.task_class in tasks.huey._registry._periodic_tasks, f"{task.name} is not scheduled"
    return task.task_class()


def test_the_sweep_and_the_reminders_run_every_minute_and_the_digest_every_hour():
    for task in (tasks.sweep_outbox, tasks.appointment_reminders):
        schedule = _periodic(task)
        assert all(schedule.validate_datetime(datetime(2026, 3, 3, 9, minute)) for minute in (0, 1, 37, 59))
    digest = _periodic(tasks.daily_digest)
    assert [h for h in range(24) if digest.validate_datetime(datetime(2026, 3, 3, h, 0))] == list(range(24))
    assert not digest.validate_datetime(datetime(2026, 3, 3, 13, 1))


def _liaison_with_an_overdue_family(*, phone: str | None, asks: bool = True):
    liaison = factories.make_user(role="liaison", phone=phone)
    liaison.daily_digest = asks
    case = factories.make_case(liaison=liaison, opened_at=SIX_LOCAL - timedelta(hours=50))
    factories.make_family_member(case=case, name="Secret Family Name")
    return liaison


def _run_job(app, monkeypatch) -> None:
    monkeypatch.setitem(tasks._state, "app", app)
    runner = threading.Thread(target=tasks.daily_digest.call_local)  # as a huey worker thread: no app context
    runner.start()
    runner.join()


def test_the_daily_digest_goes_out_once_at_seven_in_the_agencys_time_zone(app, db, monkeypatch):
    texting = _liaison_with_an_overdue_family(phone="+13125550111")
    no_phone = _liaison_with_an_overdue_family(phone=None)
    _liaison_with_an_overdue_family(phone="+13125550113", asks=False)
    db.session.commit()

    def texts() -> list[Notification]:
        db.session.expire_all()
        return db.session.scalars(select(Notification).where(Notification.kind == "digest")).all()

    with time_machine.travel(SIX_LOCAL, tick=False) as clock:
        _run_job(app, monkeypatch)
        assert texts() == []  # 06:00 in Chicago: not yet
        clock.move_to(SEVEN_LOCAL)
        _run_job(app, monkeypatch)
        assert [t.recipient for t in texts()] == [texting.phone]
        assert "Secret" not in texts()[0].body
        clock.move_to(SEVEN_LOCAL + timedelta(minutes=59))
        _run_job(app, monkeypatch)  # e.g. a second consumer, or a restart within the hour: nobody gets two
        assert len(texts()) == 1
        clock.move_to(SEVEN_LOCAL + timedelta(days=1))
        _run_job(app, monkeypatch)
        assert len(texts()) == 2  # the next morning, again
    # The person without a phone sees the list on their home page; the job prints nothing into the worker's log.
    sent_to = db.session.scalars(select(AuditEvent.target_id).where(AuditEvent.action == "digest.send")).all()
    assert str(no_phone.id) not in sent_to


def test_the_digest_hour_follows_the_agencys_time_zone_setting(app, db, monkeypatch):
    liaison = _liaison_with_an_overdue_family(phone="+13125550114")
    get_agency().timezone = "America/Los_Angeles"  # an admin changed it: 07:00 there is 15:00 UTC in March
    db.session.commit()
    with time_machine.travel(SEVEN_LOCAL, tick=False) as clock:
        _run_job(app, monkeypatch)
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
        clock.move_to(SEVEN_LOCAL + timedelta(hours=2))
        _run_job(app, monkeypatch)
    db.session.expire_all()
    assert db.session.scalar(select(Notification.recipient)) == liaison.phone
