"""Factories for leads, files, questions, tip links, availability and appointments (both sides use these).

staff_factories re-exports make_lead, make_question, make_window and make_appointment from here: one factory per
record, so a lead made for a staff test is also the submitter's own lead, as in the app.
"""
from __future__ import annotations

import itertools
import secrets
from datetime import datetime, time, timedelta

from portal.extensions import db
from portal.models import (
    Appointment,
    AvailabilityWindow,
    Case,
    FamilyMember,
    Lead,
    LeadAttachment,
    LeadNote,
    LeadQuestion,
    TipLink,
    User,
    utcnow,
)

_seq = itertools.count(1)


def make_lead(*, case: Case, member: FamilyMember | None = None, user: User | None = None, details: str = "A lead.",
              status: str = "new", assigned_to: User | None = None, anonymous: bool = False,
              created_at: datetime | None = None, **fields) -> Lead:
    """A lead on a case, from a family member (submitted by their account) or, with anonymous=True, a tipster."""
    n = next(_seq)
    submitter = None if anonymous else (user.id if user else (member.user_id if member else None))
    fields.setdefault("submitted_by_id", submitter)
    fields.setdefault("people", [])
    lead = Lead(reference=f"L-T{n:03d}-{n % 100:02d}", case_id=case.id, family_member_id=member.id if member else None,
                is_anonymous=anonymous, details=details, status=status,
                assigned_to_id=assigned_to.id if assigned_to else None, created_at=created_at or utcnow(), **fields)
    db.session.add(lead)
    db.session.commit()
    return lead


def make_attachment(*, lead: Lead, app, content: bytes = b"%PDF-1.4 test", name: str = "file.pdf",
                    content_type: str = "application/pdf", original: bytes | None = b"%PDF-1.4 as received",
                    original_content_type: str | None = None) -> LeadAttachment:
    """A stored file on a lead (written to UPLOAD_DIR), with its original sealed beside it unless original=None."""
    import hashlib
    from pathlib import Path

    from portal import crypto, uploads

    stored_name = secrets.token_hex(20)
    folder = Path(app.config["UPLOAD_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / stored_name).write_bytes(content)
    attachment = LeadAttachment(lead_id=lead.id, stored_name=stored_name, original_name=name,
                                content_type=content_type, size=len(content), sha256="0" * 64)
    if original is not None:
        attachment.original_stored_name = secrets.token_hex(20)
        sealed = crypto.seal(original, context=uploads.original_context(attachment.original_stored_name))
        (folder / attachment.original_stored_name).write_bytes(sealed.blob)
        attachment.original_key = sealed.key
        attachment.original_sha256 = hashlib.sha256(original).hexdigest()
        attachment.original_size = len(original)
        attachment.original_content_type = original_content_type or content_type
    db.session.add(attachment)
    db.session.commit()
    return attachment


def make_question(*, lead: Lead, question: str = "Can you tell us more?", asked_by: User | None = None,
                  answer: str | None = None, answered_at: datetime | None = None) -> LeadQuestion:
    """A staff question on a lead, optionally answered."""
    entry = LeadQuestion(lead_id=lead.id, question=question, asked_by_id=asked_by.id if asked_by else None,
                         answer=answer, answered_at=answered_at)
    db.session.add(entry)
    db.session.commit()
    return entry


def make_note(*, lead: Lead, body: str, author: User | None = None) -> LeadNote:
    """An internal staff note on a lead."""
    note = LeadNote(lead_id=lead.id, body=body, author_id=author.id if author else None)
    db.session.add(note)
    db.session.commit()
    return note


def make_tip_link(*, case: Case, member: FamilyMember | None = None) -> tuple[TipLink, str]:
    """A working tip link and its raw token."""
    import hashlib

    token = secrets.token_urlsafe(24)
    link = TipLink(case_id=case.id, token_hash=hashlib.sha256(token.encode()).hexdigest(),
                   created_by_family_member_id=member.id if member else None)
    db.session.add(link)
    db.session.commit()
    return link, token


def make_window(*, liaison: User, weekday: int = 1, start: time = time(17, 0), end: time = time(19, 0),
                slot_minutes: int = 30) -> AvailabilityWindow:
    """A weekly availability window (by default Tuesdays 17:00-19:00 in the agency's time zone)."""
    window = AvailabilityWindow(liaison_id=liaison.id, weekday=weekday, start_time=start, end_time=end,
                                slot_minutes=slot_minutes)
    db.session.add(window)
    db.session.commit()
    return window


def make_every_day_windows(*, liaison: User, start: time = time(9, 0), end: time = time(17, 0)) -> None:
    """Availability on every day of the week, so tests find slots whatever day they run."""
    for weekday in range(7):
        make_window(liaison=liaison, weekday=weekday, start=start, end=end)


def make_appointment(*, case: Case, member: FamilyMember | None = None, liaison: User | None = None,
                     kind: str = "slot", status: str = "booked", starts_at: datetime | None = None,
                     ends_at: datetime | None = None, created_at: datetime | None = None, mode: str = "phone",
                     callback_window: str | None = None) -> Appointment:
    """A booked slot (by default three days from now, 30 minutes) or, with kind="callback", a callback request."""
    if kind == "slot" and starts_at is None:
        starts_at = (utcnow() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    if starts_at is not None and ends_at is None:
        ends_at = starts_at + timedelta(minutes=30)
    appointment = Appointment(case_id=case.id, family_member_id=member.id if member else None,
                              liaison_id=liaison.id if liaison else case.liaison_id, kind=kind, mode=mode,
                              starts_at=starts_at, ends_at=ends_at, status=status, reason="",
                              callback_window=callback_window, created_at=created_at or utcnow(),
                              updated_at=created_at or utcnow())
    db.session.add(appointment)
    db.session.commit()
    return appointment
