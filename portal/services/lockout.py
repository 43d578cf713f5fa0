"""Account lockout: 5 failed sign-ins in 15 minutes lock a staff account until an admin unlocks it and a family
account for 15 minutes. Failures of the password and of the second factor count alike."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import case, literal, or_, update

from .. import audit
from ..extensions import db
from ..models import User, UTCDateTime, utcnow

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
FAMILY_LOCK = timedelta(minutes=15)


def is_locked(user: User) -> bool:
    """Whether the account may not sign in right now."""
    if user.locked_at is not None:
        return True
    return user.locked_until is not None and user.locked_until > utcnow()


def note_failure(user: User, *, reason: str) -> bool:
    """Count one failed attempt (atomically, so parallel guesses all count); lock at the limit. True if now locked."""
    now = utcnow()
    stale = or_(User.failed_logins_since.is_(None), User.failed_logins_since < now - WINDOW)
    db.session.execute(
        update(User).where(User.id == user.id).values(
            failed_logins=case((stale, 1), else_=User.failed_logins + 1),
            failed_logins_since=case((stale, literal(now, UTCDateTime())), else_=User.failed_logins_since),
        ).execution_options(synchronize_session=False)
    )
    db.session.refresh(user, ["failed_logins", "failed_logins_since", "locked_at", "locked_until"])
    if user.failed_logins < MAX_FAILURES or is_locked(user):
        return is_locked(user)
    if user.is_staff:
        user.locked_at = now
    else:
        user.locked_until = now + FAMILY_LOCK
    user.failed_logins = 0
    user.failed_logins_since = None
    audit.record("auth.lockout", user, actor=user, reason=reason,
                 until="admin_unlock" if user.is_staff else user.locked_until.isoformat())
    return True


def clear_failures(user: User) -> None:
    """Forget failed attempts after a complete sign-in."""
    if user.failed_logins or user.failed_logins_since is not None:
        user.failed_logins = 0
        user.failed_logins_since = None


def unlock(user: User, *, by: User) -> None:
    """An admin lifts a lock (staff or family) and clears the failure count; audited."""
    was = "staff_lock" if user.locked_at is not None else ("family_lock" if is_locked(user) else "not_locked")
    user.locked_at = None
    user.locked_until = None
    user.failed_logins = 0
    user.failed_logins_since = None
    audit.record("user.unlock", user, actor=by, previous=was)
