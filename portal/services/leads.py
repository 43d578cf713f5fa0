"""Leads: submit once (however often the form is sent), references, tip links, tip look-up, answering questions."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..errors import ServiceError
from ..extensions import db
from ..models import Case, FamilyMember, Lead, LeadAttachment, LeadQuestion, TipLink, User, utcnow
from ..uploads import StoredFile

# No 0/O, 1/I/L or U: a reference read aloud over the phone or copied by hand cannot be misread.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
PERSON_FIELDS = ("name", "phone", "social", "relation", "knows")
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY_HASH = _hasher.hash("no tip has this passphrase")


@dataclass
class LeadContent:
    """What a lead says: the guided fields for an overdose death, and free text."""

    people: list[dict] = field(default_factory=list)
    last_48_hours: str = ""
    supplier: str = ""
    phone_and_accounts: str = ""
    details: str = ""

    def cleaned(self) -> LeadContent:
        """The same content with spaces trimmed and empty people left out."""
        people = []
        for person in self.people:
            entry = {key: str(person.get(key) or "").strip() for key in PERSON_FIELDS}
            if any(entry.values()) and entry not in people:
                people.append(entry)
        return LeadContent(people=people, last_48_hours=self.last_48_hours.strip(), supplier=self.supplier.strip(),
                           phone_and_accounts=self.phone_and_accounts.strip(), details=self.details.strip())

    def is_empty(self) -> bool:
        """Whether nothing at all was written."""
        c = self.cleaned()
        return not (c.people or c.last_48_hours or c.supplier or c.phone_and_accounts or c.details)


def _code(groups: tuple[int, ...]) -> str:
    return "-".join("".join(secrets.choice(ALPHABET) for _ in range(n)) for n in groups)


def new_reference() -> str:
    """An unused lead reference such as L-7Q4K-2M."""
    while True:
        reference = "L-" + _code((4, 2))
        if db.session.scalar(select(Lead.id).where(Lead.reference == reference)) is None:
            return reference


def new_tip_code() -> str:
    """An unused tip code such as T-7Q4K-2MXR."""
    while True:
        code = "T-" + _code((4, 4))
        if db.session.scalar(select(Lead.id).where(Lead.tip_code == code)) is None:
            return code


def normalize_code(raw: str) -> str:
    """A code as typed (any case, with or without dashes or spaces) in its stored form, e.g. T-7Q4K-2MXR."""
    cleaned = "".join(ch for ch in raw.upper() if ch.isalnum())
    if cleaned[:1] == "T" and len(cleaned) == 9:
        return f"T-{cleaned[1:5]}-{cleaned[5:]}"
    if len(cleaned) == 8:  # typed without the T
        return f"T-{cleaned[:4]}-{cleaned[4:]}"
    if cleaned[:1] == "L" and len(cleaned) == 7:
        return f"L-{cleaned[1:5]}-{cleaned[5:]}"
    return cleaned


def normalize_passphrase(raw: str) -> str:
    """A passphrase as typed, without dashes, spaces or case differences."""
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def submission_key(scope: str, raw_key: str) -> str:
    """The stored idempotency key: scoped to one submitter, so nobody can reach another person's lead by it."""
    return hashlib.sha256(f"{scope}:{raw_key}".encode()).hexdigest()


def tip_passphrase(nonce: str) -> str:
    """The passphrase for the tip sent with this form: the same for a resubmission, useless without the form."""
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), f"tip-passphrase:{nonce}".encode(),
                      hashlib.sha256).digest()
    letters = "".join(ALPHABET[b % len(ALPHABET)] for b in digest[:16])
    return "-".join(letters[i:i + 4] for i in range(0, 16, 4))


def find_submission(key: str) -> Lead | None:
    """The lead already made from this submission key (a double tap, a resend), if any."""
    return db.session.scalar(select(Lead).where(Lead.submission_key == key))


