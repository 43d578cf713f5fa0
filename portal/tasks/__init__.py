"""Background jobs on huey: deliver texts after commit, sweep retries and queue reminders every minute, digests,
redacting Twilio's copies (every minute), fetching the pictures of texts sent to us (MMS, after the webhook's commit
and every minute for retries) and the daily retention purge.

Storage: Redis when REDIS_URL is set (any number of consumers, on any number of machines), otherwise a SQLite
file in the instance directory. `flask worker` starts a consumer; `make run` starts one beside the web server.
The outbox table, not huey, is the record of what must be sent: a lost huey task only delays a text until the
next sweep.

To run a plain function periodically, decorate it here with periodic_app_task(crontab(...)); huey crontabs are
in UTC, so a job meant for a local hour runs hourly and checks the agency's time itself (see daily_digest).
Every consumer runs the periodic jobs: each must be safe to run twice at once.
"""
from __future__ import annotations

import functools
import logging
from pathlib import Path

from flask import Flask, current_app, has_app_context
from huey import Huey, crontab
from huey.exceptions import TaskLockedException
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

from ..extensions import db
from ..services import digest, reminders
from . import delivery, media, redaction, retention
from .delivery import deliver_message  # noqa: F401  (part of this module's interface)

log = logging.getLogger(__name__)

# The storage is chosen from the app's config by configure_huey(); until then nothing leaves the process.
huey = Huey("portal", results=False, utc=True, storage_class=MemoryStorage)
_state: dict = {"key": None, "app": None, "factory": None}


def configure_huey(config) -> Huey:
    """Point the huey instance at the storage the config names: Redis if REDIS_URL, else the SQLite file."""
    key = (config.get("REDIS_URL"), config.get("HUEY_SQLITE_PATH"), config.get("HUEY_NAME") or "portal")
    if key != _state["key"]:
        redis_url, path, name = key
        if redis_url:
            huey.storage = RedisStorage(name=name, url=redis_url)
        else:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            huey.storage = SqliteStorage(name=name, filename=path)
        huey.name = name
        _state["key"] = key
    return huey


def bind_app_factory(factory) -> None:
    """How a consumer that was started without an app builds one (portal/worker.py passes create_app)."""
    _state["factory"] = factory


def _worker_app() -> Flask:
    if _state["app"] is None:  # a consumer started as `huey_consumer portal.worker.huey`
        if _state["factory"] is None:
            raise RuntimeError("No app for this consumer: start it with `flask --app portal worker` or "
                               "`huey_consumer portal.worker.huey`")
        _state["app"] = _state["factory"]()
        configure_huey(_state["app"].config)
    return _state["app"]


def in_app_context(func):
    """Run func inside the app context (huey runs tasks on its own threads, which have none)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if has_app_context():
            return func(*args, **kwargs)
        with _worker_app().app_context():
            return func(*args, **kwargs)

    return wrapper


def app_task(**options):
    """A huey task that runs inside the app context."""
    return lambda func: huey.task(**options)(in_app_context(func))


def periodic_app_task(validate_datetime, **options):
    """A periodic huey task that runs inside the app context."""
    return lambda func: huey.periodic_task(validate_datetime, **options)(in_app_context(func))


@app_task()
def deliver_texts(ids: list[int]) -> None:
    """Deliver the texts a transaction just queued (those still due and unclaimed)."""
    delivery.drain(ids=ids)


@periodic_app_task(crontab(minute="*"))
def sweep_outbox() -> None:
    """Every minute: take back texts a stopped consumer held, retry what is due, send deferred texts."""
    delivery.sweep()


@app_task()
def fetch_text_pictures(ids: list[int]) -> None:
    """Fetch, clean and store the pictures of a text a webhook just recorded, then make their lead."""
    media.process(ids=ids)


@periodic_app_task(crontab(minute="*"))
def sweep_text_pictures() -> None:
    """Every minute: fetch pictures whose job was lost or whose fetch failed and is due again; delete Twilio's."""
    try:
        with huey.lock_task("sweep-text-pictures"):  # two consumers at the same minute: one sweeps
            media.process()
    except TaskLockedException:
        return


