"""Where one page's time goes: serve it in-process (production config, no HTTP) many times, under cProfile.

    .venv/bin/python bench/profile_page.py --as family1@bench.example --path /my/cases/90024 -n 200

Prints the median service time of the page and of the ceiling (a bare Flask endpoint, in-process too), the share
spent waiting on PostgreSQL (psycopg's wait), and the functions with the most time of their own.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    __package__ = "bench"  # noqa: A001

from .client import PROXY_HEADERS, forms_in  # noqa: E402
from .common import DEFAULT_DATABASE_URL, PASSWORD, TOTP_SECRET, env_for_app  # noqa: E402


def _timed(fn, n: int) -> float:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--as", dest="email", required=True, help="who signs in (a known bench account)")
    parser.add_argument("--path", required=True)
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--once", action="store_true",
                        help="one request only: its time, size and the process's peak memory (for huge pages)")
    args = parser.parse_args(argv)
    os.environ.update(env_for_app(args.database_url, RATELIMIT_ENABLED="false"))
    from flask import Flask

    from portal import create_app

    app = create_app()
    client = app.test_client()
    page = client.get("/login", headers=PROXY_HEADERS)
    form = next(f for f in forms_in(page.get_data(as_text=True)) if "password" in f.fields)
    after = client.post("/login", data=dict(form.fields, email=args.email, password=PASSWORD), headers=PROXY_HEADERS,
                        environ_base={"wsgi.url_scheme": "http"}, follow_redirects=True)
    second = next((f for f in forms_in(after.get_data(as_text=True)) if "code" in f.fields), None)
    if second is not None:  # staff: the TOTP step, with the seeded secret (bench/common.py)
        import pyotp

        for offset in (0, 30):  # a code is single-use: if this one was just used, the next one is accepted
            code = pyotp.TOTP(TOTP_SECRET).at(time.time() + offset)
            done = client.post(second.action or "/mfa", data=dict(second.fields, code=code),
                               headers={**PROXY_HEADERS, "Referer": "https://localhost/mfa"})
            if done.status_code == 302:
                break
    if args.once:
        started = time.perf_counter()
        response = client.get(args.path, headers=PROXY_HEADERS)
        print(f"{args.path} as {args.email}: status {response.status_code}, {time.perf_counter() - started:.1f} s, "
              f"{len(response.data) / 1e6:.1f} MB of HTML; peak RSS of this process "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        return 0
    if client.get(args.path, headers=PROXY_HEADERS).status_code != 200:
        raise SystemExit(f"{args.path} does not answer 200 for {args.email}")
    ceiling = Flask("ceiling")
    ceiling.add_url_rule("/", "hello", lambda: "ok")
    bare = ceiling.test_client()
    for _ in range(20):
        client.get(args.path, headers=PROXY_HEADERS)
        bare.get("/")
    page_ms = _timed(lambda: client.get(args.path, headers=PROXY_HEADERS), args.n)
    ceiling_ms = _timed(lambda: bare.get("/"), args.n)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.n):
        client.get(args.path, headers=PROXY_HEADERS)
    profile.disable()
    stats = pstats.Stats(profile)
    total = stats.total_tt
    waiting = sum(v[3] for k, v in stats.stats.items() if k[2] == "wait" and "psycopg" in k[0])
    print(f"{args.path} as {args.email}: median {page_ms:.2f} ms in-process; bare Flask {ceiling_ms:.3f} ms "
          f"(page = {page_ms / ceiling_ms:.0f}× the ceiling); under cProfile {waiting / total:.0%} of the time is "
          "spent waiting for PostgreSQL")
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(args.top)
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
