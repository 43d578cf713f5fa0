"""Invitations: a single-use link, valid for 72 hours, that lets a family member set a password."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from .. import audit
from ..errors import ServiceError
from ..extensions import db
from ..models import FamilyMember, Invitation, User, utcnow
from . import accounts
from .notifications.outbox import portal_link, queue_family_sms


class InvitationUnusable(ServiceError):
    """The link cannot be used. reason ('invalid', 'used', 'expired' or 'revoked') is for the audit and tests only:
    the visitor sees one page and one status whatever it is, so a token's state cannot be probed."""

    def __init__(self, reason: str) -> None:
        super().__init__(str(_l("This link cannot be used")))
        self.reason = reason


class InvitationRefused(ServiceError):
    """The email belongs to an account that this password does not open here (wrong, locked, staff, inactive).

    One message for every such case, which never says whether the account exists. The failed attempt is already
    counted and audited in the session: the caller must keep (commit) it, not roll it back."""

    def __init__(self) -> None:
        super().__init__(str(_l(
            "This email and password cannot be used with this link. If you already have an account, type its "
            "password. If not, use another email address.")), "email")


def token_hash(token: str) -> str:
    """The stored form of a token: its SHA-256, so a database copy cannot be used to sign in."""
    return hashlib.sha256(token.encode()).hexdigest()


def invite_url(token: str) -> str:
    """The absolute link a family member opens, built on PUBLIC_BASE_URL."""
    return portal_link("auth.accept_invite", token=token)


def create_invitation(member: FamilyMember, *, created_by: User | None,
                      send_text: bool = True) -> tuple[Invitation, str]:
    """Create an invitation (revoking earlier open ones), queue its text, and return it with the raw token."""
    now = utcnow()
    db.session.execute(
        update(Invitation)
        .where(Invitation.family_member_id == member.id, Invitation.used_at.is_(None), Invitation.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    token = secrets.token_urlsafe(32)
    invitation = Invitation(family_member_id=member.id, token_hash=token_hash(token),
                            created_by_id=created_by.id if created_by else None, created_at=now,
                            expires_at=now + timedelta(hours=current_app.config["INVITE_TTL_HOURS"]))
    db.session.add(invitation)
    db.session.flush()
    texted = send_text and queue_family_sms(member, "invite", kind="invite", urgent=True,
                                            link=invite_url(token)) is not None
    audit.record("invitation.create", invitation, actor=created_by, family_member_id=member.id, texted=texted)
    return invitation, token


def check_invitation(token: str) -> Invitation:
    """The usable invitation for this token; raises InvitationUnusable saying why not."""
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token)))
    if invitation is None:
        raise InvitationUnusable("invalid")
    if invitation.used_at is not None:
        raise InvitationUnusable("used")
    if invitation.revoked_at is not None:
        raise InvitationUnusable("revoked")
    if invitation.expires_at <= utcnow():
        raise InvitationUnusable("expired")
    return invitation


def accept_invitation(token: str, *, email: str, password: str) -> User:
    """Use the invitation: create (or link) the family member's account and mark the link used.

    An email that already has an account goes through the counted sign-in path (accounts.authenticate): a locked
    account is refused, every wrong password counts towards the lockout as on the sign-in page, and a staff
    account is refused without its password being tried. Each refusal raises InvitationRefused, before the link
    is claimed, so the link stays usable and the counted failure can be committed."""
    invitation = check_invitation(token)
    user = accounts.find_user_by_email(email)
    if user is not None:
        # The same person may already have an account from another case; they prove it with that password.
        user = accounts.authenticate(email, password, role="family", via="invite")
        if user is None:
            raise InvitationRefused()
    # Mark used first, guarded by used_at IS NULL, so two simultaneous submissions cannot both succeed.
    claimed = db.session.execute(
        update(Invitation).where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=utcnow())
    ).rowcount
    if not claimed:
        raise InvitationUnusable("used")
    member = invitation.family_member
    if user is None:
        user = accounts.create_user(email=email, name=member.name, role="family", password=password,
                                    language=member.language, phone=member.phone, actor=None)
    member.user_id = user.id
    if not member.email:
        member.email = user.email
    audit.record("invitation.accept", invitation, actor=user, family_member_id=member.id)
    return user
