"""Real consumer processes (`flask worker`): console texts in development, a SIGKILL mid-batch loses nothing,
and two consumers on PostgreSQL and Redis deliver 5,000 texts with none sent twice (counted at the fake Twilio).
"""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import redis
from huey.storage import RedisStorage, SqliteStorage
from sqlalchemy import func, insert, select

from portal import tasks
from portal.models import Notification, Outreach
from portal.services.notifications.outbox import queue_sms

from . import factories
from .fake_twilio import FakeTwilio
from .sms_helpers import consumer_env, is_postgres, start_consumer, stop_consumer, wait_for

# This checkout's Redis database (only it is flushed); TEST_REDIS_URL keeps parallel checkouts apart.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")


@pytest.fixture
def huey_storage(app, monkeypatch, tmp_path):
    """use(**config) points this process's huey at a storage (as the web app would); restored afterwards."""
    saved = (tasks.huey.storage, dict(tasks._state))

    def use(**config):
        for key, value in config.items():
            monkeypatch.setitem(app.config, key, value)
        return tasks.configure_huey(app.config)

    yield use
    tasks.huey.storage = saved[0]
    tasks._state.clear()
    tasks._state.update(saved[1])


def _count(db, *where):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Notification).where(*where))


def _queue_many(db, n: int, *, prefix: str) -> list[int]:
    case = factories.make_case()
    member = factories.make_family_member(case=case)
    rows = [{"recipient": f"+1312555{n_ % 10000:04d}", "body": f"{prefix} text {n_}", "kind": "bench", "urgent": True,
             "status": "queued", "attempts": 0, "language": "en", "case_id": case.id, "family_member_id": member.id}
            for n_ in range(n)]
    db.session.execute(insert(Notification), rows)
    db.session.commit()
    return list(db.session.scalars(select(Notification.id).order_by(Notification.id)))


def _enqueue(ids: list[int], size: int = 20, copies: int = 1) -> None:
    for _copy in range(copies):
        for start in range(0, len(ids), size):
            tasks.deliver_texts(ids[start:start + size])


def test_configure_huey_uses_redis_when_redis_url_is_set_and_sqlite_otherwise(app, huey_storage, tmp_path):
    sqlite = huey_storage(REDIS_URL=None, HUEY_SQLITE_PATH=str(tmp_path / "jobs" / "huey.db"))
    assert isinstance(sqlite.storage, SqliteStorage) and sqlite.storage.filename == str(tmp_path / "jobs" / "huey.db")
    assert isinstance(huey_storage(REDIS_URL=REDIS_URL).storage, RedisStorage)


def test_worker_mode_hands_texts_to_huey_after_commit_only(app, db, huey_storage, monkeypatch, tmp_path):
    huey = huey_storage(REDIS_URL=None, HUEY_SQLITE_PATH=str(tmp_path / "huey.db"))
    monkeypatch.setitem(app.config, "SMS_DELIVERY", "worker")
    queue_sms(to="+13125550111", body="rolled back", kind="test", urgent=True)
    db.session.rollback()
    assert huey.pending_count() == 0
    for n in range(45):
        queue_sms(to="+13125550111", body=f"t{n}", kind="test", urgent=True)
    assert huey.pending_count() == 0  # nothing before the commit
    db.session.commit()
    assert huey.pending_count() == 3  # 45 texts in batches of 20


