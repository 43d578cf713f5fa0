"""Cases: open one, keep its family list and timeline, move it through its stages, hand it over, close it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import phonenumbers
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from .. import audit
from ..display import hidden_one_time_link
from ..errors import ServiceError
from ..extensions import db
from ..models import (
    CADENCES,
    CHANNELS,
    LANGUAGES,
    STAGE_KEYS,
    Case,
    CaseUpdate,
    FamilyMember,
    Notification,
    Stage,
    User,
    stage_info,
)
from ..models import utcnow as _utcnow
from .notifications import consent
from .notifications.consent import has_sms_consent
from .notifications.email import email_replaces_text, why_no_email
from .notifications.links import needs_one_time_link
from .notifications.notices import queue_notice
from .notifications.outbox import (
    portal_link,
    queue_sms,
    render_family_sms,
    render_sms,
    send_time_for,
    why_no_text,
)
from .notifications.states import AWAITING_CONSENT

ASSIGNABLE_ROLES = ("liaison", "supervisor")


def normalize_phone(raw: str, region: str | None = None) -> str:
    """A phone number in E.164 (+13125550123); raises ServiceError (on the phone field) if it is not valid."""
    region = region or current_app.config["DEFAULT_PHONE_REGION"]
    try:
        parsed = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException:
        raise ServiceError(str(_l("This does not look like a phone number. Try the form 312-555-0123.")),
                           "phone") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ServiceError(str(_l("This phone number is not valid. Check the digits and the area code.")),
                           "phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def assignable_staff() -> list[User]:
    """Active staff who can carry a caseload, by name."""
    return list(db.session.scalars(
        select(User).where(User.role.in_(ASSIGNABLE_ROLES), User.active.is_(True)).order_by(User.name)
    ))


def _check_assignee(user: User | None, *, what: str, field: str) -> None:
    if user is not None and (user.role not in ASSIGNABLE_ROLES or not user.is_active):
        raise ServiceError(_("%(what)s must be a liaison or supervisor who can still sign in.", what=what), field)


def open_case(*, case_number: str, decedent_name: str, date_of_death: date | None, liaison: User | None,
              backup_liaison: User | None = None, opened_by: User | None = None) -> Case:
    """Open a case at its first stage, with a liaison (and optionally a backup)."""
    _check_assignee(liaison, what=_("The liaison"), field="liaison")
    _check_assignee(backup_liaison, what=_("The backup"), field="backup")
    if liaison is not None and backup_liaison is not None and liaison.id == backup_liaison.id:
        raise ServiceError(_("The backup must be someone other than the liaison."), "backup")
    if date_of_death is not None and date_of_death > _utcnow().date():
        raise ServiceError(_("The date of death cannot be in the future."), "date_of_death")
    if not case_number.strip() or not decedent_name.strip():
        raise ServiceError(_("Enter the case number and the name of the person who died."),
                           "case_number" if not case_number.strip() else "decedent_name")
    case_number = case_number.strip()
    if db.session.scalar(select(Case.id).where(Case.case_number == case_number)) is not None:
        raise ServiceError(str(_l("A case with this number already exists.")), "case_number")
    now = _utcnow()
    case = Case(case_number=case_number, decedent_name=decedent_name.strip(), date_of_death=date_of_death,
                stage="opened", stage_changed_at=now, opened_at=now,
                liaison_id=liaison.id if liaison else None,
                backup_liaison_id=backup_liaison.id if backup_liaison else None)
    db.session.add(case)
    db.session.flush()
    audit.record("case.open", case, actor=opened_by, case_number=case.case_number)
    return case


def add_family_member(case: Case, *, name: str, relationship: str = "", phone: str | None = None,
                      email: str | None = None, language: str = "en", timezone: str | None = None,
                      is_spokesperson: bool = False, by: User | None) -> FamilyMember:
    """Attach a family member to a case; the phone, if any, is stored in E.164."""
    if language not in LANGUAGES:
        raise ServiceError(f"unknown language {language!r}")
    member = FamilyMember(
        case_id=case.id, name=name.strip(), relationship_to_decedent=relationship.strip(),
        phone=normalize_phone(phone) if phone else None,
        email=email.strip().lower() if email else None, language=language,
        timezone=timezone or current_app.config["AGENCY_TIMEZONE"], is_spokesperson=is_spokesperson,
        texts_enabled=bool(phone), cadence="biweekly",
    )
    db.session.add(member)
    db.session.flush()
    audit.record("family_member.create", member, actor=by, case_id=case.id)
    return member


def forget_number_consent(member: FamilyMember) -> None:
    """The member's number changed: its consent, request and STOP line start over; texts held for it are dropped."""
    member.texts_consent_at = member.texts_consent_method = member.texts_consent_wording = None
    member.sms_consent_requested_at = member.stop_line_sent_at = None
    db.session.execute(update(Notification).where(Notification.family_member_id == member.id,
                                                  Notification.status == AWAITING_CONSENT)
                       .values(status="cancelled").execution_options(synchronize_session=False))


