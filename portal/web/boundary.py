"""The request boundary: one commit per request, after the view returned; nothing saved when it raised.

Services change the session and flush, never commit (indico's habit). PortalFlask commits once, right after the
view function returns and before the response is sent, so a failed commit is an error page (503 when the database
is away), never a "saved" page over lost data. A view that raised (an abort, an error) commits nothing: the session
is rolled back when the app context ends. Texts and emails written in the request are handed to delivery by the one
after-commit hook (create_app's _register_outbox_dispatch). Jobs and commands commit at their own boundary.
"""
from __future__ import annotations

import logging

from flask import Flask, request

from .. import audit
from ..extensions import db

log = logging.getLogger(__name__)


class PortalFlask(Flask):
    """Flask, with the request's one commit at the end of every view that returned normally."""

    def dispatch_request(self):
        """Run the view, then commit what it did (an exception skips the commit and reaches the error handlers)."""
        rv = super().dispatch_request()
        db.session.commit()
        return rv


def remember_client_address() -> None:
    """before_request: the client's address for this unit of work's audit events; never on the anonymous tip
    pages (blueprint tips, /t/... and /tip), where nothing may identify the tipster."""
    if request.blueprint == "tips" or request.path.startswith(("/t/", "/tip")):
        db.session.info.pop(audit.IP_KEY, None)
        return
    db.session.info[audit.IP_KEY] = request.remote_addr


def discard_session() -> None:
    """Roll back and drop the request's database session without raising: the connection may be dead."""
    try:
        db.session.rollback()
    except Exception:  # a connection lost mid-request fails its rollback too; the pool replaces it
        log.warning("rollback failed: the database connection was lost")
    try:
        db.session.remove()
    except Exception:
        log.warning("closing the database session failed: the database connection was lost")


def close_session_quietly(_exc=None) -> None:
    """teardown_appcontext: close the session even when its connection died (a database restart)."""
    discard_session()
