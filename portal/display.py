"""Words and formats for what the portal shows: one place for the labels of stages, channels, outcomes, statuses,
appointment kinds and times, used alike by templates (web/templating.py installs them as filters), texts, forms
and CSV exports.

Some vocabularies have two audiences: a family reads "Waiting for your liaison to confirm" where staff read
"Requested". Those have a FAMILY_ and a STAFF_ table; everything else has one. A key with no label shows as is.
"""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from babel.dates import format_skeleton, get_datetime_format
from babel.dates import format_time as babel_format_time
from babel.dates import get_timezone_name as babel_timezone_name
from flask_babel import format_date, format_datetime, format_time, get_locale, get_timezone, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .models import STAGES_BY_KEY

CHANNEL_LABELS = {
    "phone": _l("Phone call"), "sms": _l("Text message"), "email": _l("Email"), "visit": _l("Visit"),
    "letter": _l("Letter"), "portal_message": _l("Portal message"), "video": _l("Video call"),
}
# What a family may choose as the way they like to be contacted (their words: "A visit").
FAMILY_CHANNEL_CHOICES = [("", _l("No preference")),
                          *((key, CHANNEL_LABELS[key]) for key in ("phone", "sms", "email", "video")),
                          ("visit", _l("A visit"))]
DIRECTION_LABELS = {"outbound": _l("We reached out"), "inbound": _l("They reached out")}
OUTCOME_LABELS = {
    "reached": _l("Talked"), "left_voicemail": _l("Left a voicemail"), "no_answer": _l("No answer"),
    "wrong_number": _l("Wrong number"), "declined": _l("Did not want to talk"), "message_sent": _l("Message sent"),
    "message_received": _l("Message received"), "attended": _l("Meeting held"), "no_show": _l("Missed meeting"),
}
ROLE_LABELS = {"family": _l("Family"), "liaison": _l("Liaison officer"), "supervisor": _l("Supervisor"),
               "admin": _l("Administrator")}
LANGUAGE_NAMES = {"en": "English", "es": "Español"}

# Cadences: the family's own words on their settings page, staff's words on the family member form, and the
# short form inside a flag's reason ("asked for contact every 2 weeks").
STAFF_CADENCE_LABELS = {
    "weekly": _l("Every week"), "biweekly": _l("Every 2 weeks"), "monthly": _l("Every month"),
    "on_change": _l("Only when something changes"), "do_not_contact": _l("Don't contact me, I'll reach out"),
}
FAMILY_CADENCE_LABELS = {**STAFF_CADENCE_LABELS, "do_not_contact": _l("Please don't contact me. I will reach out.")}
CADENCE_WORDS = {"weekly": _l("every week"), "biweekly": _l("every 2 weeks"), "monthly": _l("every month")}

APPOINTMENT_MODE_LABELS = {"phone": _l("Phone call"), "video": _l("Video call"), "in_person": _l("In person")}
STAFF_APPOINTMENT_STATUS_LABELS = {
    "requested": _l("Requested"), "booked": _l("Booked"), "confirmed": _l("Confirmed"), "cancelled": _l("Cancelled"),
    "rescheduled": _l("Moved to another time"), "completed": _l("Held"), "no_show": _l("Missed"),
}
FAMILY_APPOINTMENT_STATUS_LABELS = {**STAFF_APPOINTMENT_STATUS_LABELS,
                                    "requested": _l("Waiting for your liaison to confirm"), "completed": _l("Done")}
STAFF_LEAD_STATUS_LABELS = {"new": _l("New"), "reviewing": _l("Being reviewed"), "assigned": _l("Assigned"),
                            "followed_up": _l("Followed up"), "closed": _l("Closed")}
# What a lead's sender sees: a simpler status, never the staff-side one (models.Lead.submitter_status).
SUBMITTER_STATUS_LABELS = {"received": _l("Received"), "being_reviewed": _l("Being reviewed"),
                           "followed_up": _l("Followed up"), "closed": _l("Closed")}
TEXT_STATUS_LABELS = {
    "queued": _l("Waiting to send"), "sending": _l("Sending"), "sent": _l("Sent"), "delivered": _l("Delivered"),
    "undelivered": _l("Not delivered"), "failed": _l("Failed"), "deferred": _l("Waiting for daytime"),
    "blocked": _l("Not sent: they replied STOP"), "cancelled": _l("Not sent: cancelled"),
    "awaiting_consent": _l("Waiting for their yes to texts"),
}
# How consent to texts was given or taken back, in staff's words (models.consent.CONSENT_METHODS).
CONSENT_METHOD_LABELS = {
    "said_yes_on_call": _l("Said yes on a call"), "written_form": _l("Signed a written form"),
    "replied_yes": _l("Replied YES to our request"), "replied_start": _l("Texted START"),
    "portal_signup": _l("Turned texts on in the portal"), "portal_preferences": _l("Turned texts on in the portal"),
    "before_history": _l("On record before this history"), "told_staff": _l("Told staff they agree"),
    "replied_stop": _l("Replied STOP"), "turned_off_in_portal": _l("Turned texts off in the portal"),
    "staff_recorded_refusal": _l("Told us no"), "consent_request": _l("We texted a request for consent"),
}
# Titles staff put before their names: a text to a family says "Maria", not "Det.".
_TITLES = frozenset({"officer", "ofc", "det", "detective", "sgt", "sergeant", "lt", "lieutenant", "cpl", "corporal",
                     "capt", "captain", "agent", "mr", "mrs", "ms", "dr"})
