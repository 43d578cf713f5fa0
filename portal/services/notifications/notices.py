"""Family-visible notices by text, whatever made them (a stage change, a staff update or message, a question about
a lead, a booked or moved appointment): several within the batch window (10 minutes) become one text."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from ...extensions import db
from ...models import FamilyMember, Notification, utcnow
from . import consent, policy
from .email import email_replaces_text, queue_family_email, why_no_email
from .links import link_for
from .outbox import queue_family_sms, render_family_sms
from .states import WAITING

# The kinds of text that tell a family "there is something new for you"; reminders and answers are not notices.
NOTICE_KINDS = ("update", "stage_change", "staff_message", "lead_question", "appointment_booked",
                "appointment_rescheduled", "handover", "closure", policy.NOTICE_BATCH)


def batch_window() -> timedelta:
    """How long a notice waits for others to join it."""
    return timedelta(seconds=int(current_app.config.get("NOTICE_BATCH_SECONDS", 600)))


def _waiting_notice(member: FamilyMember) -> Notification | None:
    return db.session.scalar(
        select(Notification).where(Notification.family_member_id == member.id, Notification.channel == "sms",
                                   Notification.kind.in_(NOTICE_KINDS), Notification.status.in_(WAITING))
        .order_by(Notification.id).limit(1))


def queue_notice(member: FamilyMember, name: str, *, kind: str, link: str, item=None, by_text: bool = True,
                 **context) -> Notification | None:
    """Tell one family member that there is something new, by email (if they agreed to it) and by text.

    item (the update or message it is about) gives a member without an account a one-time link on each channel.
    The text joins a notice still waiting to go to them; otherwise it waits the batch window (and the member's
    daytime), so that another one meanwhile makes one "there is news" text with the newest link. by_text=False
    sends the email only. Returns the text, or None when no text goes.
    """
    if why_no_email(member) is None:
        queue_family_email(member, name, kind=kind, link=link_for(member, item, link, channel="email")
                           if item is not None else link, **context)
    if not by_text or email_replaces_text(member):
        return None
    if item is not None:
        link = link_for(member, item, link)
    waiting = _waiting_notice(member)
    if waiting is not None:
        had_stop_line = "STOP" in waiting.body
        waiting.body = render_family_sms(member, "notice_batch", link=link)
        if had_stop_line:
            waiting.body = consent.with_stop_line(waiting.body, member.language)
        waiting.kind = policy.NOTICE_BATCH
        db.session.flush()
        return waiting
    message = queue_family_sms(member, name, kind=kind, link=link, **context)
    window = batch_window()
    if message is not None and window and message.status in ("queued", "deferred"):
        hold_until = utcnow() + window
        if message.next_attempt_at is None or message.next_attempt_at < hold_until:
            message.status, message.next_attempt_at = "deferred", hold_until
            pending = db.session.info.get(policy.OUTBOX_SESSION_KEY, [])
            if message.id in pending:
                pending.remove(message.id)
        db.session.flush()
    return message
