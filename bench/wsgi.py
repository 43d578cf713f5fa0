"""What gunicorn serves in the benchmarks: the portal as in production, plus two bench-only additions.

    gunicorn 'bench.wsgi:app'   (PORTAL_CONFIG=production and its secrets in the environment)

- PORTAL_BENCH_CEILING=1 mounts a bare Flask app at /__bench/ceiling/ in the same workers: the ceiling every page
  is compared with (what gunicorn + Flask cost with no database, templates, sessions or security headers).
- PORTAL_BENCH_SQLCOUNT=1 counts the SQL statements of each request and returns the count in an X-SQL-Statements
  header.
Neither exists in the portal itself: production serves `portal:create_app()`, which has no such route or header.
"""
from __future__ import annotations

import os

from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from portal import create_app
from portal.extensions import db
from portal.sqlcount import PerRequestCounter

CEILING_PREFIX = "/__bench/ceiling"

portal_app = create_app()


def _ceiling_app() -> Flask:
    """The smallest Flask app: one route, one short text answer."""
    ceiling = Flask("ceiling")

    @ceiling.route("/")
    def hello():
        return "ok"

    return ceiling


class _CountStatements:
    """WSGI middleware: start a per-request tally, add it as a header when the response starts."""

    def __init__(self, wsgi_app, counter: PerRequestCounter) -> None:
        self.wsgi_app, self.counter = wsgi_app, counter

    def __call__(self, environ, start_response):
        self.counter.start()

        def _start_response(status, headers, exc_info=None):
            headers.append(("X-SQL-Statements", str(self.counter.current())))
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, _start_response)


app = portal_app.wsgi_app
if os.environ.get("PORTAL_BENCH_CEILING") == "1":
    app = DispatcherMiddleware(app, {CEILING_PREFIX: _ceiling_app()})
if os.environ.get("PORTAL_BENCH_SQLCOUNT") == "1":
    with portal_app.app_context():
        app = _CountStatements(app, PerRequestCounter(db.engine))
