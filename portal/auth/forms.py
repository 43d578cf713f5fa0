"""Sign-in, invitation and language forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo

from ..services.accounts import MAX_PASSWORD
from ..web.forms import EMAIL_MESSAGE, max_length, strip_filter


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter your email address.")),
                                                Email(EMAIL_MESSAGE), max_length(254)], filters=[strip_filter])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")),
                                                         max_length(MAX_PASSWORD)])
    next = HiddenField()


class AcceptInviteForm(FlaskForm):
    """Choose the email to sign in with and a password."""

    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter your email address.")),
                                                Email(EMAIL_MESSAGE), max_length(254)], filters=[strip_filter])
    password = PasswordField(_l("New password"), validators=[DataRequired(_l("Choose a password."))])
    confirm = PasswordField(_l("Type the password again"),
                            validators=[DataRequired(_l("Type the password again.")),
                                        EqualTo("password", _l("The two passwords are not the same."))])


class LanguageForm(FlaskForm):
    """Switch the interface language."""

    language = SelectField(_l("Language"), choices=[("en", "English"), ("es", "Español")])
    next = HiddenField()


class EmptyForm(FlaskForm):
    """A form with only its CSRF token, for buttons like Sign out."""


class MfaCodeForm(FlaskForm):
    """The six-digit code from an authenticator app."""

    code = StringField(_l("6-digit code from your authenticator app"),
                       validators=[DataRequired(_l("Enter the 6-digit code.")), max_length(12)],
                       filters=[strip_filter])


class RecoveryCodeForm(FlaskForm):
    """One of the recovery codes printed at enrolment."""

    code = StringField(_l("Recovery code"), validators=[DataRequired(_l("Enter one of your recovery codes.")),
                                                        max_length(40)], filters=[strip_filter])


class ChangePasswordForm(FlaskForm):
    """The current password, and a new one typed twice."""

    current = PasswordField(_l("Current password"), validators=[DataRequired(_l("Enter your current password.")),
                                                                max_length(MAX_PASSWORD)])
    password = PasswordField(_l("New password"), validators=[DataRequired(_l("Choose a new password."))])
    confirm = PasswordField(_l("Type the new password again"),
                            validators=[DataRequired(_l("Type the new password again.")),
                                        EqualTo("password", _l("The two passwords are not the same."))])


class PasskeyNameForm(FlaskForm):
    """The name a staff member gives a passkey, to tell their keys apart."""

    name = StringField(_l("Name of the passkey"),
                       validators=[DataRequired(_l("Give the passkey a name, such as \"YubiKey on keychain\".")),
                                   max_length(80)], filters=[strip_filter])
