"""Helpers for the security tests: a production-configured app on the suite's database."""
from __future__ import annotations

import contextlib

from portal import create_app
from portal.extensions import limiter, talisman

PRODUCTION_SECRET = "p" * 48


@contextlib.contextmanager
def production_app(app, monkeypatch, **overrides):
    """The app as PORTAL_CONFIG=production builds it, on the suite's database.

    Talisman and the limiter are single objects bound to the last app built; their state is put back afterwards
    so the rest of the suite keeps its testing settings (no forced HTTPS, no rate limits).
    """
    monkeypatch.setenv("SECRET_KEY", PRODUCTION_SECRET)
    monkeypatch.setenv("DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    saved_talisman = dict(vars(talisman))
    saved_limiter = limiter.enabled
    try:
        prod = create_app("production", {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                         "SECRET_KEY": PRODUCTION_SECRET, "SMS_BACKEND": "memory",
                                         "RATELIMIT_ENABLED": False, **overrides})
        prod.test_client_class = app.test_client_class
        yield prod
    finally:
        vars(talisman).clear()
        vars(talisman).update(saved_talisman)
        limiter.enabled = saved_limiter
