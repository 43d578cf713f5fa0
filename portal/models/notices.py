"""One-time links: a text to a member without an account opens just one update or message (only hashes kept)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, one_of, utcnow

NOTICE_ITEM_KINDS = ("update", "message")


class NoticeLink(db.Model):
    """A link that opens one family-visible update or one staff message, in the first browser session that opens it.

    Only the SHA-256 of the link's random token is stored, and only the SHA-256 of the device nonce the first
    opening browser keeps in its session: a copy of the database opens nothing.
    """

    __tablename__ = "notice_links"
    __table_args__ = (one_of("item_kind", NOTICE_ITEM_KINDS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_member_id: Mapped[int] = mapped_column(ForeignKey("family_members.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    item_kind: Mapped[str] = mapped_column(String(10))  # NOTICE_ITEM_KINDS
    item_id: Mapped[int] = mapped_column(Integer)  # a case_updates or case_messages id (no foreign key: either)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    device_hash: Mapped[str | None] = mapped_column(String(64))  # SHA-256 of the first opener's session nonce
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
