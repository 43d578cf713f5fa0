"""Run the production topology on one machine and load it: errors, shared rate limits, texts sent twice.

    .venv/bin/python bench/scale_out.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

Topology (all on 127.0.0.1): nginx (Debian's) on 5106 → two gunicorn web processes on 5107 and 5108, each with
its own workers; PostgreSQL; Redis db 5 for rate limits (REDIS_URL, so every process shares the counters) and for
huey's queue; two real consumers (`flask --app portal worker`) sending texts through the real Twilio SDK to the
fake Twilio of the test suite (tests/fake_twilio.py) on 5109, which records each text with its outbox id.
Web half: sign in through nginx, wrk cycles the family case page, the staff dashboard and the staff case page,
then 11 wrong sign-ins show that the limit is shared across both web processes.
Consumer half: N urgent texts are queued (through the app's queue_sms and its after-commit hand-over to huey)
while the web load runs; every outbox id must reach the fake Twilio exactly once.
"""
from __future__ import annotations

import argparse
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    __package__ = "bench"  # noqa: A001

from .client import PROXY_HEADERS, cookie_header, forms_in, referer, sign_in  # noqa: E402
from .common import (  # noqa: E402
    DEFAULT_DATABASE_URL,
    KNOWN_FAMILY,
    KNOWN_STAFF,
    OUT,
    PASSWORD,
    ROOT,
    TOTP_SECRET,
    VENV_BIN,
    env_for_app,
    libpq_url,
    sqlalchemy_url,
)
from .fake_twilio_port import FakeTwilioOnPort  # noqa: E402
from .gunicorn import Gunicorn  # noqa: E402
from .loadtool import run_wrk_mix  # noqa: E402
from .report import command_line, machine, machine_markdown, update_results  # noqa: E402

PROXY_PORT, WEB_PORTS, SMS_PORT = 5106, (5107, 5108), 5109
REDIS_URL = "redis://127.0.0.1:6379/5"  # this bench's own Redis database


class Nginx:
    """nginx with bench/nginx.conf.template, in the foreground of its own process group; always stopped."""

    def __init__(self, port: int, upstreams: tuple[int, ...]) -> None:
        self.run = OUT / "nginx"
        nobody = pwd.getpwnam("nobody")  # nginx's workers run as nobody when started as root
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            path = self.run / "tmp" / sub
            path.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                os.chown(path, nobody.pw_uid, nobody.pw_gid)
        conf = (ROOT / "bench" / "nginx.conf.template").read_text().format(
            run=self.run, port=port, upstreams="\n".join(f"        server 127.0.0.1:{p};" for p in upstreams))
        self.conf = self.run / "nginx.conf"
        self.conf.write_text(conf)
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Nginx:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(binary).exists():
            raise SystemExit("nginx is not installed: apt-get install -y nginx-light (or nginx)")
        subprocess.run([binary, "-t", "-q", "-c", str(self.conf), "-p", str(self.run)], check=True)
        self.proc = subprocess.Popen([binary, "-c", str(self.conf), "-p", str(self.run)], start_new_session=True)
        time.sleep(0.5)
        if self.proc.poll() is not None:
            raise RuntimeError(f"nginx exited; see {self.run / 'nginx_error.log'}")
        return self

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(os.getpgid(self.proc.pid), signal.SIGQUIT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(os.getpgid(self.proc.pid), signal.SIGKILL)
                self.proc.wait(timeout=5)


def flush_redis() -> None:
    """Empty this bench's Redis database (db 5 only), so counters and queues start clean."""
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def queue_texts(database_url: str, n: int) -> None:
    """Queue n urgent texts through the app's own queue_sms, committing in bursts as requests would."""
    from portal import create_app
    from portal.extensions import db
    from portal.services.notifications.outbox import queue_sms

    # Configured like the web processes (worker delivery, Redis), so a commit hands the new ids to the queue.
    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(database_url), "REDIS_URL": REDIS_URL,
                                     "SMS_DELIVERY": "worker", "SMS_BACKEND": "console"})
    with app.app_context():
        for start in range(0, n, 250):
            for i in range(start, min(n, start + 250)):
                queue_sms(to=f"+1312555{i % 10000:04d}", body="Bench text: please ignore.", kind="bench",
                          urgent=True)
            db.session.commit()  # after commit the app hands the ids to the queue (worker mode)


