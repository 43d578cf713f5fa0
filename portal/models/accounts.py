"""People who sign in, the agency's settings, invitations and support resources."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import EncryptedText, UTCDateTime, one_of, utcnow

if TYPE_CHECKING:  # for the relationship annotations only
    from .cases import FamilyMember

ROLES = ("family", "liaison", "supervisor", "admin")
STAFF_ROLES = ("liaison", "supervisor", "admin")
LANGUAGES = ("en", "es")


class User(UserMixin, db.Model):
    """Anyone who signs in: a family member or a staff member."""

    __tablename__ = "users"
    __table_args__ = (one_of("role", ROLES), one_of("language", LANGUAGES))

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(16), index=True)
    language: Mapped[str] = mapped_column(String(5), default="en")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on sign-out and password change so that every copy of an older session cookie stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText("users.totp_secret"))  # encrypted at rest
    mfa_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Failed sign-ins (password or second factor) in the current 15-minute window; see services/lockout.py.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed_logins_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last TOTP time step accepted, so that one code cannot be used twice.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Staff who asked for the daily "who needs contact" summary (flask send-digests).
    daily_digest: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_family(self) -> bool:
        return self.role == "family"

    @property
    def sees_all_cases(self) -> bool:
        return self.role in ("supervisor", "admin")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return bool(self.active)

    def get_id(self) -> str:
        # The version travels in the session, so a bumped version signs every old cookie out.
        return f"{self.id}.{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class Agency(db.Model):
    """The one agency this portal serves, with its contact policy values."""

    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="America/Chicago")
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(Text)
    first_contact_hours: Mapped[int] = mapped_column(Integer, default=48)
    first_contact_warning_hours: Mapped[int] = mapped_column(Integer, default=24)
    default_cadence_days: Mapped[int] = mapped_column(Integer, default=14)
    stage_change_contact_days: Mapped[int] = mapped_column(Integer, default=2)
    lead_review_hours: Mapped[int] = mapped_column(Integer, default=72)
    message_reply_business_days: Mapped[int] = mapped_column(Integer, default=1)
    callback_confirm_business_days: Mapped[int] = mapped_column(Integer, default=1)
    # Retention (services/retention.py): days after a case is closed that each kind is kept; None keeps it forever.
    retention_lead_days: Mapped[int | None] = mapped_column(Integer)
    retention_tip_days: Mapped[int | None] = mapped_column(Integer)
    retention_file_days: Mapped[int | None] = mapped_column(Integer)
    retention_message_days: Mapped[int | None] = mapped_column(Integer)
    retention_text_days: Mapped[int | None] = mapped_column(Integer)
    # Days an anonymous tip thread may sit idle before its code stops taking answers; None: it never closes.
    tip_thread_idle_days: Mapped[int | None] = mapped_column(Integer)
    # Staff must sign in with a passkey: TOTP alone no longer completes a sign-in (recovery codes still do).
    require_passkeys: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # When a supervisor or admin last acknowledged the "carriers are blocking our texts" alarm
    # (services/notifications/carrier_alarm.py): it stays quiet until a blocked text arrives after this.
    carrier_alarm_acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Resource(db.Model):
    """A support service listed for families (grief support, 988, victim compensation...)."""

    __tablename__ = "resources"
    __table_args__ = (one_of("language", LANGUAGES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str | None] = mapped_column(String(40))
    url: Mapped[str | None] = mapped_column(String(500))
    language: Mapped[str | None] = mapped_column(String(5))  # None: shown in every language
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Invitation(db.Model):
    """A single-use link that lets a family member set a password; only the token's hash is stored."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_member_id: Mapped[int] = mapped_column(ForeignKey("family_members.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    family_member: Mapped[FamilyMember] = relationship("FamilyMember")
