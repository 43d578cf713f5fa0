"""A family member's preferences: language, texts and consent, quiet hours, contact cadence, spokesperson."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from .. import audit
from ..errors import ServiceError
from ..extensions import db
from ..models import CADENCES, LANGUAGES, FamilyMember, User
from .notifications import consent

# Shown next to the switches; the exact words shown are stored with the consent.
TEXTS_CONSENT_WORDING = _l("Yes, you may send me text messages about this case. Message and data rates may "
                           "apply. I can reply STOP at any time to stop them.")
DETAILED_TEXTS_WORDING = _l("Put case details in my texts. Anyone who can see my phone may read them.")
CONSENT_METHOD = "portal_signup"  # models.consent.GRANT_METHODS
PREFERRED_CHANNELS = ("phone", "sms", "email", "video", "visit")


@dataclass
class Preferences:
    """Everything on the preferences page, as typed."""

    language: str
    texts_enabled: bool
    detailed_texts: bool
    quiet_start: time
    quiet_end: time
    cadence: str
    preferred_channel: str | None
    preferred_times: str
    is_spokesperson: bool


def set_language(*, user: User, language: str) -> None:
    """Switch the whole family side and every text to this language, on every case the person is part of."""
    if language not in LANGUAGES:
        raise ServiceError(f"unknown language {language!r}")
    if user.language != language:
        user.language = language
    db.session.execute(update(FamilyMember).where(FamilyMember.user_id == user.id).values(language=language))
    db.session.flush()
    audit.record("preferences.language", user, actor=user, language=language)


def update_preferences(*, member: FamilyMember, user: User, prefs: Preferences, consent_wording: str) -> list[str]:
    """Save the preferences; records consent when texts are turned on. Returns the names of what changed."""
    if prefs.cadence not in CADENCES:
        raise ServiceError(str(_l("Choose how often we should contact you.")), "cadence")
    if prefs.preferred_channel and prefs.preferred_channel not in PREFERRED_CHANNELS:
        raise ServiceError(str(_l("Choose how you like to be contacted.")), "preferred_channel")
    if prefs.texts_enabled and not member.phone:
        raise ServiceError(str(_l("We do not have your mobile number. Ask your liaison to add it.")), "texts_enabled")
    changed: list[str] = []
    if prefs.language != member.language or prefs.language != user.language:
        set_language(user=user, language=prefs.language)
        changed.append("language")
    if prefs.texts_enabled != member.texts_enabled:
        member.texts_enabled = prefs.texts_enabled
        if prefs.texts_enabled and member.sms_opted_out_at is None:
            consent.record_consent(member, method=CONSENT_METHOD, wording=consent_wording, by=user)
        elif not prefs.texts_enabled:
            consent.record_texts_turned_off(member, by=user)
        # A STOP stays until START comes from the phone: it covers the number (maybe shared), and the carrier
        # refuses our texts to it until then anyway (see portal/sms/consent.py).
        changed.append("texts_enabled")
    detailed = prefs.detailed_texts and prefs.texts_enabled
    for name, value in (("detailed_texts", detailed), ("quiet_start", prefs.quiet_start),
                        ("quiet_end", prefs.quiet_end), ("cadence", prefs.cadence),
                        ("preferred_channel", prefs.preferred_channel or None),
                        ("preferred_times", prefs.preferred_times.strip() or None)):
        if getattr(member, name) != value:
            setattr(member, name, value)
            changed.append(name)
    if prefs.is_spokesperson != member.is_spokesperson:
        if prefs.is_spokesperson:  # one spokesperson per family
            db.session.execute(update(FamilyMember).where(FamilyMember.case_id == member.case_id,
                                                          FamilyMember.id != member.id)
                               .values(is_spokesperson=False))
        member.is_spokesperson = prefs.is_spokesperson
        changed.append("is_spokesperson")
    db.session.flush()
    if changed:
        audit.record("preferences.update", member, actor=user, case_id=member.case_id, changed=changed,
                     texts_enabled=member.texts_enabled, consent_method=CONSENT_METHOD if "texts_enabled" in changed
                     and member.texts_enabled else None)
    return changed
