"""Texts: render them in the recipient's language and queue them in the outbox."""
from __future__ import annotations

from flask import current_app, render_template
from flask_babel import force_locale

from ..extensions import db
from ..models import Case, FamilyMember, OutboxMessage

OUTBOX_SESSION_KEY = "outbox_new_ids"


def render_sms(name: str, language: str, **context) -> str:
    """Render templates/sms/<name>.txt in the given language, stripped of surrounding blank space."""
    context.setdefault("agency_name", current_app.config["AGENCY_NAME"])
    with force_locale(language):
        return render_template(f"sms/{name}.txt", **context).strip()


def queue_sms(*, to: str, body: str, kind: str, language: str = "en", case: Case | None = None,
              family_member: FamilyMember | None = None, urgent: bool = False) -> OutboxMessage:
    """Write one text to the outbox in the caller's transaction; it is delivered after that commits."""
    message = OutboxMessage(
        to_number=to,
        body=body,
        kind=kind,
        language=language,
        urgent=urgent,
        status="queued",
        case_id=case.id if case is not None else None,
        family_member_id=family_member.id if family_member is not None else None,
    )
    db.session.add(message)
    db.session.flush()
    db.session.info.setdefault(OUTBOX_SESSION_KEY, []).append(message.id)
    return message


def queue_family_sms(member: FamilyMember, name: str, *, kind: str, urgent: bool = False,
                     **context) -> OutboxMessage | None:
    """Render a text template for a family member in their language and queue it, if they can get texts."""
    if not member.phone:
        return None
    body = render_sms(name, member.language, member=member, **context)
    return queue_sms(to=member.phone, body=body, kind=kind, language=member.language, case=member.case,
                     family_member=member, urgent=urgent)
