"""Start gunicorn with the production config on 127.0.0.1, wait until it answers, and always stop it."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import requests

from .client import PROXY_HEADERS
from .common import ROOT, VENV_BIN, env_for_app
from .report import children_of


class Gunicorn:
    """`with Gunicorn(url, port=5105) as g:` serves bench.wsgi:app until the block ends (SIGTERM, then SIGKILL)."""

    def __init__(self, database_url: str, *, port: int, workers: int = 4, log: Path, ceiling: bool = True,
                 count_sql: bool = True, rate_limits: bool = False, extra_env: dict[str, str] | None = None) -> None:
        if not 5105 <= port <= 5115:
            raise ValueError("the bench uses ports 5105-5115 only")
        self.port, self.workers_n, self.log = port, workers, log
        env = env_for_app(database_url, **(extra_env or {}))
        env["PORTAL_BENCH_CEILING"] = "1" if ceiling else "0"
        env["PORTAL_BENCH_SQLCOUNT"] = "1" if count_sql else "0"
        # One loopback client would hit the per-address limits (sign-in, leads) by design; scale_out.py runs with
        # them on, in Redis.
        env["RATELIMIT_ENABLED"] = "true" if rate_limits else "false"
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.cmd = [str(VENV_BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                    "--worker-class", "sync", "--timeout", "60", "--graceful-timeout", "5", "--chdir", str(ROOT),
                    "--logger-class", "portal.web.access_log.RedactingLogger",  # as the README's production
                    "bench.wsgi:app"]

    def __enter__(self) -> Gunicorn:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.port}/login"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}; see {self.log}")
            try:
                if requests.get(url, headers=PROXY_HEADERS, timeout=2).status_code == 200 and \
                        len(self.workers()) == self.workers_n:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer on port {self.port} within {timeout:.0f} s; see {self.log}")

    def workers(self) -> list[int]:
        """The worker processes' ids."""
        return children_of(self.proc.pid) if self.proc else []

    def stop(self) -> None:
        """SIGTERM the master's process group, then SIGKILL whatever is left."""
        if self.proc is None or self.proc.poll() is not None:
            return
        pgid = os.getpgid(self.proc.pid)
        os.killpg(pgid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(pgid, signal.SIGKILL)  # any worker left behind
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=5)