WEEKDAY_LABELS = {0: _l("Monday"), 1: _l("Tuesday"), 2: _l("Wednesday"), 3: _l("Thursday"), 4: _l("Friday"),
                  5: _l("Saturday"), 6: _l("Sunday")}


def first_name(full_name: str | None) -> str:
    """The first name of a staff member for a text: "Det. Maria Lopez" -> "Maria"."""
    words = [w for w in (full_name or "").split() if w.strip(".,").casefold() not in _TITLES]
    return words[0].strip(",") if words else (full_name or "").strip()


def label(labels: dict, key) -> str:
    """The label for key in one of the tables above, in the current language; the key itself when it has none."""
    return str(labels.get(key, key))


def choices(labels: dict) -> list[tuple]:
    """A table as form choices, in its order."""
    return list(labels.items())


def stage_label(key: str) -> str:
    """The family-facing name of a stage."""
    stage = STAGES_BY_KEY.get(key)
    return str(stage.label) if stage else key


def age_words(delta: timedelta) -> str:
    """A duration in plain words: hours up to three days, then days."""
    hours = int(delta.total_seconds() // 3600)
    if hours < 1:
        return _("less than an hour")
    if hours < 72:
        return ngettext("%(num)d hour", "%(num)d hours", hours)
    days = hours // 24
    return ngettext("%(num)d day", "%(num)d days", days)


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


def local_time(value) -> str:
    """A UTC time as a clock time in the viewer's time zone and language, e.g. 5:30 PM."""
    return format_time(value, "short") if value else ""


def local_when(value, width: str = "medium") -> str:
    """A date and clock time in the viewer's zone and language, e.g. 'Tuesday, March 3, 2026, 5:00 PM'."""
    return f"{format_date(value, width)}, {format_time(value, 'short')}" if value else ""


def timezone_name() -> str:
    """The viewer's time zone in words, e.g. Central Time."""
    return babel_timezone_name(get_timezone(), "long", "generic", locale=str(get_locale() or "en"))


def phone_display(number: str | None, home_region: str) -> str:
    """A stored E.164 number as people write it: (312) 555-0101 at home, +44 20 ... abroad."""
    if not number:
        return ""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    style = (phonenumbers.PhoneNumberFormat.NATIONAL if phonenumbers.region_code_for_number(parsed) == home_region
             else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(parsed, style)


def zone(name: str | None, fallback: str = "America/Chicago") -> ZoneInfo:
    """The time zone of that name, or the fallback when it is missing or unknown."""
    try:
        return ZoneInfo(name or fallback)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(fallback)


def appointment_when(starts_at: datetime, language: str, timezone: str | None) -> tuple[str, str]:
    """An appointment's day and time, and its time alone, short, in the reader's language and time zone (texts)."""
    tz = zone(timezone)
    at = babel_format_time(starts_at, "short", tzinfo=tz, locale=language)
    day = format_skeleton("MMMEd", starts_at, tzinfo=tz, locale=language)
    return f"{day}, {at}", at


def local_to_utc(value: datetime | None, timezone: str) -> datetime | None:
    """A wall-clock time typed in a form (no zone) read in the given zone, as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=zone(timezone)).astimezone(UTC)


def utc_to_local(value: datetime, timezone: str) -> datetime:
    """A stored UTC time as wall-clock time in the given zone, without a zone (to fill a form's field)."""
    return value.astimezone(zone(timezone)).replace(tzinfo=None)


def local_today(now: datetime, timezone: str) -> date:
    """Today's date in the given zone at the moment now."""
    return now.astimezone(zone(timezone)).date()


def csv_time(value: datetime, timezone: str) -> str:
    """A time for a spreadsheet: sortable, in the given zone, with the zone's abbreviation (2026-03-02 14:05:00 CST)."""
    return value.astimezone(zone(timezone)).strftime("%Y-%m-%d %H:%M:%S %Z")


_ONE_TIME_LINK = re.compile(r"\S*/n/[A-Za-z0-9_-]+")


def hidden_one_time_link() -> str:
    """What staff see in place of a one-time link (in a text's preview or in the outbox)."""
    return "[" + _("one-time link, hidden: it opens only for the family member") + "]"


def hide_one_time_links(text: str) -> str:
    """A text's body for staff eyes: its one-time link hidden (opening it would bind it to the staff's browser)."""
    return _ONE_TIME_LINK.sub(hidden_one_time_link(), text or "")


def system_words(update) -> str:
    """The words the system wrote on a case update, rendered now in the reader's language ("" if none).

    A handover names the new liaison; the update's body holds only what staff wrote, sent as written.
    """
    if update.kind == "handover" and update.family_visible and update.about_user is not None:
        return _("From now on, your liaison officer is %(name)s.", name=update.about_user.name)
    return ""
