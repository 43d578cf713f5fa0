"""Session policy: a fresh session at every sign-in, staff held at the second factor, 30 minutes idle, 12 hours
absolute, and server-side revocation (User.session_version, checked by the user loader on every request)."""
from __future__ import annotations

from flask import current_app, flash, redirect, request, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..extensions import db
from ..models import User, utcnow
from ..services import lockout, passkeys
from .urls import is_tip_page

PENDING_KEY = "mfa_pending"
PENDING_SECONDS = 10 * 60  # time to type the code after the password
# While the second factor is pending, these are the only endpoints a request may reach.
PENDING_ALLOWED = frozenset({"auth.mfa_verify", "auth.mfa_setup", "auth.mfa_recovery", "auth.mfa_cancel",
                             "auth.passkey_sign_in", "auth.passkey_sign_in_options", "auth.passkey_setup",
                             "auth.passkey_setup_options", "auth.set_language", "static"})
# The page of each second step (services/passkeys.py second_step()).
STEP_ENDPOINTS = {"passkey": "auth.passkey_sign_in", "passkey_setup": "auth.passkey_setup",
                  "totp": "auth.mfa_verify", "totp_setup": "auth.mfa_setup"}


class TipPageSession(SecureCookieSession):
    """The session of an anonymous tip page: starts empty, whatever cookie came, and is never saved."""


class PortalSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, except on the anonymous tip pages (any address under /t/ or /tip, known or
    not): there no session cookie is read, so nobody is signed in and nothing is refreshed, and none is written,
    not even to delete one. Whatever a tip page's code, a hook or an extension puts in the session (a flash, a
    CSRF token, Flask-Login's marks) is dropped, so a tipster's browser never gets a cookie from the portal and a
    staff member's cookie is left exactly as it was."""

    def open_session(self, app, request):
        """An empty, unsaved session on a tip page (matched by path: routing has not run yet); else the cookie's."""
        if is_tip_page(request.path, None):
            return TipPageSession()
        return super().open_session(app, request)

    def save_session(self, app, session, response) -> None:
        """Nothing on a tip page; else Flask's own save."""
        if isinstance(session, TipPageSession) or is_tip_page(request.path, request.blueprint):
            return
        super().save_session(app, session, response)


def _now() -> int:
    return int(utcnow().timestamp())


def begin_second_factor(user: User, next_url: str | None) -> None:
    """After a right staff password: a new session that knows only who is half signed in, nothing more."""
    session.clear()
    session[PENDING_KEY] = {"uid": user.id, "ver": user.session_version, "at": _now(), "next": next_url or ""}


def pending_user() -> User | None:
    """The staff member between password and second factor, if the pending step is still valid."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    if _now() - int(pending.get("at", 0)) > PENDING_SECONDS:
        return None
    user = db.session.get(User, pending.get("uid"))
    if user is None or not user.is_active or user.session_version != pending.get("ver") or lockout.is_locked(user):
        return None
    return user


def second_factor_passed() -> str | None:
    """The factor already passed in this pending step ("totp", "recovery_code"), when a passkey must follow."""
    pending = session.get(PENDING_KEY)
    return pending.get("passed") if isinstance(pending, dict) else None


def mark_second_factor_passed(method: str) -> None:
    """A factor was passed, but the agency requires a passkey: the person enrols one before the sign-in ends."""
    pending = session.get(PENDING_KEY)
    if isinstance(pending, dict):
        session[PENDING_KEY] = {**pending, "passed": method}


def second_step_url(user: User) -> str:
    """The page of the second step the half-signed-in staff member must take next."""
    step = passkeys.second_step(user, passed=second_factor_passed() is not None)
    return url_for(STEP_ENDPOINTS[step])


def pending_next() -> str:
    """Where the person wanted to go before signing in."""
    pending = session.get(PENDING_KEY)
    return pending.get("next", "") if isinstance(pending, dict) else ""


def complete_sign_in(user: User, *, second_factor: bool, keep_start: bool = False) -> None:
    """Start the signed-in session: new contents, no remember-me cookie, the times the timeouts are measured from.

    keep_start keeps the original sign-in time (a password change must not stretch the 12-hour limit).
    """
    started = session.get("auth_at") if keep_start else None
    session.clear()
    login_user(user, remember=False)
    now = _now()
    session["auth_at"] = started if isinstance(started, int) else now
    session["seen_at"] = now
    session["mfa"] = bool(second_factor)


def end_session() -> None:
    """Forget the signed-in person in this browser."""
    logout_user()
    session.clear()


def expiry_reason() -> str | None:
    """Why the current signed-in session must end now, or None: idle, absolute, or not set up by a sign-in."""
    auth_at, seen_at = session.get("auth_at"), session.get("seen_at")
    if not isinstance(auth_at, int) or not isinstance(seen_at, int):
        return "not_signed_in_here"  # e.g. a remember-me cookie or a session made some other way
    if current_user.is_staff and not session.get("mfa"):
        return "no_second_factor"
    now = _now()
    if now - seen_at > current_app.config["SESSION_IDLE_MINUTES"] * 60:
        return "idle"
    if now - auth_at > current_app.config["SESSION_ABSOLUTE_HOURS"] * 3600:
        return "absolute"
    return None


def enforce():
    """before_request: end expired sessions and keep a half-signed-in staff member on the second-factor pages."""
    if request.endpoint == "static" or is_tip_page(request.path, request.blueprint):
        return None  # a tip page reads no session: nobody is signed in there, and nothing may be written
    if current_user.is_authenticated:
        reason = expiry_reason()
        if reason is None:
            session["seen_at"] = _now()
            return None
        end_session()
        if reason in ("idle", "absolute"):
            flash(_("You were signed out to keep the case safe. Please sign in again."), "info")
        nxt = request.full_path if request.method == "GET" and request.query_string else request.path
        return redirect(url_for("auth.login", next=nxt if request.method == "GET" else None))
    if PENDING_KEY in session and request.endpoint not in PENDING_ALLOWED:
        user = pending_user()
        if user is None:
            session.pop(PENDING_KEY, None)
            return None
        return redirect(second_step_url(user))
    return None
