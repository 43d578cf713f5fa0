"""Helpers for the security tests: a production-configured app on the suite's database."""
from __future__ import annotations

import contextlib
import re

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
    monkeypatch.setenv("ENCRYPTION_KEYS", app.config["ENCRYPTION_KEYS"])  # production refuses to start without keys
    monkeypatch.setenv("EMAIL_BACKEND", "memory")  # production sends email through SMTP by default
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


# What legitimately differs between two requests for the same page: the CSRF token is signed with the time of the
# request (it changes every second), and a CSP nonce would be new each time. Both are masked before two answers are
# compared, so such a comparison fails on what a person or an attacker could tell apart, never on the clock.
_PER_REQUEST = [
    (re.compile(r'(name="csrf_token"[^>]*value=")[^"]*(")'), r"\1CSRF\2"),
    (re.compile(r'(value=")[^"]*("[^>]*name="csrf_token")'), r"\1CSRF\2"),
    (re.compile(r'(nonce=")[^"]*(")'), r"\1NONCE\2"),
    (re.compile(r"'nonce-[^']*'"), "'nonce-NONCE'"),
]
_NOT_COMPARED = {"date", "content-length"}  # the body is compared whole; its length differs with the address


def _mask(text: str) -> str:
    for pattern, replacement in _PER_REQUEST:
        text = pattern.sub(replacement, text)
    return text


def _session(app, value: str) -> dict:
    """The session a Set-Cookie carries, its times (auth_at, seen_at: the second of the request) masked."""
    data = app.session_interface.get_signing_serializer(app).loads(value)
    return {key: ("TIME" if key.endswith("_at") else item) for key, item in data.items()}


def comparable_answer(app, response, own: str) -> tuple:
    """(status, headers, session set, body) of a response, with `own` (what is this request's own: its address, the
    email typed) and the per-request values masked.

    Two answers that are equal here cannot be told apart by whoever reads them (bar the clock).
    """
    headers, session = [], None
    for name, value in response.headers.items():
        if name.lower() in _NOT_COMPARED:
            continue
        if name.lower() == "set-cookie" and value.startswith(app.config["SESSION_COOKIE_NAME"] + "="):
            cookie, _, attributes = value.partition(";")
            session = _session(app, cookie.split("=", 1)[1])
            value = f"SESSION;{attributes}"
        headers.append((name, _mask(value.replace(own, "OWN"))))
    return response.status_code, sorted(headers), session, _mask(response.get_data(as_text=True).replace(own, "OWN"))
