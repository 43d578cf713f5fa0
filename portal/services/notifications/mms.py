"""Pictures texted to us (MMS): recorded with their text, fetched by a job, then a lead or held for staff.

The webhook records one InboundSmsMedia row per MediaUrlN in its own transaction and nothing else (fetching is
tasks/media.py's job, after commit). Once every picture of a text is done (stored, rejected or given up):
- from a number on one case, the stored pictures and the text's words become a lead on that member's case
  (source "text") and a receipt goes back in the member's language;
- from an unknown number, or one on several cases, the files stay held with the text in the unmatched inbox,
  until staff link the text to a family member: then they become that member's lead the same way.
"""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from sqlalchemy import select

from ... import audit
from ...extensions import db
from ...models import FamilyMember, InboundSms, InboundSmsMedia, Lead, LeadAttachment
from ...uploads import MAX_FILES, StoredFile
from ..leads import LeadContent, submission_key, submit_lead
from .outbox import queue_family_sms

log = logging.getLogger(__name__)

MEDIA_SESSION_KEY = "inbound_media_new_ids"
RECEIPT = "mms_receipt"


def media_sid_of(url: str) -> str:
    """The media sid a MediaUrl ends with (.../Media/ME...), or '' (used only to delete Twilio's copy)."""
    try:
        last = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    except ValueError:
        return ""
    last = last.removesuffix(".json")
    return last if last.startswith("ME") and last.isalnum() and len(last) <= 64 else ""


def media_in_form(form) -> list[tuple[str, str]]:
    """(MediaUrlN, MediaContentTypeN) of a Twilio webhook's form, at most MAX_FILES of them."""
    try:
        count = int(form.get("NumMedia") or 0)
    except ValueError:
        count = 0
    found = []
    for index in range(max(0, min(count, MAX_FILES))):
        url = (form.get(f"MediaUrl{index}") or "").strip()
        if url:
            found.append((url[:1000], (form.get(f"MediaContentType{index}") or "")[:100]))
    return found


def record_media(inbound: InboundSms, media: list[tuple[str, str]]) -> list[InboundSmsMedia]:
    """Write one pending row per picture of a text, in the caller's transaction; fetched after it commits."""
    rows = [InboundSmsMedia(inbound_sms_id=inbound.id, position=index, media_sid=media_sid_of(url), media_url=url,
                            declared_type=kind, status="pending")
            for index, (url, kind) in enumerate(media)]
    db.session.add_all(rows)
    db.session.flush()
    db.session.info.setdefault(MEDIA_SESSION_KEY, []).extend(row.id for row in rows)
    return rows


def media_of(inbound_id: int) -> list[InboundSmsMedia]:
    """Every picture of one text, in the order it was sent."""
    return list(db.session.scalars(select(InboundSmsMedia).where(InboundSmsMedia.inbound_sms_id == inbound_id)
                                   .order_by(InboundSmsMedia.position)))


def held_media(inbound_ids: list[int]) -> dict[int, list[InboundSmsMedia]]:
    """For the unmatched inbox: each text's pictures (held, rejected or still coming), by text id."""
    found: dict[int, list[InboundSmsMedia]] = {}
    if not inbound_ids:
        return found
    for row in db.session.scalars(select(InboundSmsMedia).where(InboundSmsMedia.inbound_sms_id.in_(inbound_ids))
                                  .order_by(InboundSmsMedia.inbound_sms_id, InboundSmsMedia.position)):
        found.setdefault(row.inbound_sms_id, []).append(row)
    return found


def is_final(row: InboundSmsMedia) -> bool:
    """Whether nothing more will happen to a picture's file: stored, rejected, or failed and given up."""
    return row.status in ("stored", "rejected") or (row.status == "failed" and row.next_attempt_at is None)


def _as_stored(row: InboundSmsMedia) -> StoredFile:
    return StoredFile(stored_name=row.stored_name, original_name=row.original_name, content_type=row.content_type,
                      size=row.size, sha256=row.sha256, original_stored_name=row.original_stored_name,
                      original_sha256=row.original_sha256, original_size=row.original_size,
                      original_content_type=row.original_content_type, original_key=row.original_key)


def lead_from_text(inbound: InboundSms) -> Lead | None:
    """Make the lead of a text's pictures once all are done, for the member it is linked to; None until then.

    Once per text (its MessageSid is the lead's submission key); a receipt goes to the member when it is made."""
    if inbound.handling != "conversation" or inbound.family_member_id is None:
        return None
    rows = media_of(inbound.id)
    if not rows or not all(is_final(row) for row in rows):
        return None
    held = [row for row in rows if row.is_held]
    if not held:
        return None
    member = db.session.get(FamilyMember, inbound.family_member_id)
    lead, created = submit_lead(case=member.case, content=LeadContent(details=inbound.body or ""),
                                files=[_as_stored(row) for row in held],
                                key=submission_key("text", inbound.message_sid), member=member, user=member.user,
                                source="text")
    attachments = {a.stored_name: a.id for a in db.session.scalars(
        select(LeadAttachment).where(LeadAttachment.lead_id == lead.id))}
    for row in held:
        row.lead_attachment_id = attachments.get(row.stored_name)
    db.session.flush()
    if created:
        audit.record("inbound_sms.lead", inbound, actor=None, lead_id=lead.id, case_id=member.case_id,
                     files=len(held))
        queue_family_sms(member, RECEIPT, kind=RECEIPT, urgent=True, reference=lead.reference, count=len(held))
        log.info("text pictures became a lead inbound_id=%s lead_id=%s files=%d", inbound.id, lead.id, len(held))
    return lead
