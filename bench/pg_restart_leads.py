"""Restart PostgreSQL while 50 clients submit leads: no lead that was acknowledged may be lost.

Runs its OWN throwaway PostgreSQL cluster (default port 5440, data in /tmp/pg5440) so the machine's shared
server is never touched; serves the portal with gunicorn on 127.0.0.1; 50 client threads, each signed in as a
family member, submit leads through the REAL lead form (GET /my/cases/<id>/leads/new, then POST it) for a
while; the cluster is restarted in the middle; then every acknowledged lead is looked up.

    .venv/bin/python bench/pg_restart_leads.py                      # defaults: 50 clients, 30 s, restart at 10 s
    .venv/bin/python bench/pg_restart_leads.py --restart-mode immediate   # a crash instead of a clean restart

A client behaves like a browser whose person presses "Send" again after an error: it posts the same form again,
with the same hidden submission key, so the route finds the lead saved by the first try (Lead.submission_key)
and answers with its receipt instead of saving it twice. A lead is acknowledged when the POST answers with the
redirect to its receipt (/my/leads/<id>/thanks): the route sends that only after its commit returned.
Every text box of the form carries a unique marker, which is how the leads are found afterwards.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
MARK = "bench-lead-"


def make_bench_app():
    """The gunicorn entry point: the portal on the bench database (rate limits off: 50 clients share one person)."""
    from portal import create_app

    return create_app("development", {
        "SQLALCHEMY_DATABASE_URI": os.environ["BENCH_DATABASE_URL"], "SMS_BACKEND": "memory",
        "SMS_DELIVERY": "none", "RATELIMIT_ENABLED": False, "SECRET_KEY": os.environ["BENCH_SECRET_KEY"],
        "UPLOAD_DIR": os.environ["BENCH_UPLOAD_DIR"],
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "pool_size": 30, "max_overflow": 10,
                                      "pool_timeout": 10, "connect_args": {"connect_timeout": 3}},
    })


# --- the throwaway cluster ---------------------------------------------------------------------------------------

def _as_postgres(command: str) -> subprocess.CompletedProcess:
    """Run a PostgreSQL tool as the postgres user (initdb and pg_ctl refuse root)."""
    if os.geteuid() == 0:
        return subprocess.run(["su", "postgres", "-c", command], capture_output=True, text=True, check=False)
    return subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=False)


def cluster(action: str, args) -> None:
    """initdb (once), start, restart or stop the bench cluster."""
    data, log = args.data_dir, f"{args.data_dir}.log"
    if action == "start" and not Path(data, "PG_VERSION").exists():
        done = _as_postgres(f"{PG_BIN}/initdb -D {data} -A trust")
        assert done.returncode == 0, done.stderr
    mode = f"-m {args.restart_mode}" if action == "restart" else ("-m fast" if action == "stop" else "")
    done = _as_postgres(f"{PG_BIN}/pg_ctl -D {data} -o '-p {args.port} -k /tmp' -l {log} -w -t 60 {mode} {action}")
    assert done.returncode == 0, f"pg_ctl {action}: {done.stdout} {done.stderr}"


def prepare_database(url: str) -> int:
    """A fresh bench database with the schema and one case to attach leads to; returns the case id."""
    from sqlalchemy import create_engine, text

    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS bench_leads WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE bench_leads"))
    admin.dispose()
    from portal import create_app
    from portal.extensions import db
    from portal.models import Case, utcnow
    from portal.services.agency import get_agency

    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        db.create_all()
        case = Case(case_number="BENCH-1", decedent_name="Bench Person", stage="opened", stage_changed_at=utcnow(),
                    opened_at=utcnow())
        db.session.add(case)
        get_agency()  # the agency row, before 50 clients' first pages would each look for it
        db.session.commit()
        case_id = case.id
        db.engine.dispose()
    return case_id


def found_keys(url: str) -> Counter:
    """How many leads hold each bench marker (a marker in two leads would be a lead saved twice)."""
    from sqlalchemy import create_engine, text

    from portal import create_app

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT details FROM leads")).scalars().all()
    engine.dispose()
    # Lead details are encrypted at rest; the development keys (instance/encryption.keys) are the server's too.
    keyring = create_app("development", {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"}).extensions["keyring"]
    counts: Counter = Counter()
    for stored in rows:
        details = keyring.decrypt_text(stored, context="leads.details") if stored else ""
        marker = next((w for w in (details or "").split() if w.startswith(MARK)), None)
        if marker:
            counts[marker] += 1
    return counts


# --- the clients -------------------------------------------------------------------------------------------------

class Stats:
    """Counts shared by the client threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: set[str] = set()
        self.acked: set[str] = set()
        self.gave_up: set[str] = set()
        self.requests = 0
        self.signed_in = 0
        self.resent = 0  # leads acknowledged only after the same form was posted again
        self.answers: Counter = Counter()

    def note(self, answer) -> None:
        """Count one HTTP answer (or the name of the error)."""
        with self.lock:
            self.requests += 1
            self.answers[answer] += 1


