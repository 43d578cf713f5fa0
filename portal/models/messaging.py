"""The SMS outbox, inbound texts and the portal conversation between a family and its liaison team."""
from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import LANGUAGES
from .types import EncryptedText, UTCDateTime, one_of, utcnow

if TYPE_CHECKING:  # for the relationship annotations only
    from .accounts import User
    from .cases import Case, FamilyMember

OUTBOX_STATUSES = ("queued", "sending", "sent", "delivered", "undelivered", "failed", "deferred", "blocked",
                   "cancelled", "awaiting_consent")
NOTIFICATION_CHANNELS = ("sms", "email")
# Texts a carrier filtered or blocked (Twilio 30007 and 30034; services/notifications/carrier_codes.py names them):
# the agency-wide alarm counts these in the last hour, through the partial index below.
FILTERED_ERROR_CODES = ("30007", "30034")
FILTERED_WHERE = "error_code IN ('30007', '30034')"
# How an inbound text was handled: a keyword (STOP, HELP...), a message in a case's conversation, or unmatched.
INBOUND_HANDLINGS = ("keyword", "conversation", "unmatched")
MESSAGE_SENDERS = ("family", "staff")
MESSAGE_CHANNELS = ("portal", "sms")
# A row whose copy at the provider may still hold its body (nothing redacted, no error that stopped trying).
UNREDACTED = "provider_redacted_at IS NULL AND redact_error IS NULL"


