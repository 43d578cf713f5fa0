"""Texts: render them in the recipient's language and queue them in the outbox, by the texts policy.

The policy, for everyone who queues a text through queue_family_sms(member, name, kind=..., urgent=..., **ctx):
- Consent first: a number with no consent on record gets the one consent request; every other text waits in the
  outbox as `awaiting_consent` until the member says yes (services/notifications/consent.py). The first text after
  consent, then one a month at most, ends with "Reply STOP to stop".
- templates/sms/<name>.txt gets `detailed` (True only if the member opted into detailed texts) and shows case
  details only inside `{% if detailed %}`; otherwise the generic "There is an update from <agency>. Read it
  here: <link>" ("Sign in to read it" only for a member with an account). Without an account the link is a
  one-time link to the one item (notifications/links.py link_for).
- Non-urgent texts wait for 08:00-21:00 in the member's time zone and outside their own quiet hours.
- Nothing goes to an opted-out number except the one opt-out confirmation, until START.
- Texts are rendered in the member's language and name the sender (the agency).
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import update

from ...extensions import db
from ...models import Case, FamilyMember, Notification, utcnow
from ...providers.sms.segments import gsm_friendly
from . import carrier_codes, consent, policy
from .policy import OUTBOX_SESSION_KEY, send_time_for
from .states import AWAITING_CONSENT, WAITING

__all__ = ["OUTBOX_SESSION_KEY", "cancel_waiting_texts", "portal_link", "queue_family_sms", "queue_sms",
           "render_family_sms", "render_sms", "request_consent", "send_time_for", "why_no_text"]


def portal_link(endpoint: str = "family.home", **values) -> str:
    """An absolute link into the portal for a text, built on PUBLIC_BASE_URL (works in workers too)."""
    path = current_app.url_map.bind("").build(endpoint, values)
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def render_sms(name: str, language: str, **context) -> str:
    """Render templates/sms/<name>.txt in the given language, stripped of surrounding blank space."""
    if "agency_name" not in context:
        from ..agency import get_agency

        context["agency_name"] = get_agency().name or current_app.config["AGENCY_NAME"]
    context.setdefault("detailed", False)
    with force_locale(language):
        return gsm_friendly(render_template(f"sms/{name}.txt", **context)).strip()


def queue_sms(*, to: str, body: str, kind: str, language: str = "en", case: Case | None = None,
              family_member: FamilyMember | None = None, urgent: bool = False,
              not_before: datetime | None = None, held: bool = False,
              case_message_id: int | None = None) -> Notification:
    """Write one text to the outbox in the caller's transaction; it is delivered after that commits.

    A not_before in the future makes the text 'deferred' until then (quiet hours); held=True keeps it
    'awaiting_consent' until the member says yes to texts.
    """
    deferred = not held and not_before is not None and not_before > utcnow()
    message = Notification(
        recipient=to,
        body=body,
        kind=kind,
        language=language,
        urgent=urgent,
        status=AWAITING_CONSENT if held else "deferred" if deferred else "queued",
        next_attempt_at=not_before if deferred else None,
        case_id=case.id if case is not None else None,
        family_member_id=family_member.id if family_member is not None else None,
        case_message_id=case_message_id,
    )
    db.session.add(message)
    db.session.flush()
    if not deferred and not held:
        db.session.info.setdefault(OUTBOX_SESSION_KEY, []).append(message.id)
    return message


def why_no_text(member: FamilyMember) -> str | None:
    """Why texts do not reach this member, in words for staff; None when they do. The one consent check."""
    if not member.phone:
        return _("no mobile number")
    if member.sms_opted_out_at is not None or consent.opted_out_numbers(db.session, {member.phone}):
        return _("replied STOP to texts")  # a STOP covers everyone who uses that number
    if not member.texts_enabled:
        return _("turned texts off")
    if member.phone_not_textable_at is not None:
        return _("this number cannot get texts: %(why)s", why=carrier_codes.meaning(member.phone_not_textable_code))
    return None


def render_family_sms(member: FamilyMember, name: str, **context) -> str:
    """The exact text a member gets from templates/sms/<name>.txt: their language, details only if they chose them."""
    context.pop("detailed", None)  # only the member's own choice decides
    context.setdefault("link", portal_link())
    return render_sms(name, member.language, member=member, detailed=bool(member.detailed_texts), **context)


def queue_family_sms(member: FamilyMember, name: str, *, kind: str, urgent: bool = False,
                     case_message_id: int | None = None, **context) -> Notification | None:
    """Render a text template for a family member in their language and queue it, if they can get texts.

    Returns None when nothing is queued (see why_no_text): callers need no checks of their own. Without consent on
    record the text is held (and the one consent request goes out). Notices that should become one text go through
    notices.queue_notice, which joins a notice still waiting for the member.
    """
    confirming_stop = kind == policy.OPT_OUT_CONFIRMATION and member.phone and member.texts_enabled
    if not confirming_stop and why_no_text(member) is not None:
        return None
    body = render_family_sms(member, name, **context)
    held = not confirming_stop and kind not in policy.ANSWERS and not consent.has_sms_consent(member)
    if held:
        if member.sms_consent_requested_at is None:
            request_consent(member)
    elif not confirming_stop:
        body = consent.take_stop_line(member, body)
    return queue_sms(to=member.phone, body=body, kind=kind, language=member.language, case=member.case,
                     family_member=member, urgent=urgent, not_before=None if urgent else send_time_for(member),
                     held=held, case_message_id=case_message_id)


def request_consent(member: FamilyMember) -> Notification | None:
    """Queue the one consent request for this member's number ("Reply YES to agree or STOP to stop")."""
    if why_no_text(member) is not None or consent.has_sms_consent(member):
        return None
    from ...display import first_name

    liaison = member.case.liaison if member.case is not None else None
    body = render_sms("consent_request", member.language, liaison_name=first_name(liaison.name) if liaison else "")
    consent.note_request(member)
    return queue_sms(to=member.phone, body=body, kind=policy.CONSENT_REQUEST, language=member.language,
                     case=member.case, family_member=member, not_before=send_time_for(member))


def cancel_waiting_texts(member: FamilyMember, *, kind: str,
                         queued_between: tuple[datetime, datetime] | None = None) -> int:
    """Cancel a member's texts and emails of this kind that have not gone out yet (e.g. reminders of a cancelled
    appointment).

    queued_between narrows it to texts written in that span (e.g. the run that queued one appointment's reminder).
    """
    where = [Notification.family_member_id == member.id, Notification.kind == kind,
             Notification.status.in_(WAITING)]
    if queued_between is not None:
        where += [Notification.created_at >= queued_between[0], Notification.created_at < queued_between[1]]
    return db.session.execute(
        update(Notification)
        .where(*where)
        .values(status="cancelled", claimed_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