def submit_lead(*, case: Case, content: LeadContent, files: list[StoredFile], key: str,
                member: FamilyMember | None = None, user: User | None = None, tip_link: TipLink | None = None,
                passphrase: str | None = None, source: str = "portal") -> tuple[Lead, bool]:
    """Save a lead with its files, once per key: returns (lead, created). A repeat returns the first lead."""
    content = content.cleaned()
    if content.is_empty() and not files:
        raise ServiceError("empty lead")
    existing = find_submission(key)
    if existing is not None:
        return existing, False
    anonymous = tip_link is not None
    lead = Lead(
        reference=new_reference(), case_id=case.id, family_member_id=member.id if member else None,
        submitted_by_id=user.id if user else None, tip_link_id=tip_link.id if tip_link else None,
        is_anonymous=anonymous, people=content.people, last_48_hours=content.last_48_hours,
        supplier=content.supplier, phone_and_accounts=content.phone_and_accounts, details=content.details,
        status="new", submission_key=key, source=source,
        tip_code=new_tip_code() if anonymous else None,
        tip_passphrase_hash=_hasher.hash(normalize_passphrase(passphrase)) if anonymous and passphrase else None,
    )
    try:
        with db.session.begin_nested():  # a concurrent twin with the same key makes this fail, not a second lead
            db.session.add(lead)
            db.session.flush()
            for stored in files:
                db.session.add(LeadAttachment(
                    lead_id=lead.id, stored_name=stored.stored_name, original_name=stored.original_name,
                    content_type=stored.content_type, size=stored.size, sha256=stored.sha256,
                    original_stored_name=stored.original_stored_name, original_sha256=stored.original_sha256,
                    original_size=stored.original_size, original_content_type=stored.original_content_type,
                    original_key=stored.original_key))
            db.session.flush()
    except IntegrityError:
        existing = find_submission(key)
        if existing is None:
            raise
        return existing, False
    if anonymous:
        audit.record("lead.submit", lead, actor=None, ip=None, case_id=case.id, anonymous=True, files=len(files))
    else:
        audit.record("lead.submit", lead, actor=user, case_id=case.id, files=len(files))
    return lead, True


def create_tip_link(*, case: Case, member: FamilyMember, actor: User | None) -> tuple[TipLink, str]:
    """A new tip link for the case; returns it with the raw token (only its hash is stored)."""
    token = secrets.token_urlsafe(24)
    link = TipLink(case_id=case.id, token_hash=hashlib.sha256(token.encode()).hexdigest(),
                   created_by_family_member_id=member.id)
    db.session.add(link)
    db.session.flush()
    audit.record("tip_link.create", link, actor=actor, case_id=case.id)
    return link, token


def revoke_tip_link(*, link: TipLink, actor: User | None) -> None:
    """Stop a tip link from working (tips already left are kept)."""
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        audit.record("tip_link.revoke", link, actor=actor, case_id=link.case_id)


def find_tip_link(token: str) -> TipLink | None:
    """The working tip link for a raw token, or None if it is unknown or revoked."""
    if not token or len(token) > 100:
        return None
    link = db.session.scalar(select(TipLink).where(
        TipLink.token_hash == hashlib.sha256(token.encode()).hexdigest()))
    if link is None or link.revoked_at is not None:
        return None
    return link


def find_tip(code: str, passphrase: str) -> Lead | None:
    """The anonymous tip with this code and passphrase, or None; equally slow whether the code exists or not."""
    lead = db.session.scalar(select(Lead).where(Lead.tip_code == normalize_code(code), Lead.is_anonymous.is_(True)))
    stored = lead.tip_passphrase_hash if lead is not None and lead.tip_passphrase_hash else _DUMMY_HASH
    try:
        ok = _hasher.verify(stored, normalize_passphrase(passphrase))
    except (VerificationError, InvalidHashError):
        ok = False
    outcome = "ok" if ok and lead is not None else "failed"
    audit.record("tip.lookup", ("leads", lead.id if lead and ok else None), outcome=outcome, actor=None, ip=None)
    return lead if ok else None


def answer_question(*, question: LeadQuestion, answer: str, actor: User | None, anonymous: bool = False) -> None:
    """Save the submitter's answer to a staff question (a new answer replaces an earlier one)."""
    answer = answer.strip()
    if not answer:
        raise ServiceError("empty answer")
    question.answer = answer
    question.answered_at = utcnow()
    question.acknowledged_at = None  # staff should read the new answer
    if anonymous:
        audit.record("lead_question.answer", question, actor=None, ip=None, lead_id=question.lead_id)
    else:
        audit.record("lead_question.answer", question, actor=actor, lead_id=question.lead_id)


def questions_for(lead: Lead) -> list[LeadQuestion]:
    """The staff questions on a lead, oldest first."""
    return list(db.session.scalars(
        select(LeadQuestion).where(LeadQuestion.lead_id == lead.id).order_by(LeadQuestion.asked_at, LeadQuestion.id)))
