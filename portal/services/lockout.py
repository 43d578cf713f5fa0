"""Account lockout: 5 failed sign-ins in 15 minutes lock an account for 15 minutes, after which it opens by itself.

This follows CJIS Security Policy 5.5.3 for staff (at most 5 consecutive failures, then locked for at least 10
minutes): a lock that only an admin could lift let anyone who knows a staff email keep the team out. An admin may
still lift a lock early (unlock), and the owner is told at their next sign-in (notice_for). Failures of the
password and of the second factor count alike. In front of this, the sign-in page throttles failures per address
(web/security.py, sign_in_failures) below this limit, so one address alone cannot lock anyone out.

locked_at is an indefinite hold that only unlock() lifts; nothing sets it any more, but a lock set by the earlier
rule keeps its meaning until an admin lifts it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, literal, or_, select, update

from .. import audit
from ..extensions import db
from ..models import AuditEvent, User, UTCDateTime, utcnow

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
STAFF_LOCK = timedelta(minutes=15)  # CJIS asks for at least 10 minutes
FAMILY_LOCK = timedelta(minutes=15)
# The audit events that are one failed attempt counted here (the password, a second-factor code, a re-check).
_FAILED_ACTIONS = ("auth.login", "mfa.confirm")


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
    user.locked_until = now + (STAFF_LOCK if user.is_staff else FAMILY_LOCK)
    failures = user.failed_logins
    user.failed_logins = 0
    user.failed_logins_since = None
    audit.record("auth.lockout", user, actor=user, reason=reason, failures=failures,
                 until=user.locked_until.isoformat())
    return True


def clear_failures(user: User) -> None:
    """Forget failed attempts after a complete sign-in."""
    if user.failed_logins or user.failed_logins_since is not None:
        user.failed_logins = 0
        user.failed_logins_since = None


def unlock(user: User, *, by: User) -> None:
    """An admin lifts a lock early (staff or family) and clears the failure count; audited."""
    was = "hold" if user.locked_at is not None else ("lock" if is_locked(user) else "not_locked")
    user.locked_at = None
    user.locked_until = None
    user.failed_logins = 0
    user.failed_logins_since = None
    audit.record("user.unlock", user, actor=by, previous=was)


@dataclass(frozen=True)
class LockoutNotice:
    """What the owner is told at their next sign-in: when the account was last locked, and how many failed
    attempts there were since they last signed in."""

    locked_at: datetime
    failures: int


def notice_for(user: User) -> LockoutNotice | None:
    """The lockout notice owed to the user: a lock since their last complete sign-in, or None.

    Read from the audit log, so nothing new is stored; call it before the sign-in that updates last_login_at."""
    since = user.last_login_at
    mine = [AuditEvent.target_type == User.__tablename__, AuditEvent.target_id == str(user.id)]
    if since is not None:
        mine.append(AuditEvent.occurred_at > since)
    locked_at = db.session.scalar(select(func.max(AuditEvent.occurred_at))
                                  .where(AuditEvent.action == "auth.lockout", *mine))
    if locked_at is None:
        return None
    failures = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action.in_(_FAILED_ACTIONS), AuditEvent.outcome == "failed", *mine)) or 0
    return LockoutNotice(locked_at=locked_at, failures=failures)


def record_notice_shown(user: User, notice: LockoutNotice) -> None:
    """Audit that the owner was told of the lock (once per sign-in that showed it)."""
    audit.record("auth.lockout_notice", user, actor=user, failures=notice.failures,
                 locked_at=notice.locked_at.isoformat())