def outbox_state(database_url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(libpq_url(database_url)) as conn:
        rows = conn.execute("SELECT status, count(*) FROM notifications WHERE kind = 'bench' GROUP BY 1")
        return dict(rows.fetchall())


def clear_bench_texts(database_url: str) -> None:
    import psycopg

    with psycopg.connect(libpq_url(database_url)) as conn:
        conn.execute("DELETE FROM notifications WHERE kind = 'bench'")


def start_consumers(database_url: str, fake: FakeTwilioOnPort, count: int, workers: int) -> list[subprocess.Popen]:
    """`flask --app portal worker` processes (the production command), sending through the real Twilio SDK."""
    from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN

    env = env_for_app(database_url, REDIS_URL=REDIS_URL, SMS_DELIVERY="worker", SMS_BACKEND="twilio",
                      TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_API_BASE_URL=fake.url,
                      TWILIO_FROM_NUMBER="+13125550000", TWILIO_TIMEOUT="5",
                      PUBLIC_BASE_URL=f"http://127.0.0.1:{PROXY_PORT}", LOG_LEVEL="WARNING")
    env.pop("TWILIO_MESSAGING_SERVICE_SID", None)
    cmd = [str(VENV_BIN / "flask"), "--app", "portal", "worker", "--workers", str(workers)]
    logs = [open(OUT / f"consumer{i}.log", "ab") for i in range(count)]  # noqa: SIM115 (closed with the process)
    return [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            for log in logs]


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(os.getpgid(p.pid), signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(os.getpgid(p.pid), signal.SIGKILL)
            p.wait(timeout=5)


def shared_limit_check(base: str) -> str:
    """11 wrong sign-ins for an address nobody has: with limits in Redis the 11th is refused whichever process
    serves it (the limit is 10 a minute); with per-process memory it would pass."""
    import requests

    s = requests.Session()
    s.headers.update(PROXY_HEADERS)
    codes = []
    for _ in range(11):
        page = s.get(base + "/login", timeout=30)
        form = next(f for f in forms_in(page.text) if "password" in f.fields)
        data = dict(form.fields, email="nobody-here@bench.example", password="wrong password for the bench")  # noqa: S106
        codes.append(s.post(base + "/login", data=data, headers=referer(page.url), timeout=30).status_code)
    return f"statuses of 11 wrong sign-ins through nginx: {codes}"


def redis_limit_keys() -> int:
    import redis

    return sum(1 for _ in redis.Redis.from_url(REDIS_URL).scan_iter(match="*LIMIT*"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers in each web process")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--texts", type=int, default=2000, help="texts queued during the load")
    parser.add_argument("--consumer-threads", type=int, default=4, help="threads in each consumer (flask worker -w)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    info = machine()
    base = f"http://127.0.0.1:{PROXY_PORT}"
    lines: list[str] = []
    flush_redis()
    clear_bench_texts(args.database_url)
    webs = [Gunicorn(args.database_url, port=p, workers=args.workers, log=OUT / f"scale_web{p}.log", ceiling=False,
                     count_sql=False, rate_limits=True, extra_env={"REDIS_URL": REDIS_URL}) for p in WEB_PORTS]
    fake = FakeTwilioOnPort(SMS_PORT).start()
    consumers: list[subprocess.Popen] = []
    try:
        with webs[0], webs[1], Nginx(PROXY_PORT, WEB_PORTS):
            family = sign_in(base, KNOWN_FAMILY[0], PASSWORD)
            staff = sign_in(base, KNOWN_STAFF["liaison"], PASSWORD, TOTP_SECRET)
            case_path = family.get(base + "/my", timeout=30).url.split(str(PROXY_PORT), 1)[1]
            case_id = case_path.rstrip("/").rsplit("/", 1)[1]
            items = [(case_path, {"Cookie": cookie_header(family)}),
                     ("/staff/", {"Cookie": cookie_header(staff)}),
                     (f"/staff/cases/{case_id}", {"Cookie": cookie_header(staff)})]
            consumers = start_consumers(args.database_url, fake, 2, args.consumer_threads)
            t0 = time.monotonic()
            queue_texts(args.database_url, args.texts)
            lines.append(f"- queued {args.texts} urgent texts in {time.monotonic() - t0:.1f} s (app's queue_sms, "
                         "handed to huey in Redis after each commit), then loaded the web half")
            load = run_wrk_mix(base + "/", items=items, headers=PROXY_HEADERS, seconds=args.seconds,
                               connections=args.connections, workdir=OUT)
            lines.append(f"- web: family case page, staff /staff/ and staff case page in turn: {load.requests:,} "
                         f"requests in {load.seconds:.0f} s through nginx to 2 gunicorn processes × {args.workers} "
                         f"workers ({load.rps:,.0f} req/s; p50 {load.p50:.1f} ms, "
                         f"p95 {load.p95:.1f} ms, p99 {load.p99:.1f} ms): **{load.unexpected} unexpected answers, "
                         f"{load.socket_errors} socket errors**")
            lines.append(f"- rate limits (10 sign-in attempts a minute, our 2 real sign-ins included): "
                         f"{shared_limit_check(base)}; Flask-Limiter counters in Redis db 5: {redis_limit_keys()} "
                         "(shared by both web processes)")
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                state = outbox_state(args.database_url)
                if not any(state.get(s) for s in ("queued", "sending", "deferred")):
                    break
                time.sleep(1)
            rate, span = fake.rate()
            counts = fake.counts_by_outbox_id()
            lines.append(f"- texts, 2 `flask --app portal worker` consumers × {args.consumer_threads} threads: "
                         f"outbox {outbox_state(args.database_url)}; the fake Twilio (tests/fake_twilio.py) accepted "
                         f"{len(fake.messages)} texts for {len(counts)} outbox ids: **{fake.sent_twice()} sent "
                         f"twice**, {args.texts - len(counts)} not sent (blocked: the number belongs to a seeded "
                         f"family member who replied STOP); {rate:.1f} texts/s over {span:.1f} s (the web load ran "
                         "during part of it)")
    finally:
        stop(consumers)
        fake.stop()
        clear_bench_texts(args.database_url)
        flush_redis()
    report = "\n".join(lines)
    print(report)
    if not args.no_write:
        update_results("scale_out", "## Scale-out (bench/scale_out.py)\n\nMachine, at the start of the run:\n\n"
                       f"{machine_markdown(info)}\n\nCommand:\n\n    {command_line()}\n\n{report}")
        print("bench/RESULTS.md updated (section 'scale_out').")
    return 0


if __name__ == "__main__":
    sys.exit(main())
