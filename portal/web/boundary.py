"""The request boundary: one commit per request, after the view returned; nothing saved when it raised.

Services change the session and flush, never commit (indico's habit). PortalFlask commits once, right after the
view function returns and before the response is sent, so a failed commit is an error page (503 when the database
is away), never a "saved" page over lost data. A view that raised (an abort, an error) commits nothing: the session
is rolled back when the app context ends. Texts and emails written in the request are handed to delivery by the one
after-commit hook (create_app's _register_outbox_dispatch). Work outside the database that must not outlive a
failed commit (files an upload stored) is handed to undo_if_not_saved(). Jobs and commands commit at their own
boundary.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, g, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from .. import audit
from ..extensions import db
from .urls import is_notice_page, is_tip_page

log = logging.getLogger(__name__)


class PortalFlask(Flask):
    """Flask, with the request's one commit at the end of every view that returned normally."""

    def dispatch_request(self):
        """Run the view, then commit what it did (an exception skips the commit and reaches the error handlers).

        A view that only read commits nothing: its transaction simply ends with the session, so a database that
        went away after the page was read costs the reader nothing (tests/test_security_faults.py)."""
        try:
            rv = super().dispatch_request()
            if has_writes(db.session):
                db.session.commit()
        except BaseException:
            _run_undo()
            raise
        return rv

    def process_response(self, response):
        """After every hook and the session's save: the tip pages' own headers, whatever answered (an error too)."""
        response = super().process_response(response)
        if is_tip_page(request.path, request.blueprint):
            tip_page_headers(response)
        elif is_notice_page(request.path):
            notice_page_headers(response)
        return response


def tip_page_headers(response) -> None:
    """An anonymous tip page's answer: no cookie, no Referer to the next site, nothing kept in a cache.

    The session interface already writes no cookie there (sessions.PortalSessionInterface). Should anything else
    ever set one, it is taken off here, by name only, and logged as the bug it is."""
    cookies = response.headers.getlist("Set-Cookie")
    if cookies:
        names = sorted({cookie.split("=", 1)[0].strip() for cookie in cookies})
        log.error("a cookie was set on an anonymous tip page and removed: %s", ", ".join(names))
        del response.headers["Set-Cookie"]
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


def notice_page_headers(response) -> None:
    """A one-time link's page (or its 404): kept in no cache, and its address (the token) sent to no next site."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


WROTE_KEY = "portal_wrote"


def has_writes(session: Session) -> bool:
    """Whether the session's transaction holds changes: pending objects, or rows already flushed or updated.

    Writes are seen through the unit of work and insert()/update()/delete() statements; a write spelled as raw
    text() would not be, so the portal has none (tests/test_architecture.py)."""
    return bool(session.new or session.dirty or session.deleted or session.info.get(WROTE_KEY))


@event.listens_for(Session, "after_flush")
def _flushed(session, _context) -> None:
    session.info[WROTE_KEY] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[WROTE_KEY] = True


@event.listens_for(Session, "after_transaction_end")
def _ended(session, transaction) -> None:
    if transaction.parent is None:  # the whole transaction, not a savepoint inside it
        session.info.pop(WROTE_KEY, None)


def undo_if_not_saved(undo: Callable[[], None]) -> None:
    """Call undo() if this request's work is not saved: the view raises, or the request's commit fails."""
    g.setdefault("_portal_undo", []).append(undo)


def _run_undo() -> None:
    for undo in reversed(g.pop("_portal_undo", [])):
        try:
            undo()
        except Exception:  # the request is failing already; log and go on undoing the rest
            log.exception("undoing part of a failed request failed")


def remember_client_address() -> None:
    """before_request: the client's address for this unit of work's audit events; never on the anonymous tip
    pages (blueprint tips, /t/... and /tip), where nothing may identify the tipster."""
    if is_tip_page(request.path, request.blueprint):
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