def _email_consent(member: FamilyMember, agreed: bool | None, *, address: str | None, by: User | None) -> list[str]:
    """Record the member's yes (or no) to email, in the consent history too; returns ["email_consent"] when it
    changed."""
    emailed = member.email_consent_at is not None and member.email_opted_out_at is None
    if agreed is None or agreed == emailed:
        return []
    if agreed and not address:
        raise ServiceError(_("Add their email address first."), "email_consent")
    if agreed:
        member.email_consent_at, member.email_opted_out_at = _utcnow(), None
    else:
        member.email_opted_out_at = _utcnow()
    consent.record_email_event(member, agreed=agreed, address=address or member.email or "", by=by)
    return ["email_consent"]


def update_family_member(member: FamilyMember, *, name: str, relationship: str, phone: str | None,
                         email: str | None, language: str, cadence: str, is_spokesperson: bool,
                         preferred_channel: str | None = None, email_consent: bool | None = None,
                         by: User | None) -> FamilyMember:
    """Change a relative's details (e.g. a corrected phone number, a cadence they told us by phone).

    email_consent: True when they agreed to email (recorded now), False when they no longer want it (an opt-out),
    None to leave it as it is."""
    if language not in LANGUAGES or cadence not in CADENCES:
        raise ServiceError("unknown language or cadence")
    if preferred_channel and preferred_channel not in CHANNELS:
        raise ServiceError("unknown channel")
    new_phone = normalize_phone(phone) if phone else None
    changed = []
    if new_phone != member.phone:
        changed.append("phone")
        member.phone = new_phone
        member.phone_flagged_at = None  # a new number is not known to be wrong
        forget_number_consent(member)  # consent belongs to a number: the new one has to be asked
        member.phone_not_textable_at = member.phone_not_textable_code = None  # nor known not to get texts
        if new_phone and member.sms_opted_out_at is None and not member.texts_enabled:
            member.texts_enabled = True
    values = {"name": name.strip(), "relationship_to_decedent": relationship.strip(),
              "email": email.strip().lower() if email else None, "language": language, "cadence": cadence,
              "is_spokesperson": is_spokesperson, "preferred_channel": preferred_channel or None}
    if values["email"] != member.email:
        member.email_undelivered_at = None  # a new address is not known to be refused
    changed += _email_consent(member, email_consent, address=values["email"], by=by)
    for key, value in values.items():
        if getattr(member, key) != value:
            changed.append(key)
            setattr(member, key, value)
    db.session.flush()
    if changed:
        audit.record("family_member.update", member, actor=by, case_id=member.case_id, fields=sorted(changed))
    return member


@dataclass
class FamilyNotice:
    """What one family member will get: the exact text, or why no text goes to them."""

    member: FamilyMember
    text: str | None
    why_not: str | None = None
    waits_until: datetime | None = None  # the text waits for the member's daytime (08:00-21:00, quiet hours)
    awaiting_consent: bool = False  # no consent on record: the text waits for their yes (we ask first)
    email: str | None = None  # the address the same notice is emailed to, if they get email


@dataclass
class StagePreview:
    """Everything the family will see and receive when a stage changes."""

    stage: Stage
    message: str
    notices: list[FamilyNotice]


def _text_context(case: Case, stage_to: str) -> dict:
    return {"stage": stage_to, "link": portal_link("family.case", case_id=case.id)}


def preview_stage_change(case: Case, *, stage_to: str, message: str) -> StagePreview:
    """What the family will see on their page and the exact text each member will get (nothing is saved)."""
    if stage_to not in STAGE_KEYS:
        raise ServiceError(_("Choose a stage from the list."), "message")
    notices, now = [], _utcnow()
    for member in case.family_members:
        email = member.email if why_no_email(member) is None else None
        why = _("they get it by email instead") if email_replaces_text(member) else why_no_text(member)
        if why:
            notices.append(FamilyNotice(member=member, text=None, why_not=why, email=email))
            continue
        context = _text_context(case, stage_to)
        if needs_one_time_link(member):
            context["link"] = hidden_one_time_link()  # the real one is made when the stage changes
        text = render_family_sms(member, "stage_change", **context)  # as queue_family_sms does
        if has_sms_consent(member) and consent.stop_line_due(member, now):
            text = consent.with_stop_line(text, member.language)  # the first text after consent, then monthly
        send_at = send_time_for(member)
        notices.append(FamilyNotice(member=member, text=text, waits_until=send_at if send_at > now else None,
                                    awaiting_consent=not has_sms_consent(member), email=email))
    return StagePreview(stage=stage_info(stage_to), message=message.strip(), notices=notices)


def _move(case: Case, *, stage_to: str, message: str, author: User | None, kind: str) -> CaseUpdate:
    stage_from = case.stage
    now = _utcnow()
    case.stage = stage_to
    case.stage_changed_at = now
    update = add_update(case, body=message, family_visible=True, author=author, kind=kind,
                                     stage_from=stage_from, stage_to=stage_to)
    texted = notify_family(case, "stage_change", update, kind=kind, **_text_context(case, stage_to))
    audit.record("case.stage_change", case, actor=author, stage_from=stage_from, stage_to=stage_to, texts=texted)
    return update


