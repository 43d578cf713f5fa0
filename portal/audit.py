"""The only writer of audit events: record(action, target, *, actor, **details)."""
from __future__ import annotations

from typing import Any

from .extensions import db
from .models import AuditEvent

# The client address of the unit of work, set by the web layer (web/boundary.py) in the session's info.
IP_KEY = "audit_ip"
_FROM_UNIT_OF_WORK = object()


def _target_parts(target: Any) -> tuple[str | None, str | None]:
    if target is None:
        return None, None
    if isinstance(target, tuple):
        kind, ident = target
        return kind, None if ident is None else str(ident)
    return target.__tablename__, str(target.id)


def record(action: str, target: Any = None, *, actor: Any, outcome: str = "ok", ip: Any = _FROM_UNIT_OF_WORK,
           **details: Any) -> AuditEvent:
    """Add an audit event to the session (the caller's transaction commits it).

    target is a model instance or a (type, id) tuple. actor is the User who acted, or None for the system or an
    anonymous person. ip defaults to the client address the web layer stored for this unit of work (none in jobs
    and commands, none on the anonymous tip pages); pass ip=None where the person must stay unidentified.
    """
    if ip is _FROM_UNIT_OF_WORK:
        ip = db.session.info.get(IP_KEY)
    target_type, target_id = _target_parts(target)
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        actor_role=getattr(actor, "role", None),
        action=action,
        target_type=target_type,
        target_id=target_id,
        ip=ip,
        outcome=outcome,
        details=details,
    )
    db.session.add(event)
    return event
