"""Errors show plain pages: a 500 gives a reference id and never a trace; the database down gives 503."""
import logging

import pytest
from sqlalchemy.exc import OperationalError

from portal import create_app


@pytest.fixture
def failing_app(app):
    broken = create_app("testing", {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                    "PROPAGATE_EXCEPTIONS": False})

    @broken.route("/boom")
    def boom():
        raise RuntimeError("secret internals: lead text here")

    @broken.route("/db-down")
    def db_down():
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    return broken


def test_500_shows_a_reference_and_no_trace(failing_app, caplog):
    with caplog.at_level(logging.ERROR, logger="portal"):
        response = failing_app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Traceback" not in body and "secret internals" not in body
    assert "reference" in body
    ref = body.split("give this reference: ")[1][:12]
    assert any(ref in r.getMessage() for r in caplog.records)


def test_database_unavailable_answers_503_with_retry_after(failing_app):
    response = failing_app.test_client().get("/db-down")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "Traceback" not in response.get_data(as_text=True)


def test_unknown_page_is_a_plain_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "We could not find this page" in response.get_data(as_text=True)
