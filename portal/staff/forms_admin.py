"""Admin forms: staff accounts, agency settings, support resources."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from ..web.forms import EMAIL_MESSAGE, strip_filter

ROLE_CHOICES = [("liaison", _l("Liaison officer")), ("supervisor", _l("Supervisor")), ("admin", _l("Administrator"))]
LANGUAGE_CHOICES = [("en", "English"), ("es", "Español")]


class StaffAccountForm(FlaskForm):
    """A new staff account."""

    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter the name.")), Length(max=120)],
                       filters=[strip_filter])
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter the email address.")), Email(EMAIL_MESSAGE),
                                                Length(max=254)], filters=[strip_filter])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    phone = StringField(_l("Mobile phone (for handover texts and the daily summary)"), validators=[Optional()],
                        filters=[strip_filter])
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    password = PasswordField(_l("First password (give it to them in person)"),
                             validators=[DataRequired(_l("Choose a first password."))])


class RoleForm(FlaskForm):
    """Change a staff member's role."""

    role = SelectField(_l("Role"), choices=ROLE_CHOICES)


class StaffDetailsForm(FlaskForm):
    """A staff member's name, phone and daily summary."""

    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter the name.")), Length(max=120)],
                       filters=[strip_filter])
    phone = StringField(_l("Mobile phone"), validators=[Optional()], filters=[strip_filter])
    daily_digest = BooleanField(_l("Send a daily summary of who needs contact"))


def _policy(label, low, high):
    return IntegerField(label, validators=[DataRequired(_l("Enter a number.")),
                                           NumberRange(low, high, _l("Choose a number from %(min)s to %(max)s."))])


def _days(label):
    return IntegerField(label, validators=[Optional(), NumberRange(
        0, 36500, _l("Choose a number of days from %(min)s to %(max)s, or leave it blank."))])


class AgencyForm(FlaskForm):
    """The agency's name, time zone, contact details and contact policy."""

    name = StringField(_l("Agency name"), validators=[DataRequired(_l("Enter the name.")), Length(max=200)],
                       filters=[strip_filter])
    timezone = StringField(_l("Time zone"), validators=[DataRequired(_l("Enter a time zone.")), Length(max=64)],
                           filters=[strip_filter])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)], filters=[strip_filter])
    email = EmailField(_l("Email"), validators=[Optional(), Email(EMAIL_MESSAGE), Length(max=254)],
                       filters=[strip_filter])
    address = TextAreaField(_l("Address"), validators=[Optional(), Length(max=500)], filters=[strip_filter])
    first_contact_hours = _policy(_l("First contact due within (hours of the case opening)"), 1, 336)
    first_contact_warning_hours = _policy(_l("Warn about first contact after (hours)"), 1, 336)
    default_cadence_days = _policy(_l("Default days between contacts (families without a chosen cadence)"), 1, 365)
    stage_change_contact_days = _policy(_l("Contact the family within (days of a stage change)"), 1, 60)
    lead_review_hours = _policy(_l("Review a new lead within (hours)"), 1, 720)
    message_reply_business_days = _policy(_l("Answer a family message within (business days)"), 1, 10)
    callback_confirm_business_days = _policy(_l("Confirm a callback request within (business days)"), 1, 10)
    retention_lead_days = _days(_l("Keep family leads, with their notes and questions (days after closing)"))
    retention_tip_days = _days(_l("Keep anonymous tips, with their notes and questions (days after closing)"))
    retention_file_days = _days(_l("Keep files attached to leads and tips (days after closing)"))
    retention_message_days = _days(_l("Keep portal messages with the family (days after closing)"))
    retention_text_days = _days(_l("Keep texts sent and received (days after closing)"))
    tip_thread_idle_days = _days(_l("Close an anonymous tip's conversation after it is idle for (days)"))
    require_passkeys = BooleanField(_l("Staff must sign in with a passkey"))


class ResourceForm(FlaskForm):
    """A support service shown to families."""

    title = StringField(_l("Title"), validators=[DataRequired(_l("Enter a title.")), Length(max=200)],
                        filters=[strip_filter])
    description = TextAreaField(_l("What it offers, in plain words"), validators=[Length(max=2000)],
                                filters=[strip_filter])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)], filters=[strip_filter])
    url = StringField(_l("Web address"), validators=[Optional(), Length(max=500)], filters=[strip_filter])
    language = SelectField(_l("Shown to"), choices=[("", _l("Everyone")), ("en", _l("English readers")),
                                                    ("es", _l("Spanish readers"))])
    sort_order = IntegerField(_l("Order on the page"), default=0,
                              validators=[Optional(), NumberRange(0, 1000)])
