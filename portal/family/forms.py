"""Forms on the family side: leads, answers, booking, messages, preferences."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Optional

from ..display import APPOINTMENT_MODE_LABELS, FAMILY_CADENCE_LABELS, FAMILY_CHANNEL_CHOICES, choices
from ..services.appointments import CALLBACK_WINDOWS
from ..web.forms import max_length, strip_filter

PEOPLE_ROWS = 5
LONG_TEXT = 10000


class PersonForm(Form):
    """One person we should talk to (every field optional)."""

    name = StringField(_l("Name or nickname"), validators=[max_length(200)], filters=[strip_filter])
    phone = StringField(_l("Phone number"), validators=[max_length(60)], filters=[strip_filter])
    social = StringField(_l("Social media names (for example Instagram or Snapchat)"),
                         validators=[max_length(300)], filters=[strip_filter])
    relation = StringField(_l("How they knew your loved one"), validators=[max_length(300)], filters=[strip_filter])
    knows = TextAreaField(_l("What they may know"), validators=[max_length(2000)], filters=[strip_filter])


class LeadFieldsMixin:
    """The guided fields for an overdose death, shared by the family form and the anonymous tip form."""

    people = FieldList(FormField(PersonForm), min_entries=PEOPLE_ROWS, max_entries=PEOPLE_ROWS)
    last_48_hours = TextAreaField(_l("The last 48 hours: where they were, who they were with, what they said"),
                                  validators=[max_length(LONG_TEXT)], filters=[strip_filter])
    supplier = TextAreaField(_l("Who may have sold or given them the drugs"),
                             validators=[max_length(LONG_TEXT)], filters=[strip_filter])
    phone_and_accounts = TextAreaField(
        _l("What is on their phone or online accounts (messages, contacts, apps)"),
        validators=[max_length(LONG_TEXT)], filters=[strip_filter])
    details = TextAreaField(_l("Anything else you want us to know"),
                            validators=[max_length(LONG_TEXT)], filters=[strip_filter])
    files = MultipleFileField(_l("Photos, screenshots, PDF files or videos"))
    submission_key = HiddenField()

    def content(self):
        """The typed content as a LeadContent."""
        from ..services.leads import LeadContent

        return LeadContent(people=[dict(entry.data) for entry in self.people],
                           last_48_hours=self.last_48_hours.data or "", supplier=self.supplier.data or "",
                           phone_and_accounts=self.phone_and_accounts.data or "", details=self.details.data or "")


class LeadForm(LeadFieldsMixin, FlaskForm):
    """A lead from a signed-in family member."""


class AnswerForm(FlaskForm):
    """An answer to a question from staff."""

    answer = TextAreaField(_l("Your answer"), validators=[DataRequired(_l("Write your answer first.")),
                                                          max_length(LONG_TEXT)], filters=[strip_filter])


def _mode_field():
    return RadioField(_l("How do you want to talk?"), choices=choices(APPOINTMENT_MODE_LABELS), default="phone",
                      validators=[InputRequired(_l("Choose how you want to talk."))])


def _slot_field():
    return RadioField(_l("Choose a time"), choices=[], validate_choice=False,
                      validators=[InputRequired(_l("Choose a time."))])


class BookForm(FlaskForm):
    """Book one open slot (the route fills in the open times)."""

    start = _slot_field()
    mode = _mode_field()
    reason = TextAreaField(_l("What would you like to talk about? (you can leave this empty)"),
                           validators=[max_length(2000)], filters=[strip_filter])


class RescheduleForm(FlaskForm):
    """Move a booking to another open slot."""

    start = _slot_field()


class CallbackForm(FlaskForm):
    """Ask to be called back in a window."""

    window = RadioField(_l("When can we call you?"), choices=list(CALLBACK_WINDOWS.items()),
                        validators=[InputRequired(_l("Choose when we can call you."))])
    other_times = StringField(_l("Other times, or times to avoid (you can leave this empty)"),
                              validators=[max_length(150)], filters=[strip_filter])
    mode = _mode_field()
    reason = TextAreaField(_l("What would you like to talk about? (you can leave this empty)"),
                           validators=[max_length(2000)], filters=[strip_filter])


class MessageForm(FlaskForm):
    """A message to the liaison team."""

    body = TextAreaField(_l("Your message"), validators=[DataRequired(_l("Write your message first.")),
                                                          max_length(5000)], filters=[strip_filter])


class PreferencesForm(FlaskForm):
    """How and how often to be contacted, in which language."""

    language = RadioField(_l("Language"), choices=[("en", "English"), ("es", "Español")],
                          validators=[InputRequired()])
    texts_enabled = BooleanField(_l("Text messages"))
    detailed_texts = BooleanField(_l("Detailed texts"))
    quiet_start = TimeField(_l("No texts after"), validators=[InputRequired(_l("Enter a time like 21:00."))],
                            invalid_value_message=_l("Enter a time like 21:00."))
    quiet_end = TimeField(_l("No texts before"), validators=[InputRequired(_l("Enter a time like 08:00."))],
                          invalid_value_message=_l("Enter a time like 08:00."))
    cadence = RadioField(_l("How often should your liaison contact you?"), choices=choices(FAMILY_CADENCE_LABELS),
                         validators=[InputRequired(_l("Choose how often we should contact you."))])
    preferred_channel = SelectField(_l("How do you like to be contacted?"), choices=FAMILY_CHANNEL_CHOICES,
                                    validators=[Optional()])
    preferred_times = StringField(_l("Good times to reach you (for example: weekdays after 6 pm)"),
                                  validators=[max_length(200)], filters=[strip_filter])
    is_spokesperson = BooleanField(_l("I speak for the family. Contact me first."))
