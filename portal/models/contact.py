"""Outreach (every contact or attempt), liaison availability and appointments."""
from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Time, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .cases import CHANNELS
from .types import EncryptedText, UTCDateTime, one_of, utcnow

if TYPE_CHECKING:  # for the relationship annotations only
    from .accounts import User
    from .cases import Case, FamilyMember

DIRECTIONS = ("outbound", "inbound")
OUTCOMES = ("reached", "left_voicemail", "no_answer", "wrong_number", "declined", "message_sent", "message_received",
            "attended", "no_show")
# What an automatic (is_system) entry was made from; source_id is that row's id.
OUTREACH_SOURCES = ("sms", "inbound_sms", "portal_message", "appointment")


class Outreach(db.Model):
    """One contact or attempt with a family; never deleted, corrected by a new entry."""

    __tablename__ = "outreach"
    __table_args__ = (
        Index("ix_outreach_case_id_occurred_at", "case_id", "occurred_at"),
        Index("ix_outreach_family_member_id_occurred_at", "family_member_id", "occurred_at"),
        # "Was this entry corrected?" must not scan millions of rows; few entries are corrections.
        Index("ix_outreach_corrects_id", "corrects_id", postgresql_where=text("corrects_id IS NOT NULL"),
              sqlite_where=text("corrects_id IS NOT NULL")),
        # "The latest contact naming no one" (it counts for every family member): a short probe per case.
        Index("ix_outreach_whole_family_case_id_occurred_at", "case_id", "occurred_at",
              postgresql_where=text("family_member_id IS NULL"), sqlite_where=text("family_member_id IS NULL")),
        one_of("channel", CHANNELS),
        one_of("direction", DIRECTIONS),
        one_of("outcome", OUTCOMES),
        one_of("source_type", OUTREACH_SOURCES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    family_member_id: Mapped[int | None] = mapped_column(ForeignKey("family_members.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(10), default="outbound")
    outcome: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    notes: Mapped[str] = mapped_column(EncryptedText("outreach.notes"), default="")  # internal: never to the family
    is_system: Mapped[bool] = mapped_column(Boolean, default=False)
    source_type: Mapped[str | None] = mapped_column(String(20))  # OUTREACH_SOURCES
    source_id: Mapped[int | None] = mapped_column(Integer)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("outreach.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    case: Mapped[Case] = relationship("Case")
    family_member: Mapped[FamilyMember | None] = relationship("FamilyMember")
    staff: Mapped[User | None] = relationship("User", foreign_keys=[staff_id])
    corrects: Mapped[Outreach | None] = relationship("Outreach", remote_side=[id])


class AvailabilityWindow(db.Model):
    """A weekly window a liaison offers for calls, in the agency's time zone (e.g. Tue 17:00-19:00)."""

    __tablename__ = "availability_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    liaison_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # Monday 0 .. Sunday 6
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    slot_minutes: Mapped[int] = mapped_column(Integer, default=30)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AvailabilityException(db.Model):
    """A day (or part of one) when a liaison is not available despite their weekly windows."""

    __tablename__ = "availability_exceptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    liaison_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time | None] = mapped_column(Time)  # None: the whole day
    end_time: Mapped[time | None] = mapped_column(Time)
    reason: Mapped[str] = mapped_column(EncryptedText("availability_exceptions.reason"), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


APPOINTMENT_KINDS = ("slot", "callback")
APPOINTMENT_MODES = ("phone", "video", "in_person")
APPOINTMENT_STATUSES = ("requested", "booked", "confirmed", "cancelled", "rescheduled", "completed", "no_show")
ACTIVE_SLOT_STATUSES = ("booked", "confirmed")
_ACTIVE = "status IN ('booked', 'confirmed')"


class Appointment(db.Model):
    """A booked slot or a requested callback window between a family member and a liaison."""

    __tablename__ = "appointments"
    __table_args__ = (
        # Two people can never hold one slot: the database refuses a second active booking.
        Index("uq_appointments_liaison_slot_active", "liaison_id", "starts_at", unique=True,
              sqlite_where=text(_ACTIVE), postgresql_where=text(_ACTIVE)),
        Index("ix_appointments_case_id", "case_id"),
        Index("ix_appointments_liaison_id_starts_at", "liaison_id", "starts_at"),  # a liaison's appointments
        one_of("kind", APPOINTMENT_KINDS),
        one_of("mode", APPOINTMENT_MODES),
        one_of("status", APPOINTMENT_STATUSES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    family_member_id: Mapped[int | None] = mapped_column(ForeignKey("family_members.id"))
    liaison_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(10), default="slot")
    mode: Mapped[str] = mapped_column(String(10), default="phone")
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    callback_window: Mapped[str | None] = mapped_column(EncryptedText("appointments.callback_window"))
    reason: Mapped[str] = mapped_column(EncryptedText("appointments.reason"), default="")
    status: Mapped[str] = mapped_column(String(12), default="booked", index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rescheduled_from_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))
    reminder_24h_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminder_1h_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    case: Mapped[Case] = relationship("Case")
    family_member: Mapped[FamilyMember | None] = relationship("FamilyMember")
    liaison: Mapped[User | None] = relationship("User")
