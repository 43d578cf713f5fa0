"""Jinja filters and globals: every label and format comes from portal/display.py."""
from __future__ import annotations

from flask import Flask
from flask_babel import get_locale

from .. import display
from ..models import STAGES, utcnow
from ..services.notifications import carrier_codes


def register(app: Flask) -> None:
    """Install the filters and globals."""
    d = display
    app.jinja_env.filters.update(
        local_datetime=d.local_datetime,
        local_date=d.local_date,
        local_time=d.local_time,
        local_when=d.local_when,
        stage_label=d.stage_label,
        channel_label=lambda key: d.label(d.CHANNEL_LABELS, key),
        outcome_label=lambda key: d.label(d.OUTCOME_LABELS, key),
        consent_method_label=lambda key: d.label(d.CONSENT_METHOD_LABELS, key),
        role_label=lambda key: d.label(d.ROLE_LABELS, key),
        appointment_mode=lambda key: d.label(d.APPOINTMENT_MODE_LABELS, key),
        appointment_status=lambda key: d.label(d.FAMILY_APPOINTMENT_STATUS_LABELS, key),
        appointment_status_label=lambda key: d.label(d.STAFF_APPOINTMENT_STATUS_LABELS, key),
        lead_status=lambda lead: d.label(d.SUBMITTER_STATUS_LABELS, lead.submitter_status),
        lead_status_label=lambda key: d.label(d.STAFF_LEAD_STATUS_LABELS, key),
        text_status_label=lambda key: d.label(d.TEXT_STATUS_LABELS, key),
        age_since=lambda value: d.age_words(utcnow() - value) if value else "",
        hide_one_time_links=d.hide_one_time_links,
        phone_display=lambda number: d.phone_display(number, app.config["DEFAULT_PHONE_REGION"]),
        carrier_meaning=carrier_codes.meaning,  # a Twilio error code in plain words
        system_words=d.system_words,  # what the system wrote on an update, in the reader's language
    )
    app.jinja_env.globals.update(STAGES=STAGES, LANGUAGE_NAMES=d.LANGUAGE_NAMES, get_locale=get_locale,
                                 get_timezone_name=d.timezone_name)
    app.jinja_env.add_extension("jinja2.ext.do")