RECEIPT = re.compile(r"^/my/leads/\d+/thanks$")


def open_form(session, base, form_page, key) -> dict | None:
    """Open the lead form (a new lead: a new hidden submission key) and fill every text box with the marker."""
    from tests.html_forms import post_forms

    page = session.get(base + form_page, timeout=15)
    if page.status_code != 200:
        return None
    forms = [f for f in post_forms(page.text, form_page) if f.action != "/language"]
    form = max(forms, key=lambda f: len(f.fields))
    data = {"__action": form.action, **form.values()}
    assert data.get("submission_key"), "the lead form has no submission key: a resend would save a second lead"
    for f in form.fields.values():
        if f.kind in ("text", "textarea"):
            data[f.name] = f"{key} saw the supplier"
    return data


def send_form(session, base, data) -> tuple[bool, int]:
    """Post the filled form once: (acknowledged?, HTTP status). The receipt redirect is the acknowledgement."""
    fields = {k: v for k, v in data.items() if k != "__action"}
    response = session.post(base + data["__action"], data=fields, timeout=15, allow_redirects=False)
    where = urlsplit(response.headers.get("Location", "")).path
    return response.status_code in (302, 303) and bool(RECEIPT.match(where)), response.status_code


def sign_in(session, base, email) -> None:
    """Sign in through the real form (tries again while the server starts)."""
    from tests.html_forms import post_forms

    for _ in range(50):
        try:
            form = next(f for f in post_forms(session.get(f"{base}/login", timeout=15).text, "/login")
                        if f.action == "/login")
            done = session.post(f"{base}/login", data={**form.values(), "email": email,
                                                       "password": "bench family password"}, timeout=30)
            if done.url.split("?")[0] != f"{base}/login":
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError("the bench family could not sign in")


