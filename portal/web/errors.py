"""Showing a service's refusal to the person: next to the field it is about, or above the page."""
from __future__ import annotations

from flask import flash

from ..errors import ServiceError


def show_error(form, exc: ServiceError) -> None:
    """Put the message on form[exc.field] when the form has that field, else above the page (a flash)."""
    field = form._fields.get(exc.field) if exc.field else None
    if field is None:
        # Every page shows flashes (base.html), so a form-level message is never lost to a template that
        # does not render form errors; it looks like the page-level notes the forms already use.
        flash_error(exc)
        return
    field.errors = [*field.errors, exc.message]  # a tuple until the form is validated


def flash_error(exc: ServiceError) -> None:
    """Show the message above the next page, where the routes put errors that belong to no form."""
    flash(exc.message, "error")
