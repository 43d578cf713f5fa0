"""Texts per second into the fake Twilio, with one and with two `flask worker` consumers.

    .venv/bin/python bench/sms_throughput.py                                    # SQLite + SQLite huey
    .venv/bin/python bench/sms_throughput.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        --redis-url redis://127.0.0.1:6379/1                                     # PostgreSQL + Redis

With a PostgreSQL URL a temporary database is created next to the named one and dropped at the end; with a Redis
URL that Redis database is FLUSHED. The rate is measured at the fake Twilio, from the first text it receives to the
last, so process start-up does not count; the real Twilio SDK and its HTTP client do the sending.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.fake_twilio_port import FakeTwilioOnPort  # noqa: E402
from tests.fake_twilio import FakeTwilio  # noqa: E402
from tests.sms_helpers import consumer_env, start_consumer, stop_consumer  # noqa: E402


@contextmanager
def scratch_database(url: str | None, workdir: Path):
    """A fresh database URL: a temporary PostgreSQL database, or a SQLite file in workdir."""
    if not url or not url.startswith("postgresql"):
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    base = make_url(url)
    name = f"bench_sms_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(consumers: int, *, app, fake: FakeTwilio, texts: int, workers: int, workdir: Path, redis_url: str | None):
    """Queue `texts` texts, start the consumers, and return (texts/s at the fake, seconds, duplicates)."""
    from portal import tasks
    from portal.extensions import db
    from portal.models import Case, FamilyMember, Notification, Outreach

    with app.app_context():
        for model in (Outreach, Notification):
            db.session.execute(model.__table__.delete())
        case = db.session.scalar(select(Case)) or Case(case_number="BENCH-1", decedent_name="Bench")
        db.session.add(case)
        db.session.flush()
        member = db.session.scalar(select(FamilyMember)) or FamilyMember(case_id=case.id, name="Bench",
                                                                          phone="+13125550100")
        db.session.add(member)
        db.session.flush()
        db.session.execute(insert(Notification), [
            {"recipient": f"+1312555{n % 10000:04d}", "body": f"Bench text {n}", "kind": "bench", "urgent": True,
             "status": "queued", "attempts": 0, "language": "en", "case_id": case.id, "family_member_id": member.id}
            for n in range(texts)])
        db.session.commit()
        ids = list(db.session.scalars(select(Notification.id).order_by(Notification.id)))
        if redis_url:
            import redis

            redis.Redis.from_url(redis_url).flushdb()
        else:
            Path(app.config["HUEY_SQLITE_PATH"]).unlink(missing_ok=True)
        tasks._state["key"] = None
        tasks.configure_huey(app.config)
        for start in range(0, len(ids), 20):  # what the after-commit hook does, in batches of 20
            tasks.deliver_texts(ids[start:start + 20])
    fake.messages.clear()
    extra = {"REDIS_URL": redis_url} if redis_url else {}
    env = consumer_env(app, fake, workdir, **extra)
    env["HUEY_SQLITE_PATH"] = app.config["HUEY_SQLITE_PATH"]
    procs = [start_consumer(env, workers=workers, log_path=workdir / f"consumer{n}.log") for n in range(consumers)]
    deadline = time.monotonic() + max(120.0, texts / 10)
    try:
        while len(fake.messages) < texts and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        for proc in procs:
            stop_consumer(proc)
    received = list(fake.messages)
    if len(received) < 2:
        raise SystemExit(f"only {len(received)} texts arrived; see {workdir}/consumer*.log")
    seconds = received[-1].at - received[0].at
    duplicates = len(received) - len({m.outbox_id for m in received})
    with app.app_context():
        sent = db.session.scalar(select(func.count()).select_from(Notification)
                                 .where(Notification.status == "sent"))
    return len(received) / seconds, seconds, duplicates, sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=4, help="threads in each consumer (flask worker -w)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL"))
    parser.add_argument("--twilio-port", type=int, default=5110, help="the fake Twilio's port (5105-5115)")
    args = parser.parse_args()

    own_instance = "PORTAL_INSTANCE_DIR" not in os.environ
    os.environ.setdefault("PORTAL_INSTANCE_DIR", tempfile.mkdtemp(prefix="bench-sms-"))
    from portal import create_app
    from portal.extensions import db

    workdir = Path(tempfile.mkdtemp(prefix="bench-sms-run-"))
    with scratch_database(args.database_url, workdir) as url, FakeTwilioOnPort(args.twilio_port) as fake:
        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, "HUEY_SQLITE_PATH": str(workdir / "huey.db"),
                                     "REDIS_URL": args.redis_url, "PUBLIC_BASE_URL": "http://127.0.0.1:9"})
        with app.app_context():
            db.create_all()
        backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        queue = "Redis" if args.redis_url else "SQLite huey"
        print(f"{args.texts} texts, {backend} outbox, {queue} queue, {args.workers} threads per consumer, "
              f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        for consumers in (1, 2):
            rate, seconds, duplicates, sent = run(consumers, app=app, fake=fake, texts=args.texts,
                                                  workers=args.workers, workdir=workdir, redis_url=args.redis_url)
            print(f"{consumers} consumer{'s' if consumers > 1 else ' '}: {rate:7.1f} texts/s "
                  f"({args.texts} texts in {seconds:.1f} s, {duplicates} sent twice, {sent} marked sent)")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    shutil.rmtree(workdir, ignore_errors=True)  # kept only when a run fails, for its consumer logs
    if own_instance:
        shutil.rmtree(os.environ["PORTAL_INSTANCE_DIR"], ignore_errors=True)


if __name__ == "__main__":
    main()
