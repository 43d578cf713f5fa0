"""Staff forms: family members, invitations, timeline entries."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from ..forms import EMAIL_MESSAGE, PhoneNumber, strip_filter


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


class UpdateForm(FlaskForm):
    """A timeline entry: for the family, or an internal note."""

    body = TextAreaField(_l("Text"), validators=[DataRequired(_l("Write something first.")), Length(max=5000)],
                         filters=[strip_filter])
    visibility = SelectField(_l("Who sees it"), choices=[("internal", _l("Staff only (internal note)")),
                                                         ("family", _l("The family (shown on their page)"))])