def change_stage(case: Case, *, stage_to: str, message: str, author: User | None) -> CaseUpdate:
    """Move the case to a new stage with a message for the family; texts go to every member who gets texts."""
    if case.is_closed:
        raise ServiceError(_("This case is closed."), "message")
    if stage_to not in STAGE_KEYS or stage_to == "closed":
        raise ServiceError(_("Choose a stage from the list. To close the case, use Close the case."), "message")
    if stage_to == case.stage:
        raise ServiceError(_("The case is already at this stage."), "message")
    if not message.strip():
        raise ServiceError(_("Write a few words for the family."), "message")
    return _move(case, stage_to=stage_to, message=message, author=author, kind="stage_change")


def close_case(case: Case, *, exit_message: str, author: User | None) -> CaseUpdate:
    """Close the case with a last message for the family (they keep reading everything)."""
    if case.is_closed:
        raise ServiceError(_("This case is already closed."), "message")
    if not exit_message.strip():
        raise ServiceError(_("Write a last message for the family."), "message")
    update = _move(case, stage_to="closed", message=exit_message, author=author, kind="closure")
    case.closed_at = case.stage_changed_at
    return update


def reassign_case(case: Case, *, liaison: User, backup_liaison: User | None, handover_note: str,
                  family_message: str, author: User | None) -> tuple[CaseUpdate, CaseUpdate]:
    """Hand the case to another liaison with a note for them; the new liaison and the family are told."""
    if liaison is None:
        raise ServiceError(_("Choose the new liaison."), "liaison")
    _check_assignee(liaison, what=_("The new liaison"), field="liaison")
    _check_assignee(backup_liaison, what=_("The backup"), field="backup")
    if backup_liaison is not None and backup_liaison.id == liaison.id:
        raise ServiceError(_("The backup must be someone other than the liaison."), "backup")
    if liaison.id == case.liaison_id and (backup_liaison.id if backup_liaison else None) == case.backup_liaison_id:
        raise ServiceError(_("Nothing would change. Choose a new liaison or a new backup."), "liaison")
    if not handover_note.strip():
        raise ServiceError(_("Write a handover note for the new liaison."), "handover_note")
    previous = case.liaison
    case.liaison_id = liaison.id
    case.backup_liaison_id = backup_liaison.id if backup_liaison else None
    db.session.flush()
    note = add_update(case, body=handover_note, family_visible=False, author=author, kind="handover")
    # "Your liaison is now ..." is rendered when read, in the reader's language (display.system_words); the body
    # keeps only the words staff wrote for the family, sent as written.
    told = add_update(case, body=family_message, family_visible=True, author=author, kind="handover",
                      about_user=liaison)
    link = portal_link("family.case", case_id=case.id)
    for member in case.family_members:
        queue_notice(member, "handover", kind="handover", liaison_name=liaison.name, link=link, item=told)
    if liaison.phone and (previous is None or previous.id != liaison.id):
        staff_link = portal_link("staff.case", case_id=case.id)
        queue_sms(to=liaison.phone, kind="staff_handover", language=liaison.language, case=case,
                  body=render_sms("staff_handover", liaison.language, case_number=case.case_number,
                                  from_name=author.name if author else "", link=staff_link))
    audit.record("case.reassign", case, actor=author, liaison_from=previous.id if previous else None,
                 liaison_to=liaison.id,
                 backup_to=case.backup_liaison_id)
    return note, told


def notify_family(case: Case, name: str, item: CaseUpdate, *, kind: str, link: str, **context) -> int:
    """Tell every family member by text that there is something new (batched), with a one-time link to the item for
    a member without an account; returns how many texts."""
    return sum(queue_notice(member, name, kind=kind, link=link, item=item, **context) is not None
               for member in case.family_members)


def share_update(case: Case, *, body: str, author: User | None) -> CaseUpdate:
    """A family-visible update written by staff: on the family's timeline, and a text to each member."""
    entry = add_update(case, body=body, family_visible=True, author=author, kind="update")
    notify_family(case, "update", entry, kind="update", link=portal_link("family.case", case_id=case.id),
                  summary=entry.body[:1400])  # a text holds 1600 characters
    return entry


def add_update(case: Case, *, body: str, family_visible: bool, author: User | None, kind: str = "update",
               stage_from: str | None = None, stage_to: str | None = None,
               about_user: User | None = None) -> CaseUpdate:
    """Add a timeline entry, for the family or internal (about_user: whom system-written words name)."""
    if stage_to is not None and stage_to not in STAGE_KEYS:
        raise ServiceError(f"unknown stage {stage_to!r}")
    entry = CaseUpdate(case_id=case.id, author_id=author.id if author else None, kind=kind,
                       family_visible=family_visible, body=body.strip(), stage_from=stage_from, stage_to=stage_to,
                       about_user_id=about_user.id if about_user else None)
    db.session.add(entry)
    db.session.flush()
    audit.record("case_update.create", entry, actor=author, case_id=case.id, family_visible=family_visible,
                 kind=kind)
    return entry
