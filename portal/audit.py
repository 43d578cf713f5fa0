"""The only writer of audit events: record(action, target, **details)."""
from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from .extensions import db
from .models import AuditEvent

_FROM_REQUEST = object()


def _target_parts(target: Any) -> tuple[str | None, str | None]:
    if target is None:
        return None, None
    if isinstance(target, tuple):
        kind, ident = target
        return kind, None if ident is None else str(ident)
    return target.__tablename__, str(target.id)


def record(action: str, target: Any = None, *, outcome: str = "ok", actor: Any = _FROM_REQUEST,
           ip: Any = _FROM_REQUEST, **details: Any) -> AuditEvent:
    """Add an audit event to the session (the caller's transaction commits it).

    target is a model instance or a (type, id) tuple. actor and ip default to the signed-in user and the
    request's address; pass ip=None where the person must stay unidentified (anonymous tips).
    """
    if actor is _FROM_REQUEST:
        actor = current_user if has_request_context() and current_user.is_authenticated else None
    if ip is _FROM_REQUEST:
        ip = request.remote_addr if has_request_context() else None
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
