"""Leads from families and anonymous tipsters, their files, staff notes and questions, and tip links."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import EncryptedJSON, EncryptedText, UTCDateTime, one_of, utcnow

if TYPE_CHECKING:  # for the relationship annotations only
    from .accounts import User
    from .cases import Case, FamilyMember

# How a lead reached us: the portal's lead form (a family member or a tipster), or a text message (MMS).
LEAD_SOURCES = ("portal", "text")
LEAD_STATUSES = ("new", "reviewing", "assigned", "followed_up", "closed")
# What the submitter sees: a simpler word for each staff-side status.
SUBMITTER_STATUS = {
    "new": "received",
    "reviewing": "being_reviewed",
    "assigned": "being_reviewed",
    "followed_up": "followed_up",
    "closed": "closed",
}


class TipLink(db.Model):
    """A link a family shares with friends so they can leave an anonymous tip; revocable."""

    __tablename__ = "tip_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_family_member_id: Mapped[int | None] = mapped_column(ForeignKey("family_members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    case: Mapped[Case] = relationship("Case")


class Lead(db.Model):
    """Information about the death from a family member or an anonymous tipster."""

    __tablename__ = "leads"
    __table_args__ = (Index("ix_leads_case_id_created_at", "case_id", "created_at"), one_of("status", LEAD_STATUSES))

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    family_member_id: Mapped[int | None] = mapped_column(ForeignKey("family_members.id"), index=True)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    tip_link_id: Mapped[int | None] = mapped_column(ForeignKey("tip_links.id"))
    is_anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    # Guided fields for overdose deaths, encrypted at rest (what a tipster or a family wrote can get someone hurt).
    # A tipster's contact details, if they give any, are in these too: there is no separate contact column.
    people: Mapped[list] = mapped_column(EncryptedJSON("leads.people"), default=list)  # [{name, phone, social, ...}]
    last_48_hours: Mapped[str] = mapped_column(EncryptedText("leads.last_48_hours"), default="")
    supplier: Mapped[str] = mapped_column(EncryptedText("leads.supplier"), default="")
    phone_and_accounts: Mapped[str] = mapped_column(EncryptedText("leads.phone_and_accounts"), default="")
    details: Mapped[str] = mapped_column(EncryptedText("leads.details"), default="")
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)
    source: Mapped[str] = mapped_column(String(8), default="portal", server_default="portal")  # LEAD_SOURCES
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A double click or a resubmitted form carries the same key, so it never makes a second lead.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    tip_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    tip_passphrase_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    case: Mapped[Case] = relationship("Case")
    family_member: Mapped[FamilyMember | None] = relationship("FamilyMember")
    assigned_to: Mapped[User | None] = relationship("User", foreign_keys=[assigned_to_id])
    attachments: Mapped[list[LeadAttachment]] = relationship("LeadAttachment", back_populates="lead",
                                                             order_by="LeadAttachment.id")

    @property
    def submitter_status(self) -> str:
        return SUBMITTER_STATUS[self.status]


class LeadAttachment(db.Model):
    """A file attached to a lead: the cleaned copy staff see, and the untouched original, sealed, beside it.

    Both live flat in UPLOAD_DIR under random names. The original is encrypted under its own key (original_key,
    itself encrypted at rest); original_sha256 is of the bytes as they were received. Files received before
    originals were kept have no original (the original_* columns are NULL).
    """

    __tablename__ = "lead_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(80))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    original_stored_name: Mapped[str | None] = mapped_column(String(80), unique=True)
    original_sha256: Mapped[str | None] = mapped_column(String(64))
    original_size: Mapped[int | None] = mapped_column(Integer)
    original_content_type: Mapped[str | None] = mapped_column(String(80))
    original_key: Mapped[str | None] = mapped_column(EncryptedText("lead_attachments.original_key"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lead: Mapped[Lead] = relationship("Lead", back_populates="attachments")

    @property
    def has_original(self) -> bool:
        return self.original_stored_name is not None


class LeadNote(db.Model):
    """An internal staff note on a lead; never shown to the submitter."""

    __tablename__ = "lead_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(EncryptedText("lead_notes.body"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User | None] = relationship("User")


class LeadQuestion(db.Model):
    """A question staff ask the submitter of a lead, and the submitter's answer."""

    __tablename__ = "lead_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    asked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    question: Mapped[str] = mapped_column(EncryptedText("lead_questions.question"))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answer: Mapped[str | None] = mapped_column(EncryptedText("lead_questions.answer"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
