"""Staff MFA: TOTP enrolment with a server-drawn QR code, single-use codes, recovery codes, admin reset."""
from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
import time_machine
from sqlalchemy import select

from portal.models import AuditEvent, MfaRecoveryCode, User, utcnow
from portal.services import mfa

from . import factories
from .conftest import complete_mfa, csrf_from, login, post_form, sign_in, totp_now


def _fresh(db, user) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def _enrol(client, user) -> list[str]:
    page = client.get("/mfa/setup")
    response = client.post("/mfa/setup", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                                "code": totp_now(user)})
    assert response.status_code == 200, response.get_data(as_text=True)
    return re.findall(r"<code>([a-z0-9-]{19})</code>", response.get_data(as_text=True))


def test_first_sign_in_shows_a_qr_code_drawn_on_the_server(client, db, app):
    user = factories.make_user(role="liaison", mfa=False)
    assert login(client, user.email).headers["Location"] == "/mfa/setup"
    page = client.get("/mfa/setup").get_data(as_text=True)
    secret = _fresh(db, user).totp_secret
    assert secret and len(secret) == 32
    with app.test_request_context():
        expected_qr = mfa.qr_data_uri(pyotp.TOTP(secret).provisioning_uri(name=user.email,
                                                                          issuer_name=app.config["AGENCY_NAME"]))
    assert expected_qr.startswith("data:image/svg+xml")
    assert f'src="{expected_qr}"' in page.replace("&#39;", "'").replace("&amp;", "&")
    assert mfa.grouped_secret(secret) in page  # for typing the key by hand
    assert client.get("/mfa/setup").status_code == 200
    assert _fresh(db, user).totp_secret == secret  # a reload keeps the same key


def test_enrolment_needs_a_right_code_then_shows_ten_single_use_recovery_codes(client, db):
    user = factories.make_user(role="supervisor", mfa=False)
    login(client, user.email)
    wrong = post_form(client, "/mfa/setup", {"code": "000000"}, token_page="/mfa/setup")
    assert wrong.status_code == 422 and _fresh(db, user).mfa_enrolled_at is None
    codes = _enrol(client, user)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert _fresh(db, user).mfa_enrolled_at is not None
    assert client.get("/staff/").status_code == 200
    stored = db.session.scalars(select(MfaRecoveryCode.code_hash).where(MfaRecoveryCode.user_id == user.id)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)  # only hashes are kept
    assert "mfa.enrol" in db.session.scalars(select(AuditEvent.action)).all()


