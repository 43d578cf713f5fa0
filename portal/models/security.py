"""Sign-in security records: single-use MFA recovery codes (only their hashes), passkeys and their challenges."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, one_of, utcnow

CHALLENGE_PURPOSES = ("register", "sign_in")


class MfaRecoveryCode(db.Model):
    """One recovery code for a staff member's second factor; usable once, stored as a SHA-256 hash."""

    __tablename__ = "mfa_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Passkey(db.Model):
    """A staff member's WebAuthn credential (a security key, a phone, a laptop's own sensor): a second factor.

    Only public parts are kept: the credential id the browser names, the COSE public key and the signature
    counter, which must go up at every use (a cloned key shows up as a counter that did not).
    """

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary())
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    transports: Mapped[list] = mapped_column(JSON, default=list)  # e.g. ["usb", "nfc"]: hints for the browser
    name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebauthnChallenge(db.Model):
    """A challenge handed to the browser for one passkey ceremony; deleted when used, so it works once.

    The session cookie carries the challenge too, but a cookie can be copied and sent again: this row is what
    makes the challenge single-use. Only its SHA-256 is stored.
    """

    __tablename__ = "webauthn_challenges"
    __table_args__ = (one_of("purpose", CHALLENGE_PURPOSES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # "register" or "sign_in"
    challenge_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
