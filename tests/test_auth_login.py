"""Signing in and out: one generic message, argon2id hashes, audited attempts, revocable sessions."""
from sqlalchemy import select

from portal.models import AuditEvent, User

from . import factories
from .conftest import complete_mfa, csrf_from, login, post_form, sign_in

GENERIC = "That email and password do not match"


def test_family_member_lands_on_their_case(client):
    user, _member, case = factories.make_family()
    response = login(client, user.email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/my"
    page = client.get("/my", follow_redirects=True)
    assert page.request.path == f"/my/cases/{case.id}"
    assert case.decedent_name in page.get_data(as_text=True)


def test_staff_land_on_the_case_list_after_the_second_factor(client):
    liaison = factories.make_user(role="liaison")
    factories.make_case(liaison=liaison, number="MINE-1")
    factories.make_case(number="NOT-MINE")
    assert login(client, liaison.email).headers["Location"] == "/mfa"
    response = complete_mfa(client, liaison)
    assert response.headers["Location"] == "/staff/"
    page = client.get("/staff/").get_data(as_text=True)
    assert "MINE-1" in page and "NOT-MINE" not in page


def test_wrong_password_and_unknown_email_get_the_same_message(client, db):
    user = factories.make_user(role="liaison")
    wrong = login(client, user.email, "not the right password")
    unknown = login(client, "nobody@test.example", "not the right password")
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert GENERIC in response.get_data(as_text=True)
    outcomes = db.session.scalars(select(AuditEvent.outcome).where(AuditEvent.action == "auth.login")).all()
    assert outcomes == ["failed", "failed"]


def test_typed_email_is_kept_after_a_failed_sign_in(client):
    response = login(client, "someone@test.example", "wrong password here")
    assert 'value="someone@test.example"' in response.get_data(as_text=True)


def test_successful_sign_in_is_audited_with_ip(client, db):
    user = factories.make_user(role="supervisor")
    sign_in(client, user)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login"))
    assert (event.outcome, event.actor_id, event.ip) == ("ok", user.id, "127.0.0.1")
    assert event.details["method"] == "totp"


def test_passwords_are_stored_as_argon2id(db):
    from portal.services.accounts import create_user

    user = create_user(email="new@test.example", name="New", role="liaison", password="a long enough passphrase",
                       actor=None)
    db.session.commit()
    stored = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored.startswith("$argon2id$")
    assert "a long enough passphrase" not in stored


def test_inactive_user_cannot_sign_in(client):
    user = factories.make_user(role="liaison", active=False)
    response = login(client, user.email)
    assert GENERIC in response.get_data(as_text=True)


def test_sign_out_kills_a_copied_session_cookie(app, client):
    user = factories.make_user(role="liaison")
    sign_in(client, user)
    stolen = app.test_client()
    cookie = client.get_cookie("session")
    stolen.set_cookie("session", cookie.value)
    assert stolen.get("/staff/").status_code == 200
    post_form(client, "/logout", token_page="/staff/")
    assert stolen.get("/staff/").status_code == 302  # sent back to sign in


def test_sign_in_starts_a_new_session(client):
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    user = factories.make_user(role="liaison")
    login(client, user.email)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_next_parameter_only_redirects_within_the_site(client):
    user = factories.make_user(role="liaison")
    token = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"csrf_token": token, "email": user.email, "password": factories.PASSWORD,
                                "next": "https://evil.example/"})
    assert complete_mfa(client, user).headers["Location"] == "/staff/"


def test_next_parameter_survives_the_second_factor(client):
    user = factories.make_user(role="liaison")
    case = factories.make_case(liaison=user)
    token = csrf_from(client.get(f"/login?next=/staff/cases/{case.id}").get_data(as_text=True))
    client.post("/login", data={"csrf_token": token, "email": user.email, "password": factories.PASSWORD,
                                "next": f"/staff/cases/{case.id}"})
    assert complete_mfa(client, user).headers["Location"] == f"/staff/cases/{case.id}"


def test_login_form_without_csrf_token_is_refused(client):
    user = factories.make_user(role="liaison")
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 400
