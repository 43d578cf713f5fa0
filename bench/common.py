"""Shared by the bench scripts: paths, database URLs, the known accounts, COPY helpers, a progress bar."""
from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"  # git-ignored: logs, wrk scripts, nginx runtime files
VENV_BIN = ROOT / ".venv" / "bin"
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"

# Known accounts the load test signs in as (fictional). Every seeded account shares this password; staff share
# this TOTP secret and are enrolled, so that once staff MFA lands the sign-in step computes the code with pyotp.
PASSWORD = "bench portal password 2026"  # noqa: S105  (benchmark database only)
TOTP_SECRET = "BENCHTOTPSECRETFORLOADTESTS23456"  # noqa: S105  (base32; benchmark database only)
# The keys the bench database is encrypted under (portal/crypto.py): the seed writes with them, the portal reads.
ENCRYPTION_KEYS = os.environ.get("BENCH_ENCRYPTION_KEYS",
                                 "bench1:YmVuY2gta2V5LWZvci1maWN0aW9uYWwtZGF0YS1vayE")  # noqa: S105 (bench only)
KNOWN_STAFF = {
    "liaison": "liaison1@bench.example",  # a typical caseload
    "liaison_busy": "liaison2@bench.example",  # the heaviest caseload
    "supervisor": "supervisor1@bench.example",
    "admin": "admin1@bench.example",
}
KNOWN_FAMILY = [f"family{n}@bench.example" for n in range(1, 6)]  # on open cases of liaison1


def ensure_importable() -> None:
    """Let `python bench/x.py` import the portal package from the repository root."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def sqlalchemy_url(url: str) -> str:
    """postgresql+psycopg://... for SQLAlchemy (accepts postgres:// and postgresql:// too).

    The same rule as config._normalize_db_url, without importing config: config reads the environment when it is
    first imported, and the bench sets that environment first.
    """
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def libpq_url(url: str) -> str:
    """postgresql://... for psycopg.connect (drops SQLAlchemy's +driver)."""
    return sqlalchemy_url(url).replace("postgresql+psycopg://", "postgresql://", 1)


def ts(epoch: float) -> str:
    """A UTC time for COPY's text format."""
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def esc(value: str) -> str:
    """Escape text for COPY's text format (backslash, tab, newline, carriage return)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def row(*values) -> str:
    """One COPY line: None is NULL, booleans are t/f, everything else str()."""
    out = []
    for v in values:
        if v is None:
            out.append("\\N")
        elif v is True:
            out.append("t")
        elif v is False:
            out.append("f")
        else:
            out.append(str(v))
    return "\t".join(out) + "\n"


class Progress:
    """tqdm when installed, else a plain line every few seconds."""

    def __init__(self, total: int, desc: str) -> None:
        self.total, self.desc, self.done, self._last = total, desc, 0, 0.0
        try:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=f"{desc:<20}", unit=" rows", unit_scale=True, file=sys.stderr,
                             mininterval=0.5, dynamic_ncols=True)
        except ImportError:
            self._bar = None

    def update(self, n: int) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
        elif time.monotonic() - self._last > 3:
            self._last = time.monotonic()
            print(f"  {self.desc}: {self.done:,}/{self.total:,}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def copy_rows(conn, table: str, columns: Iterable[str], lines: Iterator[str], total: int, *,
              chunk: int = 5000) -> int:
    """COPY text lines into a table with a progress bar; returns the number of rows written."""
    cols = ", ".join(columns)
    bar = Progress(total, table)
    written = 0
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:  # noqa: S608 (our names)
        buf: list[str] = []
        for line in lines:
            buf.append(line)
            if len(buf) >= chunk:
                copy.write("".join(buf))
                bar.update(len(buf))
                written += len(buf)
                buf.clear()
        if buf:
            copy.write("".join(buf))
            bar.update(len(buf))
            written += len(buf)
    bar.close()
    return written


def env_for_app(database_url: str, **extra: str) -> dict[str, str]:
    """The environment a portal process gets in the bench: production config on the bench database."""
    env = dict(os.environ)
    env.update({
        "PORTAL_CONFIG": "production",
        "DATABASE_URL": sqlalchemy_url(database_url),
        "SECRET_KEY": env.get("BENCH_SECRET_KEY", "bench-secret-key-0123456789abcdef-not-for-production"),
        "ENCRYPTION_KEYS": ENCRYPTION_KEYS,
        "ENCRYPTION_KEY_FILE": "",
        "SESSION_COOKIE_SECURE": "false",  # plain HTTP on loopback; the proxy header below stands in for TLS
        "SMS_BACKEND": env.get("BENCH_SMS_BACKEND", "console"),
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "WARNING",
    })
    env.update(extra)
    return env
