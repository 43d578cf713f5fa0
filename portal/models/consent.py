"""The consent history of each phone number and email address: who recorded it, when, how, and every STOP/START."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, one_of, utcnow

if TYPE_CHECKING:  # for the relationship annotations only
    from .accounts import User

CONSENT_CHANNELS = ("sms", "email")
CONSENT_EVENTS = ("granted", "revoked", "requested")
# How consent was given: said yes on a call (linked to that outreach entry), signed a written form, replied YES to
# the consent request, texted START after a STOP, turned texts on in the portal, told staff (email), or on record
# before this history.
GRANT_METHODS = ("said_yes_on_call", "written_form", "replied_yes", "replied_start", "portal_signup",
                 "before_history", "told_staff")
REVOKE_METHODS = ("replied_stop", "turned_off_in_portal", "staff_recorded_refusal")
REQUEST_METHODS = ("consent_request",)
CONSENT_METHODS = GRANT_METHODS + REVOKE_METHODS + REQUEST_METHODS


class ContactConsent(db.Model):
    """One event in the consent history of a family member's phone or email; never changed, never deleted."""

    __tablename__ = "contact_consents"
    __table_args__ = (
        Index("ix_contact_consents_family_member_id_created_at", "family_member_id", "created_at"),
        one_of("channel", CONSENT_CHANNELS),
        one_of("event", CONSENT_EVENTS),
        one_of("method", CONSENT_METHODS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    family_member_id: Mapped[int] = mapped_column(ForeignKey("family_members.id"))
    channel: Mapped[str] = mapped_column(String(8))  # CONSENT_CHANNELS
    address: Mapped[str] = mapped_column(String(320))  # the number or address this event is about
    event: Mapped[str] = mapped_column(String(12))  # CONSENT_EVENTS
    method: Mapped[str] = mapped_column(String(32))  # CONSENT_METHODS
    wording: Mapped[str | None] = mapped_column(Text)  # what the person agreed to, as it was put to them
    outreach_id: Mapped[int | None] = mapped_column(ForeignKey("outreach.id"))  # the call they said yes on
    inbound_sms_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_sms.id"))  # their YES, STOP or START
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # staff who recorded it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    recorded_by: Mapped[User | None] = relationship("User")
