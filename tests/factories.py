"""Small keyword-only factories that write straight to the database (and commit)."""
from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pyotp

from portal.extensions import db
from portal.models import STAFF_ROLES, Case, CaseUpdate, FamilyMember, Outreach, User, utcnow
from portal.services.accounts import hash_password

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)
_HASH_CACHE: dict[str, str] = {}


def _hash(password: str) -> str:
    # argon2 is slow on purpose; tests reuse one hash per password.
    if password not in _HASH_CACHE:
        _HASH_CACHE[password] = hash_password(password)
    return _HASH_CACHE[password]


def make_user(*, role: str = "liaison", email: str | None = None, name: str | None = None,
              password: str = PASSWORD, language: str = "en", active: bool = True, phone: str | None = None,
              mfa: bool | None = None) -> User:
    """A user with a known password; staff also get an enrolled authenticator unless mfa=False."""
    n = next(_seq)
    enrolled = role in STAFF_ROLES if mfa is None else mfa
    user = User(email=email or f"{role}{n}@test.example", name=name or f"Test {role.title()} {n}", role=role,
                language=language, password_hash=_hash(password), active=active, session_version=1, phone=phone,
                totp_secret=pyotp.random_base32() if enrolled else None,
                mfa_enrolled_at=utcnow() if enrolled else None)
    db.session.add(user)
    db.session.commit()
    return user


def make_case(*, liaison: User | None = None, backup: User | None = None, stage: str = "opened",
              number: str | None = None, decedent: str | None = None, opened_at=None) -> Case:
    """A case, by default with no liaison."""
    n = next(_seq)
    now = opened_at or utcnow()
    case = Case(case_number=number or f"T-{n:05d}", decedent_name=decedent or f"Decedent {n}",
                date_of_death=date(2026, 1, 1), stage=stage, stage_changed_at=now, opened_at=now,
                liaison_id=liaison.id if liaison else None, backup_liaison_id=backup.id if backup else None)
    db.session.add(case)
    db.session.commit()
    return case


def make_family_member(*, case: Case, user: User | None = None, name: str | None = None,
                       phone: str | None = "+13125550150", language: str = "en", **fields) -> FamilyMember:
    """A family member on a case, optionally linked to a user account.

    With a phone, consent to texts is on record and the STOP line was sent (so that texts read as their templates);
    pass texts_consent_at=None for a number that was never asked.
    """
    n = next(_seq)
    if phone:
        fields.setdefault("texts_consent_at", datetime(2026, 1, 5, tzinfo=UTC))
        fields.setdefault("texts_consent_method", "written_form")
        fields.setdefault("stop_line_sent_at", datetime.now(UTC))
    member = FamilyMember(case_id=case.id, user_id=user.id if user else None, name=name or f"Relative {n}",
                          relationship_to_decedent="Parent", phone=phone, language=language,
                          timezone="America/Chicago", **fields)
    db.session.add(member)
    db.session.commit()
    return member


def make_family(*, case: Case | None = None, liaison: User | None = None, **member_fields):
    """A family user with a membership on a case (a new case unless given); returns (user, member, case)."""
    case = case or make_case(liaison=liaison)
    user = make_user(role="family")
    member = make_family_member(case=case, user=user, **member_fields)
    return user, member, case


def make_update(*, case: Case, body: str = "An update.", family_visible: bool = True,
                author: User | None = None) -> CaseUpdate:
    """A timeline entry."""
    update = CaseUpdate(case_id=case.id, body=body, family_visible=family_visible,
                        author_id=author.id if author else None, kind="update" if family_visible else "note")
    db.session.add(update)
    db.session.commit()
    return update


def make_outreach(*, case: Case, member: FamilyMember | None = None, staff: User | None = None,
                  channel: str = "phone", outcome: str = "reached", notes: str = "", occurred_at=None) -> Outreach:
    """One logged contact."""
    entry = Outreach(case_id=case.id, family_member_id=member.id if member else None,
                     staff_id=staff.id if staff else None, channel=channel, direction="outbound", outcome=outcome,
                     notes=notes, occurred_at=occurred_at or utcnow())
    db.session.add(entry)
    db.session.commit()
    return entry


def make_inbound_sms(*, member: FamilyMember | None = None, from_number: str | None = None, body: str = "Hello",
                     message_sid: str | None = None, handling: str | None = None):
    """A received text: linked to a member's conversation when member is given, else in the unmatched inbox."""
    from portal.models import InboundSms

    n = next(_seq)
    inbound = InboundSms(message_sid=message_sid or f"SMTEST{n:026d}",
                         from_number=from_number or (member.phone if member else f"+1312555{n % 10000:04d}"),
                         to_number="+13125550000", body=body,
                         handling=handling or ("conversation" if member else "unmatched"),
                         family_member_id=member.id if member else None, case_id=member.case_id if member else None)
    db.session.add(inbound)
    db.session.commit()
    return inbound


def make_text_picture(*, inbound, status: str = "stored", position: int = 0):
    """A picture of a received text: stored (a small PNG, cleaned and held like a real one) unless told otherwise."""
    import io

    from PIL import Image

    from portal import uploads
    from portal.models import InboundSmsMedia

    fields = {}
    if status == "stored":
        out = io.BytesIO()
        Image.new("RGB", (8, 8), (0, 90, 180)).save(out, format="PNG")
        stored = uploads.store_bytes(out.getvalue(), "text-picture-1", only=uploads.IMAGE_KINDS)
        fields = {name: getattr(stored, name) for name in (
            "stored_name", "original_name", "content_type", "size", "sha256", "original_stored_name",
            "original_sha256", "original_size", "original_content_type", "original_key")}
    media_sid = f"ME{next(_seq):032d}"
    picture = InboundSmsMedia(inbound_sms_id=inbound.id, position=position, media_sid=media_sid,
                              media_url=f"https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/"
                                        f"{inbound.message_sid}/Media/{media_sid}",
                              declared_type="image/png", status=status, **fields)
    db.session.add(picture)
    db.session.commit()
    return picture
