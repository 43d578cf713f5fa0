"""Cases, the family members attached to them and the case timeline."""
from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text, Time, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..contact_rules import CADENCE_DAYS, CADENCES  # noqa: F401  (the vocabulary lives with the contact rules)
from ..extensions import db
from .accounts import LANGUAGES
from .stages import STAGE_KEYS, STAGES_BY_KEY, Stage
from .types import EncryptedText, UTCDateTime, one_of, utcnow

if TYPE_CHECKING:  # for the relationship annotations only
    from .accounts import User

CHANNELS = ("phone", "sms", "email", "visit", "letter", "portal_message", "video")


class Case(db.Model):
    """One decedent's case."""

    __tablename__ = "cases"
    __table_args__ = (one_of("stage", STAGE_KEYS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_number: Mapped[str] = mapped_column(String(40), unique=True)
    decedent_name: Mapped[str] = mapped_column(String(160))
    date_of_death: Mapped[date | None] = mapped_column(Date)
    stage: Mapped[str] = mapped_column(String(32), default="opened", index=True)
    stage_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    liaison_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    backup_liaison_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # Kept by the database (models/last_contact.py), never written by the app: the latest real contact on the
    # case, and the latest one naming no family member. The contact flags read them instead of outreach.
    last_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_family_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A legal hold (set and lifted by a supervisor or admin): retention never purges a held case.
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    held_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The reason for a hold may name a suspect or a prosecutor: encrypted like the leads.
    hold_reason: Mapped[str | None] = mapped_column(EncryptedText("cases.hold_reason"))

    liaison: Mapped[User | None] = relationship("User", foreign_keys=[liaison_id])
    backup_liaison: Mapped[User | None] = relationship("User", foreign_keys=[backup_liaison_id])
    held_by: Mapped[User | None] = relationship("User", foreign_keys=[held_by_id])
    family_members: Mapped[list[FamilyMember]] = relationship("FamilyMember", back_populates="case",
                                                              order_by="FamilyMember.id")

    @property
    def stage_info(self) -> Stage:
        return STAGES_BY_KEY[self.stage]

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def is_held(self) -> bool:
        return self.held_at is not None

    def __repr__(self) -> str:
        return f"<Case {self.case_number}>"


class FamilyMember(db.Model):
    """A relative of the decedent on one case, with how they want to be contacted."""

    __tablename__ = "family_members"
    __table_args__ = (
        UniqueConstraint("case_id", "user_id"),
        one_of("language", LANGUAGES),
        one_of("cadence", CADENCES),
        one_of("preferred_channel", CHANNELS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    relationship_to_decedent: Mapped[str] = mapped_column(String(60), default="")
    phone: Mapped[str | None] = mapped_column(String(20), index=True)  # E.164
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(5), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="America/Chicago")
    is_spokesperson: Mapped[bool] = mapped_column(Boolean, default=False)
    # Contact preferences and consent.
    texts_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    texts_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    texts_consent_wording: Mapped[str | None] = mapped_column(Text)
    texts_consent_method: Mapped[str | None] = mapped_column(String(40))
    detailed_texts: Mapped[bool] = mapped_column(Boolean, default=False)
    quiet_start: Mapped[time] = mapped_column(Time, default=time(21, 0))
    quiet_end: Mapped[time] = mapped_column(Time, default=time(8, 0))
    cadence: Mapped[str] = mapped_column(String(20), default="biweekly")
    preferred_channel: Mapped[str | None] = mapped_column(String(20))
    preferred_times: Mapped[str | None] = mapped_column(String(200))
    sms_opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the one consent request went to this number, and when a text last carried "Reply STOP to stop".
    sms_consent_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stop_line_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    phone_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # "number may be wrong"
    # Email: sent only with consent (when it was given), never after an opt-out; the mail server's last permanent
    # refusal of the current address (the "email undelivered" flag), cleared when an email gets through.
    email_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    email_opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    email_undelivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The carrier said this number cannot get texts (a landline, no such phone): when, and Twilio's error code.
    # Cleared when staff change the number (services/cases.py).
    phone_not_textable_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    phone_not_textable_code: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # Kept by the database (models/last_contact.py): the latest real contact naming this member.
    last_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    case: Mapped[Case] = relationship("Case", back_populates="family_members")
    user: Mapped[User | None] = relationship("User")

    def __repr__(self) -> str:
        return f"<FamilyMember {self.id} case={self.case_id}>"


UPDATE_KINDS = ("update", "note", "stage_change", "handover", "closure", "meeting_request")


class CaseUpdate(db.Model):
    """A timeline entry on a case: written for the family, or internal to staff."""

    __tablename__ = "case_updates"
    __table_args__ = (
        Index("ix_case_updates_case_id_created_at", "case_id", "created_at"),
        # The "meeting request" flag: a few rows among every stage change and note.
        Index("ix_case_updates_meeting_requests_case_id_created_at", "case_id", "created_at",
              postgresql_where=text("kind = 'meeting_request'"), sqlite_where=text("kind = 'meeting_request'")),
        one_of("kind", UPDATE_KINDS),
        one_of("stage_from", STAGE_KEYS),
        one_of("stage_to", STAGE_KEYS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20), default="update")
    family_visible: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(EncryptedText("case_updates.body"), default="")
    stage_from: Mapped[str | None] = mapped_column(String(32))
    stage_to: Mapped[str | None] = mapped_column(String(32))
    # Whom a system-written update is about (a handover: the new liaison). Its words are rendered when read, in the
    # reader's language (display.system_words); the body holds only what staff wrote.
    about_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    case: Mapped[Case] = relationship("Case")
    author: Mapped[User | None] = relationship("User", foreign_keys=[author_id])
    about_user: Mapped[User | None] = relationship("User", foreign_keys=[about_user_id])
