"""Benchmark the portal's pages against a bare Flask endpoint, served by gunicorn with the production config.

    .venv/bin/python bench/run.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

Needs the large seed (bench/seed_large.py) and wrk (apt-get install -y wrk). Starts gunicorn on 127.0.0.1 only,
signs in through the real forms, drives wrk at each target (a load run with several connections, then one
client alone), reads SQL statements per request from the bench-only X-SQL-Statements header and each worker's
RSS from /proc, prints a table, writes it into bench/RESULTS.md, and stops gunicorn whatever happens.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import requests

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
    TOTP_SECRET,
    ensure_importable,
    libpq_url,
    sqlalchemy_url,
)
from .gunicorn import Gunicorn  # noqa: E402
from .loadtool import Result, run_wrk, wrk_path  # noqa: E402
from .report import command_line, cpu_seconds, load_average, machine, machine_markdown, memory_mb, update_results  # noqa: E402

# The family's lead form (POST, with its CSRF token and a fresh submission key each time).
LEAD_SUBMIT_ENDPOINTS = ("family.new_lead",)
# The staff home page is "who needs contact" (issue 4); if it moves to its own endpoint, that one is measured.
WHO_NEEDS_CONTACT = ("staff.who_needs_contact", "staff.needs_contact", "staff.dashboard")
SUBMISSION_KEY_NAMES = ("submission_key", "idempotency_key", "form_key", "nonce")


@dataclass
class Target:
    """One thing to load: who is signed in, which endpoint, GET or POST (all decided before gunicorn starts)."""

    key: str
    label: str
    who: str | None  # family, liaison, liaison_busy or None (anonymous)
    endpoints: tuple[str, ...]
    method: str = "GET"
    url_args: tuple[str, ...] = ()
    path: str | None = None
    body: str | None = None
    expect: int = 200
    referer: str | None = None
    pending: str | None = None
    one_client_only: bool = False  # a page too slow to load with 8 connections: only the one-client run


TARGETS = [
    Target("ceiling", "bare Flask endpoint (ceiling)", None, ()),
    Target("family_case", "family case page", "family", ("family.case",), url_args=("case_id",)),
    Target("staff_dashboard", "staff who-needs-contact (/staff/)", "liaison", WHO_NEEDS_CONTACT),
    Target("staff_dashboard_busy", "staff /staff/, heaviest caseload", "liaison_busy", WHO_NEEDS_CONTACT),
    # Seconds per request: 8 connections would only queue behind 4 workers (wrk gives up after 10 s).
    Target("staff_dashboard_all", "staff /staff/, supervisor: whole agency, first page (one client only)",
           "supervisor", WHO_NEEDS_CONTACT, one_client_only=True),
    Target("staff_case", "staff case page", "liaison", ("staff.case",), url_args=("case_id",)),
    Target("lead_submit", "lead submission (POST)", "family", LEAD_SUBMIT_ENDPOINTS, method="POST",
           url_args=("case_id",)),
    # The machine is shared: the ceiling again at the end shows how much the background load moved meanwhile.
    Target("ceiling_end", "bare Flask endpoint, again at the end", None, ()),
]


def resolve_paths(database_url: str, case_id: int) -> None:
    """Fill each target's path from the app's own url_map; mark the ones whose endpoint is missing as pending."""
    ensure_importable()
    from flask import url_for

    from portal import create_app

    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(database_url)})
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    with app.test_request_context():
        for t in TARGETS:
            if t.key.startswith("ceiling"):
                t.path = "/__bench/ceiling/"
                continue
            endpoint = next((e for e in t.endpoints if e in rules), None)
            if endpoint is None:
                t.pending = f"missing: no endpoint {' / '.join(t.endpoints)} in this app"
                continue
            args = {a: case_id for a in t.url_args if a in rules[endpoint].arguments}
            t.path = url_for(endpoint, **args)


def known_case(database_url: str) -> int:
    """The case of the first known family account (an open case of liaison1 with a typical history)."""
    import psycopg

    with psycopg.connect(libpq_url(database_url)) as conn:
        row = conn.execute("SELECT fm.case_id FROM family_members fm JOIN users u ON u.id = fm.user_id "
                           "WHERE u.email = %s", (KNOWN_FAMILY[0],)).fetchone()
    if row is None:
        raise SystemExit(f"{KNOWN_FAMILY[0]} is not in the database: run bench/seed_large.py first")
    return row[0]


def prepare_post(t: Target, session, base: str) -> None:
    """Build a POST body from the real form on the page (CSRF token included); {{n}} makes each one unique."""
    page = session.get(base + t.path, timeout=30)
    form = next((f for f in forms_in(page.text) if f.textareas and f.method == "post"), None)
    if page.status_code != 200 or form is None:
        t.pending = f"pending: {t.path} has no lead form to post (status {page.status_code})"
        return
    data = dict(form.fields)
    for name in form.textareas:
        data[name] = "Bench lead: a friend of his may know who sold the pills."
    for name in data:
        if name in SUBMISSION_KEY_NAMES:
            data[name] = "{{n}}"
    t.body = urlencode(data).replace("%7B%7Bn%7D%7D", "{{n}}")
    t.referer = referer(page.url)["Referer"]
    if form.action:
        t.path = form.action
    probe = session.post(base + t.path, data=t.body.replace("{{n}}", "probe"), allow_redirects=False, timeout=30,
                         headers={"Content-Type": "application/x-www-form-urlencoded", **referer(page.url)})
    if probe.status_code not in (200, 201, 302, 303):
        t.pending = f"failed: a probe POST to {t.path} answered {probe.status_code}; check the form fields"
    t.expect = probe.status_code


def sql_per_request(session, url: str) -> str:
    """The statements one request ran, from the bench-only header (the page is asked three times; max)."""
    counts = []
    for _ in range(3):
        r = session.get(url, timeout=60, allow_redirects=False)
        counts.append(int(r.headers.get("X-SQL-Statements", "-1")))
    return str(max(counts)) if min(counts) >= 0 else "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--port", type=int, default=5105)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (README: -w 4)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections in the load run")
    parser.add_argument("--seconds", type=int, default=15, help="length of each load run")
    parser.add_argument("--single-seconds", type=int, default=10, help="length of each one-client run")
    parser.add_argument("--only", nargs="*", help="target keys to run (default: all)")
    parser.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    args = parser.parse_args(argv)
    wrk_path()
    info = machine()
    case_id = known_case(args.database_url)
    resolve_paths(args.database_url, case_id)
    targets = [t for t in TARGETS if not args.only or t.key in args.only]
    base = f"http://127.0.0.1:{args.port}"
    results: dict[str, tuple[Result, Result, str, float, float, str]] = {}
    with Gunicorn(args.database_url, port=args.port, workers=args.workers, log=OUT / "run_gunicorn.log") as server:
        sessions = {None: None}
        for who in {t.who for t in targets if t.who and not t.pending}:
            email = KNOWN_FAMILY[0] if who == "family" else KNOWN_STAFF[who]
            sessions[who] = sign_in(base, email, PASSWORD, None if who == "family" else TOTP_SECRET)
        for t in targets:
            if t.pending:
                print(f"{t.label}: {t.pending}")
                continue
            s = sessions[t.who]
            if t.method == "POST":
                prepare_post(t, s, base)
                if t.pending:
                    print(f"{t.label}: {t.pending}")
                    continue
            headers = dict(PROXY_HEADERS, **({"Cookie": cookie_header(s)} if s else {}),
                           **({"Referer": t.referer} if t.referer else {}))
            probe = requests.get(base + t.path, headers=headers, timeout=60, allow_redirects=False)
            if t.method == "GET" and probe.status_code != 200:
                raise SystemExit(f"{t.label}: {t.path} answered {probe.status_code} before the load; stopping")
            print(f"-- {t.label}: {t.method} {t.path}", flush=True)
            common = dict(path=t.path, headers=headers, method=t.method, body=t.body, expect=t.expect, workdir=OUT)
            run_wrk(base + t.path, seconds=2, connections=1 if t.one_client_only else args.connections,
                    **common)  # warm-up
            loadavg = load_average()
            cpu_before = cpu_seconds(server.workers())
            if t.one_client_only:
                load = single = run_wrk(base + t.path, seconds=args.seconds, connections=1, **common)
            else:
                load = run_wrk(base + t.path, seconds=args.seconds, connections=args.connections, **common)
            cpu_ms = (cpu_seconds(server.workers()) - cpu_before) * 1000 / max(load.requests, 1)
            if not t.one_client_only:
                single = run_wrk(base + t.path, seconds=args.single_seconds, connections=1, **common)
            rss = max((memory_mb(pid)[0] for pid in server.workers()), default=0.0)
            sql = sql_per_request(s, base + t.path) if s and t.method == "GET" else "0" if not t.who else "?"
            results[t.key] = (load, single, sql, rss, cpu_ms, loadavg)
            errors = load.errors + (0 if t.one_client_only else single.errors)
            print(f"   {load.rps:,.0f} req/s, p95 {load.p95:.1f} ms, {cpu_ms:.2f} worker CPU ms/req; alone p95 "
                  f"{single.p95:.1f} ms; SQL {sql}; errors {errors}; load avg {loadavg}", flush=True)
        worker_mem = [(pid, *memory_mb(pid)) for pid in server.workers()]
    table = render(targets, results, worker_mem, args)
    print("\n" + table)
    if not args.no_write:
        update_results("run", f"## Pages against the ceiling (bench/run.py)\n\nMachine, at the start of the run:\n\n"
                       f"{machine_markdown(info)}\n\nCommand (from the repository root):\n\n"
                       f"    {command_line()}\n\n{table}")
        print("bench/RESULTS.md updated (section 'run').")
    return 0


def render(targets, results, worker_mem, args) -> str:
    """The figures as a Markdown table, with the goals beside them."""
    ceiling = results.get("ceiling")
    lines = [f"gunicorn: {args.workers} sync workers, production config (`PORTAL_CONFIG=production`), "
             f"PostgreSQL; load run: wrk, 1 thread, {args.connections} connections, {args.seconds} s; "
             f"one client: 1 connection, {args.single_seconds} s. \"vs ceiling\": requests/s as a share of the "
             "ceiling's in the same run; \"CPU ms/req\": gunicorn workers' user+system CPU per request in the "
             "load run (PostgreSQL's own CPU not included), steadier than requests/s on a shared machine.\n",
             "| target | req/s | p50 ms | p95 ms | p99 ms | vs ceiling | worker CPU ms/req | one client p50 / p95 ms "
             "| SQL/req | max worker RSS MB | errors | load avg at start |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for t in targets:
        if t.key not in results:
            lines.append(f"| {t.label} | {t.pending or 'not run'} | | | | | | | | | | |")
            continue
        load, single, sql, rss, cpu_ms, loadavg = results[t.key]
        ratio = f"{load.rps / ceiling[0].rps:.1%}" if ceiling and ceiling[0].rps else "?"
        errors = load.errors + (0 if t.one_client_only else single.errors)
        if t.one_client_only:
            lines.append(f"| {t.label} | ({load.rps:,.1f}, one client) | | | | | {cpu_ms:.2f} "
                         f"| {single.p50:.1f} / {single.p95:.1f} | {sql} | {rss:.0f} | {errors} | {loadavg} |")
            continue
        lines.append(f"| {t.label} | {load.rps:,.0f} | {load.p50:.1f} | {load.p95:.1f} | {load.p99:.1f} | {ratio} "
                     f"| {cpu_ms:.2f} | {single.p50:.1f} / {single.p95:.1f} | {sql} | {rss:.0f} "
                     f"| {errors} | {loadavg} |")
    lines.append("\nWorkers after the run (VmRSS now / VmHWM peak, MB): "
                 + ", ".join(f"pid {pid}: {rss:.0f} / {hwm:.0f}" for pid, rss, hwm in worker_mem))
    return "\n".join(lines)


if __name__ == "__main__":
    started = time.monotonic()
    code = main()
    print(f"({time.monotonic() - started:.0f} s)")
    sys.exit(code)
