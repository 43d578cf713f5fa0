"""Cases and family members: open a case, add people, write timeline entries."""
from __future__ import annotations

from datetime import date

import phonenumbers
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import audit
from ..extensions import db
from ..models import LANGUAGES, STAGE_KEYS, Case, CaseUpdate, FamilyMember, User, utcnow


class CaseError(ValueError):
    """A change to a case that cannot be made; the message is safe to show."""


def normalize_phone(raw: str, region: str | None = None) -> str:
    """A phone number in E.164 (+13125550123); raises CaseError with a plain message if it is not valid."""
    region = region or current_app.config["DEFAULT_PHONE_REGION"]
    try:
        parsed = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException:
        raise CaseError(str(_l("This does not look like a phone number. Try the form 312-555-0123."))) from None
    if not phonenumbers.is_valid_number(parsed):
        raise CaseError(str(_l("This phone number is not valid. Check the digits and the area code.")))
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def open_case(*, case_number: str, decedent_name: str, date_of_death: date | None, liaison: User | None,
              backup_liaison: User | None = None, opened_by: User | None = None) -> Case:
    """Open a case at the first stage."""
    case_number = case_number.strip()
    if db.session.scalar(select(Case.id).where(Case.case_number == case_number)) is not None:
        raise CaseError(str(_l("A case with this number already exists.")))
    now = utcnow()
    case = Case(case_number=case_number, decedent_name=decedent_name.strip(), date_of_death=date_of_death,
                stage="opened", stage_changed_at=now, opened_at=now,
                liaison_id=liaison.id if liaison else None,
                backup_liaison_id=backup_liaison.id if backup_liaison else None)
    db.session.add(case)
    db.session.flush()
    audit.record("case.open", case, case_number=case.case_number)
    return case


def add_family_member(case: Case, *, name: str, relationship: str = "", phone: str | None = None,
                      email: str | None = None, language: str = "en", timezone: str | None = None,
                      is_spokesperson: bool = False) -> FamilyMember:
    """Attach a family member to a case; the phone, if any, is stored in E.164."""
    if language not in LANGUAGES:
        raise CaseError(f"unknown language {language!r}")
    member = FamilyMember(
        case_id=case.id, name=name.strip(), relationship_to_decedent=relationship.strip(),
        phone=normalize_phone(phone) if phone else None,
        email=email.strip().lower() if email else None, language=language,
        timezone=timezone or current_app.config["AGENCY_TIMEZONE"], is_spokesperson=is_spokesperson,
        texts_enabled=bool(phone), cadence="biweekly",
    )
    db.session.add(member)
    db.session.flush()
    audit.record("family_member.create", member, case_id=case.id)
    return member


def add_update(case: Case, *, body: str, family_visible: bool, author: User | None, kind: str = "update",
               stage_from: str | None = None, stage_to: str | None = None) -> CaseUpdate:
    """Add a timeline entry, for the family or internal."""
    if stage_to is not None and stage_to not in STAGE_KEYS:
        raise CaseError(f"unknown stage {stage_to!r}")
    entry = CaseUpdate(case_id=case.id, author_id=author.id if author else None, kind=kind,
                       family_visible=family_visible, body=body.strip(), stage_from=stage_from, stage_to=stage_to)
    db.session.add(entry)
    db.session.flush()
    audit.record("case_update.create", entry, case_id=case.id, family_visible=family_visible, kind=kind)
    return entry
