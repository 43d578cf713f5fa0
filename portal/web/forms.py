"""Form pieces shared by several blueprints."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import ValidationError
from wtforms.validators import Length

from ..errors import ServiceError
from ..services.cases import normalize_phone


class PhoneNumber:
    """Validates a phone number and replaces the field's data with its E.164 form."""

    def __init__(self, region: str | None = None) -> None:
        self.region = region

    def __call__(self, form, field) -> None:
        if not field.data:
            return
        try:
            field.data = normalize_phone(field.data, self.region)
        except ServiceError as exc:
            raise ValidationError(exc.message) from None


def strip_filter(value):
    """Trim surrounding spaces from text fields."""
    return value.strip() if isinstance(value, str) else value


EMAIL_MESSAGE = _l("Enter an email address like name@example.com.")

# WTForms' own message ("Field cannot be longer than 200 characters.") is stiff in English and in its Spanish.
TOO_LONG = _l("This is too long. Please use %(max)d characters or fewer.")


def max_length(limit: int) -> Length:
    """Length(max=limit) with a plain message that the portal's catalog translates."""
    return Length(max=limit, message=TOO_LONG)
