"""When something goes wrong, people see a calm page in their language, never a trace: checked in the browser."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import abort
from playwright.sync_api import expect
from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from werkzeug.serving import make_server

from portal import create_app
from portal.extensions import db
from portal.models import Invitation, utcnow

from .. import factories
from . import data, steps


@pytest.fixture
def failing_server(app):
    """A second portal on the same database, with routes that fail on purpose, served on 127.0.0.1."""
    broken = create_app("testing", {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                    "PROPAGATE_EXCEPTIONS": False})

    @broken.route("/boom")
    def boom():
        raise RuntimeError("secret internals: lead text here")

    @broken.route("/db-down")
    def db_down():
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    @broken.route("/abort/<int:code>")
    def aborts(code: int):
        abort(code)

    server = make_server("127.0.0.1", 0, broken, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-failing-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def test_unknown_pages_and_stale_forms_get_plain_pages(page):
    response = page.goto("/no/such/page")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("We could not find this page")
    steps.check_page(page, "not-found")

    # A sign-in form left open until its security token no longer matches.
    page.goto("/login")
    steps.check_page(page, "sign-in")
    page.locator("main form input[name=csrf_token]").evaluate("field => { field.value = 'stale'; }")
    page.locator("#email").fill("someone@family.example")
    page.locator("#password").fill(factories.PASSWORD)
    page.locator("main form:not(.language-form) button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("Something was wrong with that request")
    steps.check_page(page, "bad-request")


def test_a_family_member_who_opens_another_familys_case_is_told_it_does_not_exist_in_spanish(open_phone):
    user, _member, _case = factories.make_family(language="es")
    user.language = "es"
    db.session.commit()
    other = factories.make_case(decedent="Someone Else")
    page = open_phone()
    steps.sign_in(page, user)
    steps.check_page(page, "own-case-es")
    response = page.goto(f"/my/cases/{other.id}")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("No encontramos esta página")
    expect(page.locator("body")).not_to_contain_text("Someone Else")
    steps.check_page(page, "not-found-es")


CANNOT_USE = "This link cannot be used"  # one page for every state, so a link's state cannot be probed


def test_invite_links_that_cannot_be_used_all_show_one_page(phone_page):
    demo = data.load_demo()
    page = phone_page

    page.goto("/invite/not-a-real-token")
    expect(page.locator("h1")).to_have_text(CANNOT_USE)
    steps.check_page(page, "invite-not-found")

    member = data.member_named("Linh Nguyen")
    data.invite(member, by=demo.liaison)
    first = steps.link_in(steps.latest_text_to(member.phone).body)
    data.invite(member, by=demo.liaison)  # a newer link revokes the first
    page.goto(first)
    expect(page.locator("h1")).to_have_text(CANNOT_USE)
    steps.check_page(page, "invite-revoked")

    newest = steps.link_in(steps.latest_text_to(member.phone).body)
    steps.accept_invite(page, newest, email="linh.nguyen@family.example")
    expect(page.locator("h1")).to_have_text("The case about Chris Nguyen")
    steps.check_page(page, "family-case")
    steps.sign_out(page)
    page.goto(newest)
    expect(page.locator("h1")).to_have_text(CANNOT_USE)
    steps.check_page(page, "invite-used")

    late = data.member_named("Monica Price")
    data.invite(late, by=demo.liaison)
    db.session.execute(update(Invitation).values(expires_at=utcnow() - timedelta(minutes=1))
                       .where(Invitation.used_at.is_(None)))
    db.session.commit()
    page.goto(steps.link_in(steps.latest_text_to(late.phone).body))
    expect(page.locator("h1")).to_have_text(CANNOT_USE)
    steps.check_page(page, "invite-expired")


@pytest.mark.parametrize(("path", "status", "heading"), [
    ("/boom", 500, "Something went wrong on our side"),
    ("/db-down", 503, "The portal is busy for a moment"),
    ("/abort/403", 403, "You cannot open this page"),
    ("/abort/413", 413, "That file is too big"),
    ("/abort/429", 429, "Please wait a moment"),
], ids=["500", "503", "403", "413", "429"])
def test_server_errors_show_a_calm_page_without_internals(page, failing_server, path, status, heading):
    response = page.goto(failing_server + path)
    assert response.status == status
    expect(page.locator("h1")).to_have_text(heading)
    expect(page.locator("body")).not_to_contain_text("secret internals")
    expect(page.locator("body")).not_to_contain_text("Traceback")
    steps.check_page(page, f"error-{status}")


def test_server_errors_are_in_spanish_for_a_spanish_browser(open_phone, failing_server):
    page = open_phone(locale="es-MX")
    page.goto(failing_server + "/boom")
    expect(page.locator("h1")).to_have_text("Algo salió mal de nuestro lado")
    expect(page.locator("main")).to_contain_text("dé esta referencia")
    steps.check_page(page, "error-500-es")