class Notification(db.Model):
    """One text or email to send (the outbox): written in the transaction of its cause, delivered after commit."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),
        # The "texts are not getting through" flag looks only at failed texts, a small share of all.
        Index("ix_notifications_failed_family_member_id", "family_member_id", "updated_at",
              postgresql_where=text("status IN ('undelivered', 'failed')"),
              sqlite_where=text("status IN ('undelivered', 'failed')")),
        # Texts whose body Twilio still holds: the redaction job reads only these (tasks/redaction.py).
        Index("ix_notifications_provider_unredacted", "id", postgresql_where=text(UNREDACTED),
              sqlite_where=text(UNREDACTED)),
        Index("ix_notifications_carrier_filtered_updated_at", "updated_at", postgresql_where=text(FILTERED_WHERE),
              sqlite_where=text(FILTERED_WHERE)),
        one_of("channel", NOTIFICATION_CHANNELS),
        one_of("status", OUTBOX_STATUSES),
        one_of("language", LANGUAGES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), default="sms", server_default="sms")
    recipient: Mapped[str] = mapped_column(String(320))  # E.164 phone for sms, an address for email
    # Encrypted at rest; an invite link's token is redacted from it once the text is sent (tasks/delivery.py).
    body: Mapped[str] = mapped_column(EncryptedText("notifications.body"))
    language: Mapped[str] = mapped_column(String(5), default="en")
    kind: Mapped[str] = mapped_column(String(40))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    error_code: Mapped[str | None] = mapped_column(String(16))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    family_member_id: Mapped[int | None] = mapped_column(ForeignKey("family_members.id"), index=True)
    # The conversation message a text carries, so that the thread shows its delivery status.
    case_message_id: Mapped[int | None] = mapped_column(ForeignKey("case_messages.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Twilio keeps nothing: when its copy's body was blanked, or the error code that made us stop trying.
    provider_redacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    redact_error: Mapped[str | None] = mapped_column(String(16))

    case: Mapped[Case | None] = relationship("Case")
    family_member: Mapped[FamilyMember | None] = relationship("FamilyMember")

    @property
    def readable_body(self) -> str:
        """What staff read of it: a text's body; an email's subject and plain-text part (its body is their JSON)."""
        if self.channel != "email":
            return self.body
        try:
            parts = json.loads(self.body)
            return f"{parts['subject']}\n\n{parts['text']}".strip()
        except (ValueError, KeyError, TypeError):
            return self.body


class InboundSms(db.Model):
    """A text received from anyone; de-duplicated by the provider's message id."""

    __tablename__ = "inbound_sms"
    __table_args__ = (
        # The unmatched inbox, newest first, without reading every text ever received.
        Index("ix_inbound_sms_unmatched_received_at", "received_at", postgresql_where=text("handling = 'unmatched'"),
              sqlite_where=text("handling = 'unmatched'")),
        Index("ix_inbound_sms_provider_unredacted", "id", postgresql_where=text(UNREDACTED),
              sqlite_where=text(UNREDACTED)),
        one_of("handling", INBOUND_HANDLINGS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_number: Mapped[str] = mapped_column(String(20), index=True)
    to_number: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(EncryptedText("inbound_sms.body"), default="")
    handling: Mapped[str] = mapped_column(String(16), default="unmatched")  # INBOUND_HANDLINGS
    family_member_id: Mapped[int | None] = mapped_column(ForeignKey("family_members.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    linked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    provider_redacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    redact_error: Mapped[str | None] = mapped_column(String(16))


class CaseMessage(db.Model):
    """One message in a case's conversation between the family and its liaison team."""

    __tablename__ = "case_messages"
    __table_args__ = (
        Index("ix_case_messages_case_id_created_at", "case_id", "created_at"),
        # The "message unanswered" flag reads only what families wrote.
        Index("ix_case_messages_from_family_case_id_created_at", "case_id", "created_at",
              postgresql_where=text("sender = 'family'"), sqlite_where=text("sender = 'family'")),
        one_of("sender", MESSAGE_SENDERS),
        one_of("channel", MESSAGE_CHANNELS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    sender: Mapped[str] = mapped_column(String(10))  # MESSAGE_SENDERS
    family_member_id: Mapped[int | None] = mapped_column(ForeignKey("family_members.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(10), default="portal")  # MESSAGE_CHANNELS
    body: Mapped[str] = mapped_column(EncryptedText("case_messages.body"))
    inbound_sms_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_sms.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    family_member: Mapped[FamilyMember | None] = relationship("FamilyMember")
    author: Mapped[User | None] = relationship("User")


MEDIA_STATUSES = ("pending", "stored", "rejected", "failed")


class InboundSmsMedia(db.Model):
    """One picture of an MMS: fetched from the provider after the webhook, cleaned and stored, then deleted there.

    Written in the webhook's transaction as 'pending'; a job fetches it (tasks/media.py). A stored file is held
    here (the same fields as a lead attachment) until it becomes part of a lead (lead_attachment_id): at once for
    a number on one case, when staff link the text for an unknown number. 'failed' with a next_attempt_at is
    tried again by the sweep; without one it was given up. 'rejected' was refused for good (error says why).
    """

    __tablename__ = "inbound_sms_media"
    __table_args__ = (
        Index("ix_inbound_sms_media_inbound_sms_id_position", "inbound_sms_id", "position", unique=True),
        Index("ix_inbound_sms_media_status_next_attempt_at", "status", "next_attempt_at"),
        one_of("status", MEDIA_STATUSES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inbound_sms_id: Mapped[int] = mapped_column(ForeignKey("inbound_sms.id"))
    position: Mapped[int] = mapped_column(Integer)  # N of MediaUrlN
    media_sid: Mapped[str] = mapped_column(String(64))
    media_url: Mapped[str] = mapped_column(String(1000))  # as the webhook named it; fetched only from Twilio
    declared_type: Mapped[str] = mapped_column(String(100), default="")  # MediaContentTypeN: never trusted
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(String(32))
    # The held file (see LeadAttachment for what each field means), until it joins a lead.
    stored_name: Mapped[str | None] = mapped_column(String(80), unique=True)
    original_name: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(80))
    size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    original_stored_name: Mapped[str | None] = mapped_column(String(80), unique=True)
    original_sha256: Mapped[str | None] = mapped_column(String(64))
    original_size: Mapped[int | None] = mapped_column(Integer)
    original_content_type: Mapped[str | None] = mapped_column(String(80))
    original_key: Mapped[str | None] = mapped_column(EncryptedText("inbound_sms_media.original_key"))
    lead_attachment_id: Mapped[int | None] = mapped_column(ForeignKey("lead_attachments.id"))
    # Twilio's copy: when it was deleted (or found gone), or the code that made us stop trying.
    provider_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delete_error: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    inbound_sms: Mapped[InboundSms] = relationship("InboundSms")

    @property
    def is_held(self) -> bool:
        """Whether a stored file waits here for a lead."""
        return self.status == "stored" and self.lead_attachment_id is None and self.stored_name is not None
