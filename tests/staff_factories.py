"""Factories for the staff-side tests: leads, messages, texts, appointments (keyword-only, commit each)."""
from __future__ import annotations

from datetime import datetime

from portal.extensions import db
from portal.models import (
    Case,
    CaseMessage,
    CaseUpdate,
    FamilyMember,
    Lead,
    LeadAttachment,
    Notification,
    Outreach,
    User,
    utcnow,
)

from .family_factories import make_appointment, make_lead, make_question, make_window  # noqa: F401  (one of each)


def make_attachment(*, lead: Lead, stored_name: str, original_name: str = "photo.jpg",
                    content_type: str = "image/jpeg", size: int = 3, original: bytes | None = None) -> LeadAttachment:
    """A file row for a lead (the caller writes the file under UPLOAD_DIR); with `original`, that original is
    sealed beside it, as an upload's is."""
    attachment = LeadAttachment(lead_id=lead.id, stored_name=stored_name, original_name=original_name,
                                content_type=content_type, size=size, sha256="0" * 64)
    if original is not None:
        import hashlib
        import secrets
        from pathlib import Path

        from flask import current_app

        from portal import crypto, uploads

        attachment.original_stored_name = secrets.token_hex(20)
        sealed = crypto.seal(original, context=uploads.original_context(attachment.original_stored_name))
        Path(current_app.config["UPLOAD_DIR"], attachment.original_stored_name).write_bytes(sealed.blob)
        attachment.original_key, attachment.original_size = sealed.key, len(original)
        attachment.original_sha256 = hashlib.sha256(original).hexdigest()
        attachment.original_content_type = content_type
    db.session.add(attachment)
    db.session.commit()
    return attachment


def make_message(*, case: Case, sender: str = "family", member: FamilyMember | None = None,
                 author: User | None = None, body: str = "Hello?", created_at: datetime | None = None) -> CaseMessage:
    """One message in a case conversation."""
    message = CaseMessage(case_id=case.id, sender=sender, family_member_id=member.id if member else None,
                          author_id=author.id if author else None, body=body, created_at=created_at or utcnow())
    db.session.add(message)
    db.session.commit()
    return message


def make_text(*, member: FamilyMember, status: str = "sent", created_at: datetime | None = None,
              updated_at: datetime | None = None, to: str | None = None) -> Notification:
    """One outbox row for a family member."""
    at = created_at or utcnow()
    message = Notification(recipient=to or member.phone, body="There is an update.", kind="stage_change",
                            status=status, case_id=member.case_id, family_member_id=member.id, created_at=at,
                            updated_at=updated_at or at)
    db.session.add(message)
    db.session.commit()
    return message


def make_case_update(*, case: Case, kind: str, created_at: datetime | None = None, family_visible: bool = True,
                     body: str = "", author: User | None = None) -> CaseUpdate:
    """A timeline entry of any kind (a meeting request, a stage change...)."""
    update = CaseUpdate(case_id=case.id, kind=kind, family_visible=family_visible, body=body,
                        author_id=author.id if author else None, created_at=created_at or utcnow())
    db.session.add(update)
    db.session.commit()
    return update


def make_contact(*, case: Case, member: FamilyMember | None = None, at: datetime, outcome: str = "reached",
                 channel: str = "phone", staff: User | None = None, is_system: bool = False,
                 source_type: str | None = None, corrects: Outreach | None = None,
                 direction: str = "outbound") -> Outreach:
    """A logged contact at a given time."""
    entry = Outreach(case_id=case.id, family_member_id=member.id if member else None,
                     staff_id=staff.id if staff else None, channel=channel, direction=direction, outcome=outcome,
                     occurred_at=at, is_system=is_system, source_type=source_type,
                     corrects_id=corrects.id if corrects else None)
    db.session.add(entry)
    db.session.commit()
    return entry


def make_exception(*, liaison: User, day=None, reason: str = "Training"):
    """A day off."""
    from datetime import date

    from portal.models import AvailabilityException

    row = AvailabilityException(liaison_id=liaison.id, day=day or date(2026, 12, 24), reason=reason)
    db.session.add(row)
    db.session.commit()
    return row


def make_resource(*, title: str = "988 Lifeline"):
    """A support resource."""
    from portal.models import Resource

    row = Resource(title=title, description="Call or text 988.")
    db.session.add(row)
    db.session.commit()
    return row
