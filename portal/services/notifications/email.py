"""Email: render a notice in the recipient's language and queue it in the one outbox, beside the texts.

The policy, for everyone who tells a family member something through queue_family_notice(member, name, kind=...):
- A text goes as before (queue_family_sms and its rules). An email goes too when the member has an address, gave
  email consent and has not opted out (why_no_email). A member who prefers email and
  gets it is not texted the same notice.
- templates/email/<name>.txt and <name>.html get `detailed` (the member's detailed_texts choice) and show case
  details only inside `{% if detailed %}`; the subject names no detail unless detailed either.
- The row's body (encrypted) is JSON {"subject", "text", "html"}: exactly what is sent, so delivery renders
  nothing and the one-time-link redaction after sending covers every part.
- Emails do not wait for daytime: an inbox does not ring.
"""
from __future__ import annotations

import json
from datetime import datetime

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, literal, update
from sqlalchemy.orm import Session

from ...extensions import db
from ...models import Case, FamilyMember, Notification
from ...models.types import UTCDateTime
from ...providers.email import EmailContent
from .outbox import OUTBOX_SESSION_KEY, portal_link, queue_family_sms

# Subjects with case details, for members who chose them (and notices that carry none, as reminders).
SUBJECTS = {
    "update": _l("News about the case from %(agency)s"),
    "staff_message": _l("%(agency)s: a new message about the case"),
    "stage_change": _l("%(agency)s: the case has moved to a new step"),
    "handover": _l("%(agency)s: your liaison officer has changed"),
    "appointment_booked": _l("%(agency)s: your call is booked"),
    "appointment_cancelled": _l("%(agency)s: your call is cancelled"),
    "appointment_rescheduled": _l("%(agency)s: your call has moved"),
    "appointment_reminder_24h": _l("%(agency)s: reminder of your appointment"),
    "appointment_reminder_1h": _l("%(agency)s: your appointment starts in 1 hour"),
    "callback_confirmed": _l("%(agency)s: we got your request for a call back"),
}
GENERIC_SUBJECT = _l("There is an update from %(agency)s")
NO_DETAILS = ("appointment_reminder_24h", "appointment_reminder_1h", "callback_confirmed")


def why_no_email(member: FamilyMember) -> str | None:
    """Why emails do not reach this member, in words for staff; None when they do. The one email consent check."""
    if not member.email:
        return _("no email address")
    if member.email_opted_out_at is not None:
        return _("asked for no more emails")
    if member.email_consent_at is None:
        return _("has not agreed to email")
    # A refused address (email_undelivered_at) is still tried: the flag tells staff, and clears itself when one
    # gets through (a full mailbox or a server's bad day also answers 5xx).
    return None


def email_replaces_text(member: FamilyMember) -> bool:
    """Whether this member's notices go by email alone: they prefer email and can get it."""
    return member.preferred_channel == "email" and why_no_email(member) is None


def _agency_name() -> str:
    from ..agency import get_agency

    return get_agency().name or current_app.config["AGENCY_NAME"]


def render_family_email(member: FamilyMember, name: str, **context) -> EmailContent:
    """The exact email a member gets from templates/email/<name>.*: their language, details only if chosen."""
    context.pop("detailed", None)  # only the member's own choice decides
    context.setdefault("link", portal_link())
    context.setdefault("agency_name", _agency_name())
    detailed = bool(member.detailed_texts)
    with force_locale(member.language):
        words = SUBJECTS[name] if detailed or name in NO_DETAILS else GENERIC_SUBJECT
        subject = str(words) % {"agency": context["agency_name"]}
        values = {**context, "member": member, "detailed": detailed, "language": member.language,
                  "subject": subject}
        text = render_template(f"email/{name}.txt", **values).strip() + "\n"
        html = render_template(f"email/{name}.html", **values)
    return EmailContent(subject=subject, text=text, html=html)


def stored_body(content: EmailContent) -> str:
    """What the outbox keeps of an email (encrypted in its body column)."""
    return json.dumps({"subject": content.subject, "text": content.text, "html": content.html},
                      ensure_ascii=False)


def content_of(body: str) -> EmailContent:
    """The email parts back from an outbox row's body."""
    parts = json.loads(body)
    return EmailContent(subject=parts["subject"], text=parts["text"], html=parts["html"])


def queue_email(*, to: str, content: EmailContent, kind: str, language: str = "en", case: Case | None = None,
                family_member: FamilyMember | None = None, urgent: bool = False) -> Notification:
    """Write one email to the outbox in the caller's transaction; it is delivered after that commits."""
    message = Notification(channel="email", recipient=to, body=stored_body(content), kind=kind, language=language,
                           urgent=urgent, status="queued",
                           case_id=case.id if case is not None else None,
                           family_member_id=family_member.id if family_member is not None else None)
    db.session.add(message)
    db.session.flush()
    db.session.info.setdefault(OUTBOX_SESSION_KEY, []).append(message.id)
    return message


def queue_family_email(member: FamilyMember, name: str, *, kind: str, urgent: bool = False,
                       **context) -> Notification | None:
    """Render an email template for a family member in their language and queue it, if they can get email.

    Returns None when nothing is queued (see why_no_email): callers need no checks of their own."""
    if why_no_email(member) is not None:
        return None
    content = render_family_email(member, name, **context)
    return queue_email(to=member.email, content=content, kind=kind, language=member.language, case=member.case,
                       family_member=member, urgent=urgent)


def queue_family_notice(member: FamilyMember, name: str, *, kind: str, urgent: bool = False,
                        **context) -> Notification | None:
    """Tell a family member something on each channel they chose: email if they agreed to it, and the text as
    queue_family_sms decides (not both when they prefer email). Returns the text queued, or None (as
    queue_family_sms does, so callers can count texts)."""
    queue_family_email(member, name, kind=kind, urgent=urgent, **context)
    if email_replaces_text(member):
        return None
    return queue_family_sms(member, name, kind=kind, urgent=urgent, **context)


def record_address_state(session: Session, *, member_id: int | None, address: str,
                         refused_at: datetime | None) -> None:
    """Note on the member whether the mail server refused this, their current address, for good (None: it works).

    Delivery calls it in its own session: refused_at raises the "email undelivered" flag, None clears it."""
    if member_id is None:
        return
    member = FamilyMember.__table__
    where = [member.c.id == member_id, member.c.email == address]
    if refused_at is None:
        where.append(member.c.email_undelivered_at.is_not(None))  # no write for every email that goes out
        value = None
    else:  # the first refusal since it last worked: "not getting through for <age>" counts from there
        value = func.coalesce(member.c.email_undelivered_at, literal(refused_at, UTCDateTime()))
    session.execute(update(member).where(*where).values(email_undelivered_at=value))
