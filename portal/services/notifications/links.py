"""One-time links: a text to a member without an account opens just the one update or message it is about.

issue_link(member, item) writes a NoticeLink (only the SHA-256 of its random token) and returns the absolute
address /n/<token>. The first browser session that opens it binds it (the hash of a random nonce that session
keeps); that session may reload it for 7 days, every other session, an unknown token, an expired or revoked link
and an item since made internal or deleted get nothing (the route answers 404). Opening signs nobody in.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from ... import audit
from ...errors import ServiceError
from ...extensions import db
from ...models import Case, CaseMessage, CaseUpdate, FamilyMember, NoticeLink, utcnow
from .email import why_no_email
from .outbox import portal_link, why_no_text

LINK_DAYS = 7
TOKEN_BYTES = 32


@dataclass
class OpenedNotice:
    """What a one-time link shows: its one item, the member it was sent to and their case."""

    link: NoticeLink
    member: FamilyMember
    case: Case
    update: CaseUpdate | None = None
    message: CaseMessage | None = None


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_device_nonce() -> str:
    """A random nonce for a browser session to keep; only its hash goes on a link it opens."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def _kind_of(item: CaseUpdate | CaseMessage) -> str:
    if isinstance(item, CaseUpdate):
        if not item.family_visible:
            raise ServiceError("an internal update has no link")
        return "update"
    if isinstance(item, CaseMessage):
        if item.sender != "staff":
            raise ServiceError("only a staff message has a link")
        return "message"
    raise ServiceError(f"no link for {type(item).__name__}")


def issue_link(member: FamilyMember, item: CaseUpdate | CaseMessage) -> str:
    """A new one-time link (absolute address) for this member to read this one item; valid for 7 days."""
    kind = _kind_of(item)
    if item.case_id != member.case_id:
        raise ServiceError("the item is not on the member's case")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    db.session.add(NoticeLink(token_hash=_sha256(token), family_member_id=member.id, case_id=member.case_id,
                              item_kind=kind, item_id=item.id, created_at=now,
                              expires_at=now + timedelta(days=LINK_DAYS)))
    db.session.flush()
    return portal_link("notices.open_notice", token=token)


def needs_one_time_link(member: FamilyMember) -> bool:
    """Whether texts to this member point at a one-time link: no account to sign in with (with detailed texts on, the
    text carries the words and the link opens the rest)."""
    return member.user_id is None


def link_for(member: FamilyMember, item: CaseUpdate | CaseMessage, fallback: str, *, channel: str = "sms") -> str:
    """The link a text (or an email) to this member carries: a one-time link to the item without an account, else
    fallback. Each channel gets its own link, so that opening the email does not lock the text's link out.

    No link is written for a member that channel cannot reach (why_no_text, why_no_email): it would never be sent.
    """
    reachable = why_no_text(member) is None if channel == "sms" else why_no_email(member) is None
    if needs_one_time_link(member) and reachable:
        return issue_link(member, item)
    return fallback


def _item(link: NoticeLink) -> CaseUpdate | CaseMessage | None:
    if link.item_kind == "update":
        entry = db.session.get(CaseUpdate, link.item_id)
        return entry if entry is not None and entry.case_id == link.case_id and entry.family_visible else None
    message = db.session.get(CaseMessage, link.item_id)
    return message if message is not None and message.case_id == link.case_id and message.sender == "staff" else None


def _bind(link: NoticeLink, device_hash: str) -> bool:
    """Bind a never-opened link to this device; False if another session bound it first (a race)."""
    now = utcnow()
    bound = db.session.execute(
        update(NoticeLink).where(NoticeLink.id == link.id, NoticeLink.device_hash.is_(None))
        .values(device_hash=device_hash, first_opened_at=now).execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(link)
    return bool(bound) or hmac.compare_digest(link.device_hash or "", device_hash)


def open_link(token: str, device_nonce: str) -> OpenedNotice | None:
    """The item a link opens in this browser session, or None (unknown, expired, revoked, another device, gone)."""
    wanted = _sha256(token)
    link = db.session.scalar(select(NoticeLink).where(NoticeLink.token_hash == wanted))
    if link is None or not hmac.compare_digest(link.token_hash, wanted):
        return None
    if link.revoked_at is not None or utcnow() >= link.expires_at:
        return None
    item = _item(link)
    if item is None:
        return None
    device_hash = _sha256(device_nonce)
    if link.device_hash is None:
        allowed = _bind(link, device_hash)
    else:
        allowed = hmac.compare_digest(link.device_hash, device_hash)
    if not allowed:
        audit.record("notice_link.open", link, actor=None, outcome="refused", reason="other_device")
        return None
    audit.record("notice_link.open", link, actor=None, kind=link.item_kind, item_id=link.item_id)
    member = db.session.get(FamilyMember, link.family_member_id)
    opened = OpenedNotice(link=link, member=member, case=member.case)
    if isinstance(item, CaseUpdate):
        opened.update = item
    else:
        opened.message = item
    return opened