@periodic_app_task(crontab(minute="*"))
def appointment_reminders() -> None:
    """Every minute: queue the 24-hour and 1-hour appointment reminders that have come due."""
    reminders.queue_due_reminders()
    db.session.commit()  # the job's one commit hands the reminders to delivery


@periodic_app_task(crontab(minute="*"))
def redact_provider_copies() -> None:
    """Every minute: blank the body Twilio keeps of texts that reached a final status and of texts we stored."""
    try:
        with huey.lock_task("redact-provider-copies"):  # two consumers at the same minute: one redacts
            redaction.redact_provider_copies()
    except TaskLockedException:
        return


@periodic_app_task(crontab(minute="0"))
def daily_digest() -> None:
    """Every hour: at 07:00 agency time, text each staff member who asked for it their count of flags, once a day."""
    try:
        with huey.lock_task("daily-digest"):  # two consumers at the same minute: one sends
            counts = digest.send_daily_digests()
            db.session.commit()
    except TaskLockedException:
        return
    if counts is not None:
        log.info("daily digest: %(texted)d texted, %(nothing_due)d with nothing due, %(no_phone)d without a phone",
                 counts)


@periodic_app_task(crontab(minute="30", hour="8"))
def purge_expired_contents() -> None:
    """Once a day (08:30 UTC, night in the Americas): purge what the agency's retention periods say is due."""
    try:
        with huey.lock_task("retention"):  # two consumers at the same minute: one purges
            retention.purge_due()
    except TaskLockedException:
        return


def dispatch_outbox(ids: list[int]) -> None:
    """Called after a commit that queued texts: deliver now (inline), hand to a worker (worker), or leave them."""
    mode = current_app.config["SMS_DELIVERY"]
    if mode == "inline":
        try:
            delivery.drain(ids=list(ids))
        except Exception:  # delivery must never break the request that queued the text
            log.exception("inline delivery failed for %d texts; they stay queued", len(ids))
    elif mode == "worker":
        size = max(int(current_app.config.get("SMS_BATCH_SIZE", 20)), 1)
        try:
            configure_huey(current_app.config)
            for start in range(0, len(ids), size):
                deliver_texts(list(ids[start:start + size]))
        except Exception:  # e.g. Redis is down: the rows are committed, the every-minute sweep sends them
            log.exception("could not hand %d texts to the worker; the sweep will send them", len(ids))


def dispatch_media(ids: list[int]) -> None:
    """Called after a commit that recorded text pictures: fetch them now (inline) or in a worker (worker)."""
    mode = current_app.config["SMS_DELIVERY"]
    if mode == "inline":
        try:
            media.process(ids=list(ids))
        except Exception:  # the webhook's answer must never depend on Twilio's media
            log.exception("inline fetch failed for %d text pictures; the sweep will fetch them", len(ids))
    elif mode == "worker":
        try:
            configure_huey(current_app.config)
            fetch_text_pictures(list(ids))
        except Exception:  # e.g. Redis is down: the rows are committed, the every-minute sweep fetches them
            log.exception("could not hand %d text pictures to the worker; the sweep will fetch them", len(ids))


def run_consumer(app: Flask, *, workers: int = 4, periodic: bool = True) -> None:
    """Run a huey consumer in this process until it is stopped (SIGINT: gracefully, SIGTERM: at once)."""
    configure_huey(app.config)
    _state["app"] = app
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=periodic, initial_delay=0.05,
                                    backoff=1.15, max_delay=1.0, check_worker_health=True)
    if periodic:
        sweep_outbox()  # right away, not at the next minute: recover what a stopped consumer left behind
    log.info("consumer starting: %d workers, storage=%s", workers, type(huey.storage).__name__)
    consumer.run()