def client(args, base, case_id, stats, start, family_email) -> None:
    """Submit leads until the time is up; after an error, post the same form again (same key), like a person."""
    session = requests.Session()
    sign_in(session, base, family_email)
    with stats.lock:
        stats.signed_in += 1
    start.wait()
    stop_at = time.monotonic() + args.duration
    form_page = args.form_page.format(case_id=case_id)
    while time.monotonic() < stop_at:
        key = f"{MARK}{uuid.uuid4().hex}"
        try:
            data = open_form(session, base, form_page, key)
        except requests.RequestException as exc:
            stats.note(f"form page: {type(exc).__name__}")
            data = None
        if data is None:  # nothing was sent yet: open the form again in a moment
            time.sleep(0.2)
            continue
        with stats.lock:
            stats.sent.add(key)
        for attempt in range(args.retries + 1):
            try:
                ok, status = send_form(session, base, data)
                stats.note(status)
            except requests.RequestException as exc:
                ok = False
                stats.note(type(exc).__name__)
            if ok:
                with stats.lock:
                    stats.acked.add(key)
                    stats.resent += attempt > 0
                break
            time.sleep(min(0.2 * 2 ** attempt, 3))
        else:
            with stats.lock:
                stats.gave_up.add(key)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30, help="seconds of submitting")
    parser.add_argument("--restart-after", type=float, default=10, help="seconds before the restart")
    parser.add_argument("--restart-mode", choices=["fast", "immediate", "smart"], default="fast")
    parser.add_argument("--retries", type=int, default=8, help="resubmissions of one lead after errors")
    parser.add_argument("--port", type=int, default=5440, help="the bench cluster's port (never 5432)")
    parser.add_argument("--http-port", type=int, default=5104)
    parser.add_argument("--data-dir", default="/tmp/pg5440")  # noqa: S108  (a throwaway cluster)
    parser.add_argument("--form-page", default="/my/cases/{case_id}/leads/new", help="the family lead form")
    parser.add_argument("--keep-cluster", action="store_true", help="leave the cluster running afterwards")
    args = parser.parse_args()
    assert args.port != 5432, "never restart the shared PostgreSQL"

    url = f"postgresql+psycopg://postgres@127.0.0.1:{args.port}/bench_leads"
    cluster("start", args)
    server = None
    uploads = tempfile.mkdtemp(prefix="bench-uploads-")
    try:
        case_id = prepare_database(url)
        family_email = setup_family(url, case_id)
        env = {**os.environ, "BENCH_DATABASE_URL": url, "BENCH_SECRET_KEY": secrets.token_hex(32),
               "BENCH_UPLOAD_DIR": uploads, "PYTHONPATH": str(ROOT)}  # not bench/: bench/gunicorn.py
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
        server = subprocess.Popen([gunicorn, "-w", "2", "-k", "gthread", "--threads", "32", "-b",
                                   f"127.0.0.1:{args.http_port}", "--timeout", "60", "--log-level", "warning",
                                   "bench.pg_restart_leads:make_bench_app()"], cwd=ROOT, env=env)
        base = f"http://127.0.0.1:{args.http_port}"
        for _ in range(150):
            try:
                requests.get(f"{base}/login", timeout=2)
                break
            except requests.RequestException:
                assert server.poll() is None, "gunicorn did not start"
                time.sleep(0.2)
        stats = Stats()
        start = threading.Event()
        threads = [threading.Thread(target=client, args=(args, base, case_id, stats, start, family_email))
                   for _ in range(args.clients)]
        for thread in threads:
            thread.start()
        while stats.signed_in < args.clients and all(t.is_alive() for t in threads):
            time.sleep(0.2)
        assert stats.signed_in == args.clients, "a client could not sign in"
        start.set()  # every client is signed in: the clock starts now
        time.sleep(args.restart_after)
        acked_before = len(stats.acked)
        restart_started = time.monotonic()
        cluster("restart", args)
        restart_seconds = time.monotonic() - restart_started
        for thread in threads:
            thread.join()
        counts = found_keys(url)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not args.keep_cluster:
            cluster("stop", args)
        shutil.rmtree(uploads, ignore_errors=True)

    lost = sorted(stats.acked - set(counts))
    doubled = sorted(k for k, n in counts.items() if k and n > 1)
    report = {
        "clients": args.clients, "duration_s": args.duration, "restart_mode": args.restart_mode,
        "route": f"POST {args.form_page}", "restart_at_s": args.restart_after,
        "restart_took_s": round(restart_seconds, 2),
        "leads_sent": len(stats.sent), "lead_posts": stats.requests, "acknowledged_after_a_resend": stats.resent,
        "acknowledged": len(stats.acked), "acknowledged_before_restart": acked_before,
        "found_after_restart": sum(1 for k in stats.sent if k in counts),
        "acknowledged_and_found": len(stats.acked & set(counts)),
        "saved_but_never_acknowledged": len(set(counts) & (stats.sent - stats.acked)),
        "gave_up_after_retries": len(stats.gave_up), "lost_acknowledged": len(lost), "saved_twice": len(doubled),
        "answers": {str(k): v for k, v in sorted(stats.answers.items(), key=lambda kv: str(kv[0]))},
    }
    print(json.dumps(report, indent=2))
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / f"pg_restart_leads-{args.restart_mode}.json").write_text(json.dumps(report, indent=2))
    if lost or doubled:
        print(f"FAILED: {len(lost)} acknowledged leads lost, {len(doubled)} saved twice", file=sys.stderr)
        return 1
    if acked_before == 0 or len(stats.acked) <= acked_before:
        print("FAILED: no lead was acknowledged before or after the restart: the run proves nothing", file=sys.stderr)
        return 1
    print("OK: every acknowledged lead is in the database after the restart")
    return 0


def setup_family(url: str, case_id: int) -> str:
    """A family member of the bench case with an account the clients sign in with."""
    from portal import create_app
    from portal.extensions import db
    from portal.models import FamilyMember, User
    from portal.services.accounts import hash_password

    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        user = User(email="bench.family@bench.example", name="Bench Family", role="family", language="en",
                    password_hash=hash_password("bench family password"), active=True, session_version=1)
        db.session.add(user)
        db.session.flush()
        db.session.add(FamilyMember(case_id=case_id, user_id=user.id, name="Bench Family", language="en",
                                    timezone="America/Chicago"))
        db.session.commit()
        db.engine.dispose()
    return "bench.family@bench.example"


if __name__ == "__main__":
    sys.exit(main())
