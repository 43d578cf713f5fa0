"""Staff forms for leads, availability and appointments."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..display import STAFF_LEAD_STATUS_LABELS, WEEKDAY_LABELS, choices
from ..web.forms import strip_filter

LEAD_STATUS_CHOICES = choices(STAFF_LEAD_STATUS_LABELS)
WEEKDAY_CHOICES = choices(WEEKDAY_LABELS)


class LeadStatusForm(FlaskForm):
    """Change a lead's status."""

    status = SelectField(_l("Status"), choices=LEAD_STATUS_CHOICES)


class LeadAssignForm(FlaskForm):
    """Give a lead to a staff member."""

    assignee = SelectField(_l("Assign to"), coerce=int)


class LeadNoteForm(FlaskForm):
    """An internal note on a lead."""

    body = TextAreaField(_l("Internal note (never shown to the person who sent the lead)"),
                         validators=[DataRequired(_l("Write the note first.")), Length(max=5000)],
                         filters=[strip_filter])


class LeadQuestionForm(FlaskForm):
    """A question for the person who sent the lead."""

    question = TextAreaField(_l("Question for the person who sent this"),
                             validators=[DataRequired(_l("Write the question first.")), Length(max=2000)],
                             filters=[strip_filter])


class OriginalDownloadForm(FlaskForm):
    """Why a supervisor needs the untouched original of a file."""

    reason = TextAreaField(_l("Why do you need the original?"),
                           validators=[DataRequired(_l("Say why you need the original.")),
                                       Length(max=500, message=_l("Write at most 500 characters."))],
                           filters=[strip_filter])


class WindowForm(FlaskForm):
    """A weekly window for calls."""

    weekday = SelectField(_l("Day"), coerce=int, choices=WEEKDAY_CHOICES)
    start_time = TimeField(_l("From"), validators=[DataRequired(_l("Enter a start time."))])
    end_time = TimeField(_l("Until"), validators=[DataRequired(_l("Enter an end time."))])
    slot_minutes = IntegerField(_l("Length of each call, in minutes"), default=30,
                                validators=[DataRequired(_l("Enter a length.")),
                                            NumberRange(10, 120, _l("Between 10 and 120 minutes."))])


class ExceptionForm(FlaskForm):
    """A day (or part of one) off."""

    day = DateField(_l("Date"), validators=[DataRequired(_l("Enter a date."))])
    start_time = TimeField(_l("From (empty: the whole day)"), validators=[Optional()])
    end_time = TimeField(_l("Until"), validators=[Optional()])
    reason = StringField(_l("Reason (staff only)"), validators=[Length(max=200)], filters=[strip_filter])
