"""Accounts: password hashing and checks, creating users, signing in."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .. import audit
from ..errors import ServiceError
from ..extensions import db
from ..models import LANGUAGES, ROLES, User, utcnow
from . import lockout
from .passwords import MAX_PASSWORD, MIN_PASSWORD, password_problem  # noqa: F401  (the limits are re-exported)

# OWASP's argon2id recommendation: 19 MiB of memory, 2 iterations, 1 lane.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verifying against this keeps an unknown email as slow as a wrong password, so timing reveals nothing.
_DUMMY_HASH = _hasher.hash("a placeholder nobody can sign in with")


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def normalize_email(email: str) -> str:
    """Email addresses compare case-insensitively and without surrounding spaces."""
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    """The user with this email address, if any."""
    return db.session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))


def create_user(*, email: str, name: str, role: str, password: str | None = None, language: str = "en",
                phone: str | None = None, actor: User | None) -> User:
    """Create a user; the password, if given, must pass password_problem."""
    if role not in ROLES:
        raise ServiceError(f"unknown role {role!r}", "role")
    if language not in LANGUAGES:
        raise ServiceError(f"unknown language {language!r}", "language")
    if find_user_by_email(email) is not None:
        raise ServiceError(str(_l("There is already an account with this email address.")), "email")
    user = User(email=normalize_email(email), name=name.strip(), role=role, language=language, phone=phone,
                active=True, session_version=1)
    if password is not None:
        set_password(user, password)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", user, actor=actor, role=role)
    return user


def set_password(user: User, password: str) -> None:
    """Set a new password and sign out every existing session of the user."""
    problem = password_problem(password)
    if problem:
        raise ServiceError(problem, "password")
    user.password_hash = hash_password(password)
    user.session_version = (user.session_version or 0) + 1


def verify_password(user: User, password: str) -> bool:
    """Whether the password matches the user's hash."""
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(email: str, password: str, *, role: str | None = None, via: str = "login") -> User | None:
    """The active, unlocked user with this email and password, or None; audits success and failure alike.

    A wrong password counts towards the lockout, wherever it is typed (via: "login", "invite"). With role, an
    account of another role is refused without counting or checking its password (the invite page takes family
    accounts only, and must not become a way to lock staff out).

    For staff this is only the first step: the failure count is cleared once the second factor is right too
    (services/mfa.py), so a known password cannot be used to guess TOTP codes without limit.
    """
    user = find_user_by_email(email)
    ok = False
    try:
        # Always verify, even for an unknown or locked account, so the answer takes the same time.
        ok = _hasher.verify(user.password_hash if user and user.password_hash else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        ok = False
    reason = None
    if user is None:
        reason = "unknown_email"
    elif not user.is_active:
        reason = "inactive"
    elif role is not None and user.role != role:
        reason = "role"
    elif lockout.is_locked(user):
        reason = "locked"
    elif not user.password_hash or not ok:
        reason = "password"
    details = {"via": via} if via != "login" else {}
    if reason is not None:
        audit.record("auth.login", ("users", user.id if user else None), outcome="failed", actor=user, reason=reason,
                     **details)
        if reason == "password":
            lockout.note_failure(user, reason="password")
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if user.is_staff:
        audit.record("auth.password", user, actor=user)
    else:
        user.last_login_at = utcnow()
        lockout.clear_failures(user)
        audit.record("auth.login", user, actor=user, **details)
    return user


def sign_out_everywhere(user: User) -> None:
    """Invalidate every session cookie the user holds."""
    user.session_version = (user.session_version or 0) + 1
