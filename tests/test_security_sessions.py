"""Sessions: revocable on the server, new at sign-in, 30 minutes idle, 12 hours absolute, safe cookies."""
from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from flask_login.utils import encode_cookie
from sqlalchemy import select

from portal.models import AuditEvent, utcnow

from . import factories
from .conftest import csrf_from, login, post_form, sign_in
from .security_helpers import production_app


def _copy_session(app, client):
    stolen = app.test_client()
    stolen.set_cookie("session", client.get_cookie("session").value)
    return stolen


@pytest.mark.parametrize("role", ["family", "liaison"])
def test_a_password_change_kills_a_copied_session_cookie(app, client, role):
    user = factories.make_user(role=role) if role != "family" else factories.make_family()[0]
    sign_in(client, user)
    stolen = _copy_session(app, client)
    assert stolen.get("/account").status_code == 200
    response = post_form(client, "/account/password", {"current": factories.PASSWORD, "password": "new words for me",
                                                         "confirm": "new words for me"}, token_page="/account/password")
    assert response.status_code == 302
    assert stolen.get("/account").status_code == 302  # dead
    assert client.get("/account").status_code == 200  # the person who changed it stays signed in


def test_a_password_change_is_audited(client, db):
    user, _member, _case = factories.make_family()
    sign_in(client, user)
    post_form(client, "/account/password", {"current": factories.PASSWORD, "password": "new words for me",
                                            "confirm": "new words for me"}, token_page="/account/password")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.password_change"))
    assert (event.outcome, event.actor_id) == ("ok", user.id)


def test_a_copied_staff_cookie_dies_at_sign_out(app, client):
    user = factories.make_user(role="supervisor")
    sign_in(client, user)
    stolen = _copy_session(app, client)
    assert stolen.get("/staff/").status_code == 200
    post_form(client, "/logout", token_page="/staff/")
    assert stolen.get("/staff/").status_code == 302


def test_thirty_idle_minutes_end_the_session(client):
    user, _member, case = factories.make_family()
    with time_machine.travel(utcnow(), tick=False) as traveller:
        sign_in(client, user)
        for _ in range(3):  # activity keeps it going
            traveller.shift(timedelta(minutes=29))
            assert client.get(f"/my/cases/{case.id}").status_code == 200
        traveller.shift(timedelta(minutes=31))
        response = client.get(f"/my/cases/{case.id}")
        assert response.status_code == 302
        assert response.headers["Location"] == f"/login?next=/my/cases/{case.id}"
        assert "You were signed out to keep the case safe" in client.get("/login").get_data(as_text=True)
        assert client.get(f"/my/cases/{case.id}").status_code == 302  # the session is gone, not refused once


def test_twelve_hours_end_the_session_however_active(client):
    user = factories.make_user(role="liaison")
    with time_machine.travel(utcnow(), tick=False) as traveller:
        sign_in(client, user)
        for _ in range(35):  # every 20 minutes for 11 h 40
            traveller.shift(timedelta(minutes=20))
            assert client.get("/staff/").status_code == 200
        traveller.shift(timedelta(minutes=21))
        assert client.get("/staff/").status_code == 302


def test_sign_in_replaces_the_session_and_sets_no_remember_cookie(client):
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    user = factories.make_user(role="admin")
    sign_in(client, user)
    with client.session_transaction() as session:
        assert "planted" not in session and "mfa_pending" not in session
    assert client.get_cookie("remember_token") is None
    assert "remember" not in client.get("/login").get_data(as_text=True).lower()


def test_a_forged_remember_me_cookie_does_not_sign_anyone_in(app, db):
    user = factories.make_user(role="liaison")
    with app.test_request_context():
        value = encode_cookie(user.get_id())
    client = app.test_client()
    client.set_cookie("remember_token", value)
    response = client.get("/staff/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_session_cookie_is_httponly_and_samesite_lax(client):
    user, _member, _case = factories.make_family()
    response = login(client, user.email)
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP in development and tests


def test_session_cookie_is_secure_in_production(app, monkeypatch):
    with production_app(app, monkeypatch) as prod:
        user, _member, _case = factories.make_family()
        client = prod.test_client()
        page = client.get("/login", base_url="https://localhost")
        response = client.post("/login", base_url="https://localhost", headers={"Referer": "https://localhost/login"},
                               data={"csrf_token": csrf_from(page.get_data(as_text=True)), "email": user.email,
                                     "password": factories.PASSWORD})
        cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))
    assert response.status_code == 302
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_staff_sign_in_page_says_use_is_monitored(client):
    body = client.get("/login").get_data(as_text=True)
    assert "authorized use only" in body and "monitored and recorded" in body
