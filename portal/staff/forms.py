"""Staff forms: cases, family members, timeline entries, stage changes, handovers, contacts."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from ..display import CHANNEL_LABELS, DIRECTION_LABELS, STAFF_CADENCE_LABELS, choices
from ..web.forms import EMAIL_MESSAGE, PhoneNumber, strip_filter

CADENCE_CHOICES = choices(STAFF_CADENCE_LABELS)
CHANNEL_CHOICES = choices(CHANNEL_LABELS)
DIRECTION_CHOICES = choices(DIRECTION_LABELS)
# The outcomes offered as one-tap buttons when logging a contact by hand.
MANUAL_OUTCOMES = ("reached", "left_voicemail", "no_answer", "wrong_number", "declined", "message_sent",
                   "message_received")


class FamilyMemberForm(FlaskForm):
    """Add a family member to a case."""

    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter the person's name.")), Length(max=120)],
                       filters=[strip_filter])
    relationship = StringField(_l("Relationship to the person who died"), validators=[Length(max=60)],
                               filters=[strip_filter])
    phone = StringField(_l("Mobile phone"), validators=[Optional(), PhoneNumber()], filters=[strip_filter])
    email = EmailField(_l("Email"), validators=[Optional(), Email(EMAIL_MESSAGE), Length(max=254)],
                       filters=[strip_filter])
    language = SelectField(_l("Language"), choices=[("en", "English"), ("es", "Español")])
    is_spokesperson = BooleanField(_l("Speaks for the family"))
    texts_consent = BooleanField(_l("They signed the agency's written form agreeing to texts"))


class EditFamilyMemberForm(FamilyMemberForm):
    """Change a family member's details and how often they want to hear from us."""

    texts_consent = None  # consent is recorded on its own (staff.record_consent, or a yes on a logged call)

    cadence = SelectField(_l("How often they want contact"), choices=CADENCE_CHOICES)
    preferred_channel = SelectField(_l("How they prefer to be contacted"),
                                    choices=[("", _l("No preference"))] + CHANNEL_CHOICES)
    email_consent = BooleanField(_l("They agreed to get email about the case"))


class UpdateForm(FlaskForm):
    """A timeline entry: for the family, or an internal note."""

    body = TextAreaField(_l("Text"), validators=[DataRequired(_l("Write something first.")), Length(max=5000)],
                         filters=[strip_filter])
    visibility = SelectField(_l("Who sees it"), choices=[("internal", _l("Staff only (internal note)")),
                                                         ("family", _l("The family (shown on their page)"))])


class OpenCaseForm(FlaskForm):
    """Open a new case."""

    case_number = StringField(_l("Case number"), validators=[DataRequired(_l("Enter the case number.")),
                                                             Length(max=40)], filters=[strip_filter])
    decedent_name = StringField(_l("Name of the person who died"),
                                validators=[DataRequired(_l("Enter the name.")), Length(max=160)],
                                filters=[strip_filter])
    date_of_death = DateField(_l("Date of death"), validators=[Optional()])
    liaison = SelectField(_l("Liaison officer"), coerce=int, validators=[DataRequired(_l("Choose a liaison."))])
    backup = SelectField(_l("Backup liaison (optional)"), coerce=int)


class StageChangeForm(FlaskForm):
    """Move a case to a new stage, with words for the family."""

    stage = SelectField(_l("New stage"), validators=[DataRequired(_l("Choose a stage."))])
    message = TextAreaField(_l("Message for the family"),
                            validators=[DataRequired(_l("Write a few words for the family.")), Length(max=5000)],
                            filters=[strip_filter])


class CloseCaseForm(FlaskForm):
    """Close a case with a last message."""

    message = TextAreaField(_l("Last message for the family"),
                            validators=[DataRequired(_l("Write a last message for the family.")),
                                        Length(max=5000)], filters=[strip_filter])


class LegalHoldForm(FlaskForm):
    """Put a case on legal hold, with the reason (retention never purges a held case)."""

    reason = TextAreaField(_l("Why the case is on hold"),
                           validators=[DataRequired(_l("Say why the case is on hold (for example, a court order or "
                                                       "a pending appeal).")), Length(max=500)],
                           filters=[strip_filter])


class ReassignForm(FlaskForm):
    """Hand a case to another liaison."""

    liaison = SelectField(_l("New liaison officer"), coerce=int, validators=[DataRequired(_l("Choose a liaison."))])
    backup = SelectField(_l("Backup liaison (optional)"), coerce=int)
    handover_note = TextAreaField(_l("Handover note for the new liaison (staff only)"),
                                  validators=[DataRequired(_l("Write a handover note.")), Length(max=5000)],
                                  filters=[strip_filter])
    family_message = TextAreaField(_l("A few words for the family (optional)"), validators=[Length(max=2000)],
                                   filters=[strip_filter])


class OutreachForm(FlaskForm):
    """Log a contact: everything is filled in; the outcome button saves it."""

    member = RadioField(_l("With whom"), validators=[Optional()], coerce=str)
    channel = RadioField(_l("How"), choices=CHANNEL_CHOICES, default="phone",
                         validators=[DataRequired(_l("Choose how you made contact."))])
    direction = RadioField(_l("Who reached out"), choices=DIRECTION_CHOICES, default="outbound",
                           validators=[DataRequired(_l("Choose who reached out."))])
    occurred_at = DateTimeLocalField(_l("When (leave empty for now)"), format="%Y-%m-%dT%H:%M",
                                     validators=[Optional()])
    notes = TextAreaField(_l("Notes (staff only)"), validators=[Length(max=5000)], filters=[strip_filter])
    texts_consent = BooleanField(_l("They said yes to getting texts at their number"))
    outcome = HiddenField()
    flag = HiddenField()
    next = HiddenField()


class ConsentForm(FlaskForm):
    """Put a family member's yes to texts on record: they signed the written form."""

    method = HiddenField(default="written_form")