def test_a_staff_member_between_password_and_code_reaches_no_staff_page(client, db):
    user = factories.make_user(role="admin")
    case = factories.make_case()
    login(client, user.email)
    for url in ("/staff/", f"/staff/cases/{case.id}", "/staff/security", "/account", "/", "/my"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"] == "/mfa", url
    assert client.get("/mfa").status_code == 200


def test_a_wrong_code_is_refused_and_audited(client, db):
    user = factories.make_user(role="liaison")
    login(client, user.email)
    response = post_form(client, "/mfa", {"code": "000000"}, token_page="/mfa")
    assert response.status_code == 422
    assert "That code is not right" in response.get_data(as_text=True)
    assert client.get("/staff/").headers["Location"] == "/mfa"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login"))
    assert (event.outcome, event.details["reason"]) == ("failed", "totp")


def test_one_code_cannot_be_used_twice(app, client, db):
    user = factories.make_user(role="liaison")
    code = totp_now(user)
    with time_machine.travel(utcnow(), tick=False):
        login(client, user.email)
        assert post_form(client, "/mfa", {"code": code}, token_page="/mfa").status_code == 302
        thief = app.test_client()
        login(thief, user.email)
        replay = post_form(thief, "/mfa", {"code": code}, token_page="/mfa")
    assert replay.status_code == 422
    assert thief.get("/staff/").headers["Location"] == "/mfa"


def test_codes_from_the_previous_and_next_step_are_accepted_for_clock_drift(client, db):
    user = factories.make_user(role="liaison")
    secret = _fresh(db, user).totp_secret
    login(client, user.email)
    early = pyotp.TOTP(secret).at(time.time() - 30)
    assert post_form(client, "/mfa", {"code": early}, token_page="/mfa").status_code == 302


def test_a_recovery_code_works_once(app, client, db):
    user = factories.make_user(role="liaison", mfa=False)
    login(client, user.email)
    codes = _enrol(client, user)
    post_form(client, "/logout", token_page="/staff/")
    login(client, user.email)
    ok = post_form(client, "/mfa/recovery", {"code": codes[3].upper()}, token_page="/mfa/recovery")
    assert ok.status_code == 302 and ok.headers["Location"] == "/staff/"
    assert mfa.remaining_recovery_codes(_fresh(db, user)) == 9
    other = app.test_client()
    login(other, user.email)
    again = post_form(other, "/mfa/recovery", {"code": codes[3]}, token_page="/mfa/recovery")
    assert again.status_code == 422


def test_the_pending_second_step_expires_after_ten_minutes(client):
    user = factories.make_user(role="liaison")
    with time_machine.travel(utcnow(), tick=False) as traveller:
        login(client, user.email)
        traveller.shift(timedelta(minutes=11))
        response = post_form(client, "/mfa", {"code": totp_now(user)}, token_page="/login")
    assert response.headers["Location"] == "/login"


def test_admin_resets_a_lost_authenticator_audited_and_signs_the_person_out(app, client, db):
    liaison = factories.make_user(role="liaison")
    phone_holder = app.test_client()
    sign_in(phone_holder, liaison)
    admin = factories.make_user(role="admin")
    sign_in(client, admin)
    response = post_form(client, f"/staff/security/users/{liaison.id}/reset-mfa", token_page="/staff/security")
    assert response.status_code == 302
    fresh = _fresh(db, liaison)
    assert (fresh.totp_secret, fresh.mfa_enrolled_at) == (None, None)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.mfa_reset"))
    assert (event.actor_id, event.target_id) == (admin.id, str(liaison.id))
    assert phone_holder.get("/staff/").status_code == 302  # the old session is dead
    assert login(app.test_client(), liaison.email).headers["Location"] == "/mfa/setup"


def test_only_admins_can_reset_or_unlock(client, db, login_as):
    target = factories.make_user(role="liaison")
    login_as("supervisor")
    for action in ("reset-mfa", "unlock"):
        response = post_form(client, f"/staff/security/users/{target.id}/{action}", token_page="/staff/")
        assert response.status_code == 404
    assert _fresh(db, target).totp_secret is not None


def test_new_recovery_codes_replace_the_old_ones_after_a_fresh_code(client, db):
    user = factories.make_user(role="liaison", mfa=False)
    login(client, user.email)
    old = _enrol(client, user)
    page = client.get("/account")
    assert "You have 10 unused recovery codes" in page.get_data(as_text=True)
    next_code = pyotp.TOTP(_fresh(db, user).totp_secret).at(time.time() + 30)
    response = client.post("/account/recovery-codes", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                                             "codes-code": next_code})
    new = re.findall(r"<code>([a-z0-9-]{19})</code>", response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    stored = set(db.session.scalars(select(MfaRecoveryCode.code_hash).where(MfaRecoveryCode.user_id == user.id)))
    assert len(stored) == 10


def test_a_staff_session_without_the_second_factor_mark_is_ended(client, db):
    user = factories.make_user(role="liaison")
    sign_in(client, user)
    with client.session_transaction() as session:
        session["mfa"] = False
    response = client.get("/staff/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_sign_in_helper_enrols_staff_without_an_authenticator(client, db):
    user = factories.make_user(role="admin", mfa=False)
    login(client, user.email)
    complete_mfa(client, user)
    assert client.get("/staff/security").status_code == 200


def test_demo_totp_prints_a_working_code_for_demo_staff_only(app, db):
    from .conftest import csrf_from as _csrf

    runner = app.test_cli_runner()
    runner.invoke(args=["seed-demo"])
    client = app.test_client()
    password = "demo portal password"
    assert login(client, "admin@demo.example", password).headers["Location"] == "/mfa/setup"
    page = client.get("/mfa/setup")
    code = runner.invoke(args=["demo-totp", "admin@demo.example"]).output.strip()
    assert code.isdigit() and len(code) == 6
    response = client.post("/mfa/setup", data={"csrf_token": _csrf(page.get_data(as_text=True)), "code": code})
    assert response.status_code == 200 and "Save your recovery codes" in response.get_data(as_text=True)
    refused = runner.invoke(args=["demo-totp", "someone@agency.example"])
    assert refused.exit_code != 0
