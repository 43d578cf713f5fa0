"""show_error: a service's refusal lands next to its field, or above the page when it belongs to no field."""
from flask import get_flashed_messages
from flask_wtf import FlaskForm
from wtforms import StringField

from portal.errors import ServiceError
from portal.web.errors import flash_error, show_error


class _Form(FlaskForm):
    class Meta:
        csrf = False

    name = StringField("Name")


def test_error_with_a_field_the_form_has_goes_next_to_that_field(app):
    with app.test_request_context():
        form = _Form()
        show_error(form, ServiceError("Enter the name.", "name"))
        assert form.name.errors == ["Enter the name."]
        assert get_flashed_messages() == []


def test_error_for_the_whole_form_or_an_unknown_field_is_flashed_as_an_error(app):
    with app.test_request_context():
        form = _Form()
        show_error(form, ServiceError("This case is closed."))
        show_error(form, ServiceError("Choose a day.", "weekday"))
        assert not form.name.errors
        assert get_flashed_messages(with_categories=True) == [("error", "This case is closed."),
                                                              ("error", "Choose a day.")]


def test_flash_error_shows_the_message_as_an_error(app):
    with app.test_request_context():
        flash_error(ServiceError("This text was already linked."))
        assert get_flashed_messages(with_categories=True) == [("error", "This text was already linked.")]
