"""The people and cases the journeys use: the demo data a newcomer sees after `make run` (fictional people)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pyotp
from sqlalchemy import select

from portal import access
from portal.demo import DEMO_PASSWORD, seed_demo
from portal.extensions import db
from portal.models import Case, CaseUpdate, FamilyMember, User, utcnow
from portal.services import accounts, invitations

PASSWORD = DEMO_PASSWORD
# A fixed moment for one update, so a page can be checked for a date written the Spanish way.
UPDATE_AT = datetime(2026, 11, 26, 21, 30, tzinfo=UTC)  # 3:30 PM in Chicago
UPDATE_BODY = "The lab called today. Results should come back in about four weeks. I will call you then."


@dataclass
class Demo:
    """Handles on the demo people the journeys act as."""

    liaison: User
    supervisor: User
    family: User  # Maria Ellis, who already has an account


def load_demo() -> Demo:
    """Seed the demo data (once per test; every test starts empty) and return the people in it."""
    seed_demo()
    db.session.commit()

    def user(email: str) -> User:
        return db.session.scalar(select(User).where(User.email == email))

    return Demo(liaison=user("liaison.rivera@demo.example"), supervisor=user("supervisor.lind@demo.example"),
                family=user("family.ellis@demo.example"))


def visible_case_count(user: User, *, open_only: bool = False) -> int:
    """How many cases this person may see (their caseload, or every case for a supervisor)."""
    stmt = access.cases_visible_to(user)
    if open_only:
        stmt = stmt.where(Case.closed_at.is_(None))
    return len(db.session.scalars(stmt).all())


def member_named(name: str) -> FamilyMember:
    """A demo family member by name."""
    return db.session.scalar(select(FamilyMember).where(FamilyMember.name == name))


def add_dated_update(case: Case, *, author: User | None) -> CaseUpdate:
    """A family-visible update at UPDATE_AT, the newest on the case."""
    update = CaseUpdate(case_id=case.id, author_id=author.id if author else None, kind="update",
                        family_visible=True, body=UPDATE_BODY, created_at=UPDATE_AT)
    db.session.add(update)
    db.session.commit()
    return update


def invite(member: FamilyMember, *, by: User) -> None:
    """The liaison's invite, made by the invitation service; its link goes out in a text."""
    invitations.create_invitation(member, created_by=by)
    db.session.commit()


def enrol_authenticator(user: User) -> None:
    """Give a staff member a confirmed authenticator, as if they had set it up on an earlier visit."""
    user = db.session.get(User, user.id)
    user.totp_secret = pyotp.random_base32(length=32)
    user.mfa_enrolled_at = utcnow()
    db.session.commit()


def give_account(member: FamilyMember, *, email: str, password: str) -> User:
    """A portal account for a family member, as if they had accepted their invite some time ago."""
    member = db.session.get(FamilyMember, member.id)
    user = accounts.create_user(email=email, name=member.name, role="family", password=password,
                                language=member.language, phone=member.phone, actor=None)
    member.user_id = user.id
    db.session.commit()
    return user
