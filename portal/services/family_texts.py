"""Texts to family members from the family side: only when they can get texts, never with details unless asked."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from flask import current_app

from ..models import FamilyMember, OutboxMessage
from .messaging import queue_family_sms


def public_url(endpoint: str, **values) -> str:
    """An absolute link to a portal page, built on PUBLIC_BASE_URL (works outside a request too)."""
    path = current_app.url_map.bind("").build(endpoint, values)
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def local_time_words(moment: datetime, member: FamilyMember) -> str:
    """A time as the family member reads it: their time zone and language, e.g. 'Tuesday, March 3, 2026, 5:00 PM'."""
    zone = ZoneInfo(member.timezone or current_app.config["AGENCY_TIMEZONE"])
    local = moment.astimezone(zone)
    language = member.language or "en"
    return f"{format_date(local.date(), 'full', locale=language)}, {format_time(local, 'short', locale=language)}"


def text_family_member(member: FamilyMember, name: str, *, kind: str, urgent: bool = False,
                       **context) -> OutboxMessage | None:
    """Queue templates/sms/<name>.txt for a member who has texts on and has not opted out; else nothing."""
    if not member.can_receive_texts:
        return None
    return queue_family_sms(member, name, kind=kind, urgent=urgent, **context)
