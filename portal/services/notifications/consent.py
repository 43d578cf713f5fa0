"""Consent by phone number: an opt-out covers every family member who uses that number."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from ...models import FamilyMember, Notification
from .policy import OPT_OUT_CONFIRMATION
from .states import WAITING


def opted_out_numbers(session: Session, numbers: set[str]) -> set[str]:
    """Which of these numbers belong to someone who opted out of texts."""
    if not numbers:
        return set()
    return set(session.scalars(
        select(FamilyMember.phone).where(FamilyMember.phone.in_(numbers), FamilyMember.sms_opted_out_at.is_not(None))
    ))


def opt_out_number(session: Session, phone: str, *, now: datetime) -> list[FamilyMember]:
    """Opt a number out and block what is waiting for it; returns the family members who were opted in until now."""
    members = list(session.scalars(select(FamilyMember).where(FamilyMember.phone == phone)))
    newly = [m for m in members if m.sms_opted_out_at is None]
    for member in newly:
        member.sms_opted_out_at = now
    session.execute(
        update(Notification)
        .where(Notification.recipient == phone, Notification.status.in_(WAITING),
               Notification.kind != OPT_OUT_CONFIRMATION)
        .values(status="blocked", claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return newly


def opt_in_number(session: Session, phone: str) -> list[FamilyMember]:
    """Opt a number back in; returns the family members who were opted out until now."""
    members = list(session.scalars(
        select(FamilyMember).where(FamilyMember.phone == phone, FamilyMember.sms_opted_out_at.is_not(None))
    ))
    for member in members:
        member.sms_opted_out_at = None
    session.flush()
    return members


def unreachable_numbers(session: Session, numbers: set[str]) -> set[str]:
    """Which of these numbers opted out or cannot get texts (a carrier said so), in one query."""
    if not numbers:
        return set()
    return set(session.scalars(
        select(FamilyMember.phone).where(FamilyMember.phone.in_(numbers),
                                         or_(FamilyMember.sms_opted_out_at.is_not(None),
                                             FamilyMember.phone_not_textable_at.is_not(None)))
    ))


def mark_not_textable(session: Session, phone: str, code: str, *, now: datetime) -> int:
    """Mark every family member with this number "cannot get texts" (with Twilio's code) and flagged, and stop what
    is waiting for it; returns how many members were newly marked."""
    marked = session.execute(
        update(FamilyMember)
        .where(FamilyMember.phone == phone, FamilyMember.phone_not_textable_at.is_(None))
        .values(phone_not_textable_at=now, phone_not_textable_code=code,
                phone_flagged_at=func.coalesce(FamilyMember.phone_flagged_at, now))
        .execution_options(synchronize_session=False)
    ).rowcount
    session.execute(
        update(Notification)
        .where(Notification.recipient == phone, Notification.channel == "sms", Notification.status.in_(WAITING))
        .values(status="blocked", claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    return marked
