"""Fixtures and helpers for the texts tests: daytime, the fake Twilio, a live portal, consumer processes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from werkzeug.serving import make_server

from portal.app import sms_client_for

from .fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

REPO = Path(__file__).resolve().parent.parent
# A Tuesday, 11:00 in Chicago: inside every daytime window.
DAYTIME = datetime(2026, 3, 3, 17, 0, tzinfo=UTC)
SENDER = "+13125550000"


def is_postgres(app) -> bool:
    """Whether the suite runs on PostgreSQL."""
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


@pytest.fixture
def daytime():
    """Frozen at DAYTIME (time still ticks), so quiet hours never hold a text back."""
    with time_machine.travel(DAYTIME, tick=True) as traveller:
        yield traveller


@pytest.fixture
def fake_twilio():
    """A fake Twilio server on 127.0.0.1."""
    with FakeTwilio() as fake:
        yield fake


def twilio_settings(fake: FakeTwilio, **extra) -> dict:
    """The config values that point the portal's twilio client at the fake."""
    return {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_API_BASE_URL": fake.url,
            "TWILIO_FROM_NUMBER": SENDER, "TWILIO_MESSAGING_SERVICE_SID": None, "TWILIO_TIMEOUT": 0.5, **extra}


@pytest.fixture
def twilio(app, monkeypatch, fake_twilio):
    """The app sends through the real Twilio SDK into the fake; returns the fake."""
    for key, value in twilio_settings(fake_twilio).items():
        monkeypatch.setitem(app.config, key, value)
    monkeypatch.setitem(app.extensions, "sms_client", sms_client_for(app, "twilio"))
    return fake_twilio


@pytest.fixture
def live_portal(app, monkeypatch):
    """The app served over real HTTP on 127.0.0.1, with PUBLIC_BASE_URL pointing at it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", url)
    yield url
    server.shutdown()


def consumer_env(app, fake: FakeTwilio, instance_dir: Path, **extra) -> dict:
    """Environment for a `flask worker` subprocess on the suite's database, sending into the fake."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TWILIO_", "SMS_", "HUEY_"))}
    env.pop("REDIS_URL", None)
    env.update({
        "PORTAL_CONFIG": "development", "PORTAL_INSTANCE_DIR": str(instance_dir), "FLASK_DEBUG": "0",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": "x" * 40,
        "SMS_BACKEND": "twilio", "SMS_DELIVERY": "worker", "PUBLIC_BASE_URL": app.config["PUBLIC_BASE_URL"],
        "HUEY_SQLITE_PATH": str(instance_dir / "huey.db"), "LOG_LEVEL": "WARNING", "RATELIMIT_ENABLED": "false",
        "AGENCY_NAME": app.config["AGENCY_NAME"], "PYTHONUNBUFFERED": "1",
        "ENCRYPTION_KEYS": app.config["ENCRYPTION_KEYS"],  # the suite's keys: the worker reads what the tests wrote
    })
    for key, value in twilio_settings(fake, TWILIO_TIMEOUT=5).items():
        if value is not None:
            env[key] = str(value)
    env.update({key: str(value) for key, value in extra.items()})
    return env


def start_consumer(env: dict, *, workers: int = 1, log_path: Path | None = None) -> subprocess.Popen:
    """Start `flask worker` in its own process (and process group)."""
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115  (closed with the process)
    return subprocess.Popen(  # noqa: S603  (fixed arguments)
        [sys.executable, "-m", "flask", "--app", "portal", "worker", "--workers", str(workers)],
        cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def stop_consumer(process: subprocess.Popen) -> None:
    """Stop a consumer at once (SIGTERM), then make sure it is gone."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for(predicate, *, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll until predicate() is truthy; fail the test with `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def huey_immediate(app, monkeypatch, tmp_path):
    """SMS_DELIVERY=worker with huey in immediate mode: enqueued tasks run at once, in this process."""
    from portal import tasks

    saved = (tasks.huey.storage, dict(tasks._state), tasks.huey.immediate)
    monkeypatch.setitem(app.config, "SMS_DELIVERY", "worker")
    monkeypatch.setitem(app.config, "HUEY_SQLITE_PATH", str(tmp_path / "huey.db"))
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    tasks.configure_huey(app.config)
    tasks.huey.immediate = True
    yield tasks.huey
    tasks.huey.immediate = saved[2]
    tasks.huey.storage = saved[0]
    tasks._state.clear()
    tasks._state.update(saved[1])
