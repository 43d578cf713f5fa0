"""Jinja filters and globals: local times, stage words, language names."""
from __future__ import annotations

from datetime import date, datetime

from babel.dates import get_datetime_format
from flask import Flask
from flask_babel import format_date, format_datetime, format_time, get_locale
from flask_babel import lazy_gettext as _l

from ..models import STAGES, STAGES_BY_KEY

CHANNEL_LABELS = {
    "phone": _l("Phone call"), "sms": _l("Text message"), "email": _l("Email"), "visit": _l("Visit"),
    "letter": _l("Letter"), "portal_message": _l("Portal message"), "video": _l("Video call"),
}
OUTCOME_LABELS = {
    "reached": _l("Talked"), "left_voicemail": _l("Left a voicemail"), "no_answer": _l("No answer"),
    "wrong_number": _l("Wrong number"), "declined": _l("Did not want to talk"), "message_sent": _l("Message sent"),
    "message_received": _l("Message received"), "attended": _l("Meeting held"), "no_show": _l("Missed meeting"),
}
ROLE_LABELS = {"family": _l("Family"), "liaison": _l("Liaison officer"), "supervisor": _l("Supervisor"),
               "admin": _l("Administrator")}
LANGUAGE_NAMES = {"en": "English", "es": "Español"}


def local_datetime(value: datetime | None, fmt: str = "medium") -> str:
    """A UTC time shown in the viewer's time zone and language, to the minute ("26 nov 2026, 15:30")."""
    if not value:
        return ""
    if fmt != "medium":
        return format_datetime(value, fmt)
    # The locale's own medium date and short time, joined its own way; seconds are only noise to a reader.
    return get_datetime_format("medium", locale=get_locale()).format(format_time(value, "short"),
                                                                     format_date(value, "medium"))


def local_date(value: date | datetime | None, fmt: str = "medium") -> str:
    """A date in the viewer's language."""
    return format_date(value, fmt) if value else ""


def stage_label(key: str) -> str:
    """The family-facing name of a stage."""
    stage = STAGES_BY_KEY.get(key)
    return str(stage.label) if stage else key


def register(app: Flask) -> None:
    """Install the filters and globals."""
    app.jinja_env.filters.update(
        local_datetime=local_datetime,
        local_date=local_date,
        stage_label=stage_label,
        channel_label=lambda key: str(CHANNEL_LABELS.get(key, key)),
        outcome_label=lambda key: str(OUTCOME_LABELS.get(key, key)),
        role_label=lambda key: str(ROLE_LABELS.get(key, key)),
    )
    app.jinja_env.globals.update(STAGES=STAGES, LANGUAGE_NAMES=LANGUAGE_NAMES, get_locale=get_locale)
    app.jinja_env.add_extension("jinja2.ext.do")
