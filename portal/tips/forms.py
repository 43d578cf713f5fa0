"""Tip forms. No Flask-WTF CSRF here: it needs a session cookie, and tip pages set none."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired

from ..family.forms import LONG_TEXT, LeadFieldsMixin
from ..web.forms import max_length, strip_filter


class NoCsrfForm(FlaskForm):
    """A form for cookie-less pages; protected by a signed form token and an origin check instead."""

    class Meta:
        csrf = False

    form_token = HiddenField()
    lang = HiddenField()


class TipForm(LeadFieldsMixin, NoCsrfForm):
    """An anonymous tip: the same guided fields as a family lead, and no name."""


class LookupForm(NoCsrfForm):
    """The tip code and passphrase given when the tip was sent."""

    code = StringField(_l("Tip code"), validators=[DataRequired(_l("Enter your tip code.")), max_length(40)],
                       filters=[strip_filter])
    passphrase = PasswordField(_l("Passphrase"), validators=[DataRequired(_l("Enter your passphrase.")),
                                                             max_length(80)])


class TipAnswerForm(NoCsrfForm):
    """An answer to a staff question, sent with the short-lived pass from the status page."""

    access = HiddenField()
    question_id = IntegerField(validators=[DataRequired()])
    answer = TextAreaField(_l("Your answer"), validators=[DataRequired(_l("Write your answer first.")),
                                                          max_length(LONG_TEXT)], filters=[strip_filter])