def test_an_unreachable_queue_still_commits_and_the_sweep_sends_later(app, db, sms, huey_storage, monkeypatch,
                                                                      daytime):
    huey_storage(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens there
    monkeypatch.setitem(app.config, "SMS_DELIVERY", "worker")
    message = queue_sms(to="+13125550111", body="still here", kind="test", urgent=True)
    db.session.commit()
    assert _count(db, Notification.id == message.id, Notification.status == "queued") == 1
    tasks.sweep_outbox.call_local()
    assert [t["body"] for t in sms.sent] == ["still here"]


def test_flask_worker_prints_texts_on_the_console_in_development(app, db, huey_storage, monkeypatch, tmp_path):
    with FakeTwilio() as unused:
        env = consumer_env(app, unused, tmp_path, SMS_BACKEND="console")
    del env["HUEY_SQLITE_PATH"]  # the default: a SQLite file in the instance directory
    huey_storage(REDIS_URL=None, HUEY_SQLITE_PATH=str(tmp_path / "huey.db"))
    monkeypatch.setitem(app.config, "SMS_DELIVERY", "worker")
    log = tmp_path / "worker.log"
    worker = start_consumer(env, workers=1, log_path=log)
    try:
        message = queue_sms(to="+13125550123", body="Hello from the development console", kind="test", urgent=True)
        db.session.commit()  # after commit: a huey task in instance/huey.db, which the consumer runs
        wait_for(lambda: "Hello from the development console" in log.read_text(), timeout=30,
                 what="the text on the worker's console")
        assert f"--- text #{message.id} to +1•••••0123 ---" in log.read_text()  # masked on the console
        assert "+13125550123" not in log.read_text()
        wait_for(lambda: _count(db, Notification.status == "sent") == 1, timeout=10, what="status sent")
    finally:
        stop_consumer(worker)


def test_a_consumer_killed_mid_batch_loses_nothing(app, db, huey_storage, tmp_path, capsys):
    total = 300
    with FakeTwilio(delay=0.01) as fake:  # every text is "in flight" for 10 ms after Twilio has it
        env = consumer_env(app, fake, tmp_path, SMS_CLAIM_LEASE_SECONDS=3)
        huey_storage(REDIS_URL=None, HUEY_SQLITE_PATH=env["HUEY_SQLITE_PATH"])
        ids = _queue_many(db, total, prefix="kill")
        _enqueue(ids)
        first = start_consumer(env, workers=1, log_path=tmp_path / "first.log")
        try:
            # Kill it once 50 texts are out and it holds a claimed batch: in the middle of a batch.
            wait_for(lambda: len(fake.messages) >= 50 and _count(db, Notification.status == "sending"),
                     timeout=60, interval=0.02, what="the first consumer to be busy with a batch")
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
        finally:
            stop_consumer(first)
        at_kill = len(fake.messages)
        sent_at_kill = _count(db, Notification.status == "sent")
        sending_at_kill = set(db.session.scalars(select(Notification.id).where(Notification.status == "sending")))
        assert sent_at_kill < total and sending_at_kill, "the consumer was not killed mid-batch"
        second = start_consumer(env, workers=1, log_path=tmp_path / "second.log")
        try:
            def all_sent():
                tasks.sweep_outbox()  # enqueue the periodic sweep now instead of waiting for the next minute
                return _count(db, Notification.status == "sent") == total
            wait_for(all_sent, timeout=90, interval=1.0, what="every text sent after the restart")
        finally:
            stop_consumer(second)
    counts = fake.counts_by_outbox_id()
    twice = sorted(outbox_id for outbox_id, n in counts.items() if n > 1)
    with capsys.disabled():
        print(f"\nSIGKILL after {at_kill} texts reached Twilio ({sent_at_kill} recorded sent, {len(sending_at_kill)} "
              f"claimed): afterwards {len(counts)} of {total} delivered; sent twice: {twice or 'none'} "
              "(at most the one text in flight when the consumer died)")
    assert set(counts) == set(ids), "a text was lost"
    assert len(twice) <= 1 and set(twice) <= sending_at_kill
    assert max(counts.values()) <= 2
    assert db.session.scalar(select(func.count()).select_from(Outreach)) == total  # once per text, not per send


def _redis_or_skip() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return client


def test_two_consumers_on_postgres_and_redis_deliver_5000_texts_none_twice(app, db, huey_storage, tmp_path, capsys):
    if not is_postgres(app):
        pytest.skip("needs TEST_DATABASE_URL on PostgreSQL (FOR UPDATE SKIP LOCKED); CI runs it there")
    client = _redis_or_skip()
    client.flushdb()
    total = 5000
    try:
        with FakeTwilio() as fake:
            env = consumer_env(app, fake, tmp_path, REDIS_URL=REDIS_URL)
            huey = huey_storage(REDIS_URL=REDIS_URL)
            ids = _queue_many(db, total, prefix="two")
            _enqueue(ids, copies=2)  # every batch twice: the consumers race for the same rows
            for _ in range(4):
                tasks.sweep_outbox()  # and sweeps that grab whatever is due, on both consumers
            consumers = [start_consumer(env, workers=4, log_path=tmp_path / f"c{n}.log") for n in range(2)]
            started = time.monotonic()
            try:
                wait_for(lambda: _count(db, Notification.status == "sent") == total, timeout=150, interval=0.5,
                         what="5000 texts sent")
                elapsed = time.monotonic() - started
                wait_for(lambda: huey.pending_count() == 0, timeout=30, what="every huey task consumed")
                time.sleep(1.0)  # let the last tasks (now finding nothing to claim) finish
            finally:
                for consumer in consumers:
                    stop_consumer(consumer)
        counts = fake.counts_by_outbox_id()
        twice = [i for i, n in counts.items() if n > 1]
        agents = {m.user_agent.rsplit("portal-worker/", 1)[-1] for m in fake.messages}
        with capsys.disabled():
            print(f"\ntwo consumers: {len(fake.messages)} texts reached the fake Twilio in {elapsed:.1f}s "
                  f"(including start-up); sent twice: {len(twice)}; consumer pids seen: {sorted(agents)}")
        assert len(fake.messages) == total and set(counts) == set(ids) and twice == []
        assert agents == {str(c.pid) for c in consumers}, "both consumers should have sent texts"
        assert db.session.scalar(select(func.count()).select_from(Outreach)) == total
    finally:
        client.flushdb()


def test_a_periodic_task_can_run_a_plain_function_inside_the_app_context(app, monkeypatch):
    from datetime import datetime

    from flask import current_app
    from huey import crontab

    calls = []

    def daily_digest() -> None:  # a plain function, like the digest another area will add
        calls.append((current_app.name, current_app.config["AGENCY_NAME"]))

    task = tasks.periodic_app_task(crontab(hour="12", minute="0"))(daily_digest)
    try:
        monkeypatch.setitem(tasks._state, "app", app)
        runner = threading.Thread(target=task.call_local)  # huey's worker threads have no app context
        runner.start()
        runner.join()
        assert calls == [("portal", app.config["AGENCY_NAME"])]
        assert task.task_class in tasks.huey._registry._periodic_tasks
        schedule = task.task_class()
        assert schedule.validate_datetime(datetime(2026, 3, 3, 12, 0))
        assert not schedule.validate_datetime(datetime(2026, 3, 3, 12, 1))
    finally:
        tasks.huey._registry.unregister(task.task_class)
