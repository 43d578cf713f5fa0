"""Staff passkeys (WebAuthn) as a second factor: enrolment, naming, removal, sign-in, and the agency requirement.

Every answer is a real WebAuthn response made by tests/webauthn_helpers.py's SoftAuthenticator (an EC P-256 key,
authenticator data, a "none" attestation, clientDataJSON), checked by the real webauthn package.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.models import Agency, AuditEvent, Passkey, User, WebauthnChallenge
from portal.services import lockout, mfa

from . import factories
from .conftest import csrf_from, login, post_form, sign_in, totp_now
from .webauthn_helpers import SoftAuthenticator, b64url, make_passkey, post_json


def _fresh(db, model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def _token(client, page: str) -> str:
    response = client.get(page)
    assert response.status_code == 200, f"{page}: {response.status_code}"
    return csrf_from(response.get_data(as_text=True))


def _actions(db, action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def add_passkey(client, authenticator: SoftAuthenticator, name: str = "YubiKey on keychain", **answer):
    """A signed-in staff member adds a passkey from the account page, as passkeys.js does; the last response."""
    token = _token(client, "/account")
    options = post_json(client, "/account/passkeys/options", token=token)
    assert options.status_code == 200, options.get_data(as_text=True)
    credential = authenticator.create(options.get_json(), **answer)
    return post_json(client, "/account/passkeys", {"name": name, "credential": credential}, token=token)


def passkey_step(client, authenticator: SoftAuthenticator, **answer):
    """After the password: ask for options and answer them with the key; returns (options JSON, last response)."""
    token = _token(client, "/mfa/passkey")
    options = post_json(client, "/mfa/passkey/options", token=token)
    assert options.status_code == 200, options.get_data(as_text=True)
    body = options.get_json()
    return body, post_json(client, "/mfa/passkey", {"credential": authenticator.get(body, **answer)}, token=token)


def password_step(app, user):
    """A new browser that typed the user's password (the second step pending)."""
    browser = app.test_client()
    assert login(browser, user.email).status_code == 302
    return browser


def require_passkeys(db, on: bool = True) -> None:
    from portal.services.agency import get_agency

    get_agency().require_passkeys = on
    db.session.commit()


# --- enrolment ------------------------------------------------------------------------------------------------------

def test_a_staff_member_adds_a_named_passkey_and_sees_it_listed(client, db):
    user = factories.make_user(role="liaison")
    sign_in(client, user)
    key = SoftAuthenticator()
    response = add_passkey(client, key, name="  YubiKey   on keychain ")
    assert response.status_code == 200 and response.get_json() == {"redirect": "/account"}
    stored = db.session.scalar(select(Passkey).where(Passkey.user_id == user.id))
    assert stored.credential_id == key.credential_id and stored.public_key == key.cose_public_key()
    assert (stored.name, stored.sign_count, stored.transports) == ("YubiKey on keychain", 0, ["usb", "nfc"])
    assert stored.created_at is not None and stored.last_used_at is None
    page = client.get("/account").get_data(as_text=True)
    assert "Your passkey is added" in page and "YubiKey on keychain" in page and "Not used yet" in page
    event = _actions(db, "passkey.enrol")[-1]
    assert (event.outcome, event.target_id, event.actor_id) == ("ok", str(stored.id), user.id)
    assert "YubiKey" not in str(event.details)  # the name stays out of the audit log


def test_registration_options_name_the_portal_and_exclude_keys_already_added(client, db):
    user = factories.make_user(role="liaison")
    existing, _key = make_passkey(user)
    sign_in(client, user)
    options = post_json(client, "/account/passkeys/options", token=_token(client, "/account")).get_json()
    assert options["rp"]["id"] == "localhost" and options["attestation"] == "none"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    assert [c["id"] for c in options["excludeCredentials"]] == [b64url(existing.credential_id)]
    assert options["user"]["name"] == user.email and str(user.id) not in options["user"]["id"]


def test_a_passkey_made_for_another_site_is_not_added(client, db):
    user = factories.make_user(role="liaison")
    sign_in(client, user)
    response = add_passkey(client, SoftAuthenticator(), origin="https://portal.evil.example")
    assert response.status_code == 422 and "could not be added" in response.get_json()["error"]
    assert db.session.scalar(select(func.count()).select_from(Passkey)) == 0
    assert _actions(db, "passkey.enrol")[-1].outcome == "failed"


def test_a_passkey_needs_a_name_and_the_name_is_kept_when_refused(client, db):
    user = factories.make_user(role="liaison")
    sign_in(client, user)
    response = add_passkey(client, SoftAuthenticator(), name="   ")
    assert response.status_code == 422 and response.get_json()["field"] == "name"
    assert db.session.scalar(select(func.count()).select_from(Passkey)) == 0


def test_the_same_key_cannot_be_added_twice(client, db):
    user = factories.make_user(role="liaison")
    sign_in(client, user)
    key = SoftAuthenticator()
    assert add_passkey(client, key).status_code == 200
    again = add_passkey(client, key, name="Again")
    assert again.status_code == 422 and "already added" in again.get_json()["error"]


def test_a_registration_challenge_works_once(client, db):
    user = factories.make_user(role="liaison")
    sign_in(client, user)
    token = _token(client, "/account")
    options = post_json(client, "/account/passkeys/options", token=token).get_json()
    saved = client.get_cookie("session").value  # the session still holding the challenge
    key = SoftAuthenticator()
    credential = key.create(options)
    assert post_json(client, "/account/passkeys", {"name": "First", "credential": credential},
                     token=token).status_code == 200
    client.set_cookie("session", saved)  # the old cookie, sent again with a second key's answer
    other = SoftAuthenticator().create(options)
    replay = post_json(client, "/account/passkeys", {"name": "Second", "credential": other}, token=token)
    assert replay.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Passkey)) == 1


# --- sign-in --------------------------------------------------------------------------------------------------------

def test_sign_in_offers_the_passkey_first_and_the_passkey_completes_it(client, db):
    user = factories.make_user(role="liaison")
    passkey, key = make_passkey(user)
    assert login(client, user.email).headers["Location"] == "/mfa/passkey"
    assert client.get("/staff/").headers["Location"] == "/mfa/passkey"  # nothing else before the passkey
    page = client.get("/mfa/passkey").get_data(as_text=True)
    assert "Use my passkey" in page and 'href="/mfa"' in page and 'href="/mfa/recovery"' in page
    assert "<script>" not in page and "js/passkeys.js" in page
    options, response = passkey_step(client, key)
    assert [c["id"] for c in options["allowCredentials"]] == [b64url(passkey.credential_id)]
    assert options["rpId"] == "localhost" and options["userVerification"] == "preferred"
    assert response.status_code == 200 and response.get_json() == {"redirect": "/staff/"}
    assert client.get("/staff/").status_code == 200
    stored = _fresh(db, Passkey, passkey.id)
    assert stored.sign_count == 1 and stored.last_used_at is not None
    login_event = _actions(db, "auth.login")[-1]
    assert (login_event.outcome, login_event.details["method"], login_event.details["passkey"]) == \
        ("ok", "passkey", passkey.id)
    assert "Last used" in client.get("/account").get_data(as_text=True)


def test_totp_remains_the_other_way_when_passkeys_are_not_required(client, db):
    user = factories.make_user(role="liaison")
    make_passkey(user)
    login(client, user.email)
    page = client.get("/mfa").get_data(as_text=True)
    assert "Use my passkey instead" in page
    response = post_form(client, "/mfa", {"code": totp_now(user)}, token_page="/mfa")
    assert response.status_code == 302 and response.headers["Location"] == "/staff/"


@pytest.mark.parametrize("answer", [{"origin": "https://portal.evil.example"}, {"origin": "http://localhost:8080"},
                                    {"rp_id": "evil.example"}], ids=["phishing origin", "other port", "other rp id"])
def test_an_answer_for_another_origin_is_refused_and_counts_towards_the_lockout(client, db, answer):
    user = factories.make_user(role="liaison")
    passkey, key = make_passkey(user)
    login(client, user.email)
    _options, response = passkey_step(client, key, **answer)
    assert response.status_code == 422 and "did not work" in response.get_json()["error"]
    assert client.get("/staff/").headers["Location"] == "/mfa/passkey"  # still only half signed in
    event = _actions(db, "auth.login")[-1]
    assert (event.outcome, event.details["reason"]) == ("failed", "passkey")
    assert _fresh(db, User, user.id).failed_logins == 1
    assert _fresh(db, Passkey, passkey.id).last_used_at is None


def test_a_sign_in_challenge_works_once_even_with_the_old_session_cookie(client, db):
    user = factories.make_user(role="liaison")
    _passkey, key = make_passkey(user)
    login(client, user.email)
    token = _token(client, "/mfa/passkey")
    options = post_json(client, "/mfa/passkey/options", token=token).get_json()
    saved = client.get_cookie("session").value
    answer = key.get(options)
    wrong_first = post_json(client, "/mfa/passkey", {"credential": {**answer, "type": "nonsense"}}, token=token)
    assert wrong_first.status_code == 422  # a bad answer uses the challenge up too
    client.set_cookie("session", saved)
    replay = post_json(client, "/mfa/passkey", {"credential": answer}, token=token)
    assert replay.status_code == 422 and client.get("/staff/").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(WebauthnChallenge)) == 0


def test_a_captured_answer_cannot_be_replayed_in_another_sign_in(app, client, db):
    user = factories.make_user(role="liaison")
    _passkey, key = make_passkey(user)
    login(client, user.email)
    token = _token(client, "/mfa/passkey")
    options = post_json(client, "/mfa/passkey/options", token=token).get_json()
    answer = key.get(options)
    assert post_json(client, "/mfa/passkey", {"credential": answer}, token=token).status_code == 200
    thief = app.test_client()
    login(thief, user.email)
    thief_token = _token(thief, "/mfa/passkey")
    post_json(thief, "/mfa/passkey/options", token=thief_token)  # a new challenge: the captured one is not it
    replay = post_json(thief, "/mfa/passkey", {"credential": answer}, token=thief_token)
    assert replay.status_code == 422 and thief.get("/staff/").status_code == 302


def test_an_unknown_passkey_or_someone_elses_is_refused(app, db):
    user = factories.make_user(role="liaison")
    make_passkey(user)
    colleague = factories.make_user(role="liaison")
    _theirs, their_key = make_passkey(colleague)
    for key in (SoftAuthenticator(), their_key):
        client = password_step(app, user)
        _options, response = passkey_step(client, key)
        assert response.status_code == 422
        assert client.get("/staff/").status_code == 302
    assert [e.details["detail"] for e in _actions(db, "auth.login")] == ["unknown_passkey", "unknown_passkey"]


def test_a_signature_counter_that_did_not_go_up_is_refused(app, db):
    user = factories.make_user(role="liaison")
    passkey, key = make_passkey(user, sign_count=7)
    _options, response = passkey_step(password_step(app, user), key, sign_count=7)  # a clone: the same counter
    assert response.status_code == 422
    assert _actions(db, "auth.login")[-1].details["detail"] == "sign_count"
    _options, lower = passkey_step(password_step(app, user), key, sign_count=3)
    assert lower.status_code == 422
    _options, ok = passkey_step(password_step(app, user), key, sign_count=8)
    assert ok.status_code == 200 and _fresh(db, Passkey, passkey.id).sign_count == 8


def test_keys_without_a_counter_keep_working(app, db):
    user = factories.make_user(role="liaison")
    _passkey, key = make_passkey(user)
    for _ in range(2):  # synced passkeys always say 0
        _options, response = passkey_step(password_step(app, user), key, sign_count=0)
        assert response.status_code == 200


def test_wrong_passkey_answers_lock_the_account_like_wrong_codes(client, db):
    user = factories.make_user(role="liaison")
    _passkey, key = make_passkey(user)
    login(client, user.email)
    for attempt in range(lockout.MAX_FAILURES):
        _options, response = passkey_step(client, key, origin="https://evil.example")
        if response.status_code == 401:
            break
        assert response.status_code == 422, attempt
    assert lockout.is_locked(_fresh(db, User, user.id))
    assert response.status_code == 401 and response.get_json()["redirect"] == "/login"
    assert client.get("/mfa/passkey").headers["Location"] == "/login"
    assert "auth.lockout" in [e.action for e in db.session.scalars(select(AuditEvent))]


def test_a_right_passkey_clears_the_failure_count(client, db):
    user = factories.make_user(role="liaison")
    _passkey, key = make_passkey(user)
    login(client, user.email)
    passkey_step(client, key, origin="https://evil.example")
    assert _fresh(db, User, user.id).failed_logins == 1
    _options, response = passkey_step(client, key)
    assert response.status_code == 200 and _fresh(db, User, user.id).failed_logins == 0


@pytest.mark.parametrize("body", [None, {}, {"credential": "text"}, {"credential": {"id": "x"}},
                                  {"credential": {"id": "AA", "rawId": "AA", "type": "public-key",
                                                  "response": {"clientDataJSON": "!!", "authenticatorData": 5,
                                                               "signature": []}}}])
def test_malformed_answers_are_refused_never_a_server_error(app, client, db, body):
    user = factories.make_user(role="liaison")
    make_passkey(user)
    login(client, user.email)
    token = _token(client, "/mfa/passkey")
    post_json(client, "/mfa/passkey/options", token=token)
    if body is None:  # a form post, not JSON
        response = client.post("/mfa/passkey", data={"csrf_token": token, "credential": "x"})
    else:
        response = post_json(client, "/mfa/passkey", body, token=token)
    assert response.status_code == 422 and response.is_json
    signed_in = app.test_client()
    sign_in(signed_in, user)
    token = _token(signed_in, "/account")
    post_json(signed_in, "/account/passkeys/options", token=token)
    answer = post_json(signed_in, "/account/passkeys", {"name": "Key", **(body or {})}, token=token)
    assert answer.status_code == 422 and answer.is_json


def test_the_json_posts_need_the_csrf_token(app, client, db):
    user = factories.make_user(role="liaison")
    _passkey, key = make_passkey(user)
    login(client, user.email)
    assert client.post("/mfa/passkey/options", json={}).status_code == 400
    signed_in = app.test_client()
    sign_in(signed_in, user)
    assert signed_in.post("/account/passkeys/options", json={}).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(WebauthnChallenge)) == 0


# --- rename and remove ----------------------------------------------------------------------------------------------

def test_rename_a_passkey_audited(client, db):
    user = factories.make_user(role="liaison")
    passkey, _key = make_passkey(user)
    sign_in(client, user)
    url = f"/account/passkeys/{passkey.id}"
    assert 'value="YubiKey on keychain"' in client.get(url).get_data(as_text=True)
    too_long = post_form(client, url, {"name": "x" * 81}, token_page=url)
    assert too_long.status_code == 422 and "x" * 81 in too_long.get_data(as_text=True)  # what was typed is kept
    response = post_form(client, url, {"name": "Work laptop"}, token_page=url)
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert _fresh(db, Passkey, passkey.id).name == "Work laptop"
    assert [e.target_id for e in _actions(db, "passkey.rename")] == [str(passkey.id)]


def test_remove_a_passkey_after_confirming_then_it_no_longer_signs_in(app, client, db):
    user = factories.make_user(role="liaison")
    passkey, key = make_passkey(user)
    ident = passkey.id
    elsewhere = app.test_client()  # signed in on another computer, perhaps with the lost key
    sign_in(elsewhere, user)
    sign_in(client, user)
    url = f"/account/passkeys/{ident}/remove"
    confirm = client.get(url).get_data(as_text=True)
    assert "Remove the passkey" in confirm and "YubiKey on keychain" in confirm and "Yes, remove" in confirm
    assert _fresh(db, Passkey, passkey.id) is not None  # the page alone removes nothing
    response = post_form(client, url, token_page=url)
    assert response.status_code == 302 and _fresh(db, Passkey, ident) is None
    assert [e.target_id for e in _actions(db, "passkey.remove")] == [str(ident)]
    here = client.get("/staff/")  # this browser goes on...
    assert here.status_code == 200 and "signed out everywhere else" in here.get_data(as_text=True)
    assert elsewhere.get("/staff/").headers["Location"].startswith("/login")  # ...the other one is signed out
    other = app.test_client()
    assert login(other, user.email).headers["Location"] == "/mfa"  # back to the app code
    assert other.get("/mfa/passkey").headers["Location"] == "/mfa"


def test_the_only_second_factor_cannot_be_removed(client, db):
    user = factories.make_user(role="liaison", mfa=False)
    passkey, _key = make_passkey(user)
    login(client, user.email)
    passkey_step(client, _key)
    url = f"/account/passkeys/{passkey.id}/remove"
    assert "only second step" in client.get(url).get_data(as_text=True)
    post_form(client, url, token_page=url)
    assert _fresh(db, Passkey, passkey.id) is not None
    assert "only second step" in client.get("/account").get_data(as_text=True)  # said after the redirect


def test_the_last_passkey_cannot_be_removed_when_the_agency_requires_them(client, db):
    user = factories.make_user(role="liaison")
    passkey, key = make_passkey(user)
    second, _other = make_passkey(user, name="Backup key")
    require_passkeys(db)
    login(client, user.email)
    passkey_step(client, key)
    assert post_form(client, f"/account/passkeys/{second.id}/remove", token_page="/account").status_code == 302
    assert _fresh(db, Passkey, second.id) is None  # one of two: fine
    url = f"/account/passkeys/{passkey.id}/remove"
    assert "requires a passkey" in client.get(url).get_data(as_text=True)
    post_form(client, url, token_page=url)
    assert _fresh(db, Passkey, passkey.id) is not None


@pytest.mark.parametrize("who", ["other_liaison", "admin"])
def test_a_staff_member_cannot_see_rename_or_remove_anothers_passkey(client, db, who):
    owner = factories.make_user(role="liaison")
    passkey, _key = make_passkey(owner, name="Owner's desk key")
    intruder = factories.make_user(role="admin" if who == "admin" else "liaison")
    sign_in(client, intruder)
    base = f"/account/passkeys/{passkey.id}"
    for url in (base, f"{base}/remove"):
        assert client.get(url).status_code == 404
        assert post_form(client, url, {"name": "Mine now"}, token_page="/account").status_code == 404
    assert "desk key" not in client.get("/account").get_data(as_text=True)
    stored = _fresh(db, Passkey, passkey.id)
    assert stored is not None and stored.name == "Owner's desk key"


def test_family_accounts_never_see_the_passkey_pages(client, db):
    user, _member, _case = factories.make_family(liaison=factories.make_user(role="liaison"))
    staff = factories.make_user(role="liaison")
    passkey, _key = make_passkey(staff)
    sign_in(client, user)
    token = _token(client, "/account")
    assert "passkey" not in client.get("/account").get_data(as_text=True).lower()
    for url in ("/account/passkeys/options", "/account/passkeys"):
        assert post_json(client, url, {}, token=token).status_code == 404
    for url in (f"/account/passkeys/{passkey.id}", f"/account/passkeys/{passkey.id}/remove"):
        assert client.get(url).status_code == 404
    for url in ("/mfa/passkey", "/mfa/passkey/setup"):
        assert client.get(url).headers["Location"] == "/my"
    assert db.session.scalar(select(func.count()).select_from(WebauthnChallenge)) == 0


def test_an_admin_reset_removes_passkeys_too(client, db):
    user = factories.make_user(role="liaison")
    make_passkey(user)
    sign_in(client, factories.make_user(role="admin"))
    page = client.get("/staff/security").get_data(as_text=True)
    assert "1 passkey." in page and "A reset removes their passkeys too." in page
    post_form(client, f"/staff/security/users/{user.id}/reset-mfa", token_page="/staff/security")
    assert db.session.scalar(select(func.count()).select_from(Passkey)) == 0
    assert _actions(db, "user.mfa_reset")[-1].details == {"passkeys": 1}


# --- the agency requires passkeys -----------------------------------------------------------------------------------

def test_an_admin_turns_the_requirement_on_audited(client, db):
    from .security_routes import _agency

    sign_in(client, factories.make_user(role="admin"))
    page = client.get("/staff/admin/agency").get_data(as_text=True)
    assert "Staff must sign in with a passkey" in page and "Recovery codes still work" in page
    response = post_form(client, "/staff/admin/agency", {**_agency(None, None), "require_passkeys": "y"},
                         token_page="/staff/admin/agency")
    assert response.status_code == 302
    assert db.session.scalar(select(Agency.require_passkeys)) is True
    assert [e.details for e in _actions(db, "agency.require_passkeys")] == [{"required": True}]
    post_form(client, "/staff/admin/agency", _agency(None, None), token_page="/staff/admin/agency")
    assert db.session.scalar(select(Agency.require_passkeys)) is False
    assert [e.details["required"] for e in _actions(db, "agency.require_passkeys")] == [True, False]


def test_when_required_staff_with_only_totp_prove_it_then_must_add_a_passkey(client, db):
    user = factories.make_user(role="liaison")
    mfa.generate_recovery_codes(user)  # enrolled long ago: they have their codes
    require_passkeys(db)
    assert login(client, user.email).headers["Location"] == "/mfa"
    assert "asks staff to sign in with a passkey" in client.get("/mfa").get_data(as_text=True)
    assert client.get("/mfa/passkey/setup").headers["Location"] == "/mfa"  # not before the code
    response = post_form(client, "/mfa", {"code": totp_now(user)}, token_page="/mfa")
    assert response.headers["Location"] == "/mfa/passkey/setup"
    assert client.get("/staff/").headers["Location"] == "/mfa/passkey/setup"  # the code alone did not sign in
    page = client.get("/mfa/passkey/setup").get_data(as_text=True)
    assert "recovery code still signs you in" in page
    token = csrf_from(page)
    options = post_json(client, "/mfa/passkey/setup/options", token=token).get_json()
    key = SoftAuthenticator()
    done = post_json(client, "/mfa/passkey/setup", {"name": "Desk key", "credential": key.create(options)},
                     token=token)
    assert done.status_code == 200 and done.get_json() == {"redirect": "/staff/"}  # codes exist: none shown
    assert client.get("/staff/").status_code == 200
    assert _actions(db, "auth.login")[-1].details["method"] == "passkey_enrol"
    # Next time: the passkey, and the app code alone is not enough.
    post_form(client, "/logout", token_page="/account")
    assert login(client, user.email).headers["Location"] == "/mfa/passkey"
    assert 'href="/mfa"' not in client.get("/mfa/passkey").get_data(as_text=True)
    refused = post_form(client, "/mfa", {"code": totp_now(user)}, token_page="/mfa/passkey")
    assert refused.headers["Location"] == "/mfa/passkey" and client.get("/staff/").status_code == 302
    _options, ok = passkey_step(client, key)
    assert ok.status_code == 200


def test_when_required_a_new_staff_member_adds_a_passkey_first_and_gets_recovery_codes(app, client, db):
    user = factories.make_user(role="supervisor", mfa=False)
    require_passkeys(db)
    assert login(client, user.email).headers["Location"] == "/mfa/passkey/setup"
    assert client.get("/mfa/setup").headers["Location"] == "/mfa/passkey/setup"
    token = _token(client, "/mfa/passkey/setup")
    options = post_json(client, "/mfa/passkey/setup/options", token=token).get_json()
    key = SoftAuthenticator()
    done = post_json(client, "/mfa/passkey/setup", {"name": "Phone", "credential": key.create(options)},
                     token=token).get_json()
    codes = done["codes"]
    assert len(codes) == 10 and done["redirect"] == "/staff/"
    assert mfa.remaining_recovery_codes(_fresh(db, User, user.id)) == 10
    assert client.get("/staff/").status_code == 200
    # The key is lost: a recovery code is the way back, and the page says so.
    lost = app.test_client()
    login(lost, user.email)
    assert "use a recovery code" in lost.get("/mfa/passkey").get_data(as_text=True)
    back = post_form(lost, "/mfa/recovery", {"code": codes[0]}, token_page="/mfa/recovery")
    assert back.status_code == 302 and back.headers["Location"] == "/staff/"
    assert lost.get("/staff/").status_code == 200


def test_when_required_a_recovery_code_without_a_passkey_leads_to_adding_one(client, db):
    user = factories.make_user(role="liaison", mfa=False)
    login(client, user.email)
    page = client.get("/mfa/setup")
    enrolled = client.post("/mfa/setup", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                               "code": totp_now(user)})
    codes = re.findall(r"<code>([a-z0-9-]{19})</code>", enrolled.get_data(as_text=True))
    post_form(client, "/logout", token_page="/account")
    require_passkeys(db)
    login(client, user.email)
    response = post_form(client, "/mfa/recovery", {"code": codes[0]}, token_page="/mfa/recovery")
    assert response.headers["Location"] == "/mfa/passkey/setup"
    assert client.get("/staff/").headers["Location"] == "/mfa/passkey/setup"


def test_relying_party_comes_from_the_public_address_unless_set(app):
    from portal.services.passkeys import relying_party

    with app.test_request_context():
        assert relying_party() == ("localhost", "http://localhost")
        saved = dict(app.config)
        try:
            app.config["PUBLIC_BASE_URL"] = "https://portal.pd.example:8443/base/"
            assert relying_party() == ("portal.pd.example", "https://portal.pd.example:8443")
            app.config.update(WEBAUTHN_RP_ID="pd.example", WEBAUTHN_ORIGIN="https://login.pd.example/")
            assert relying_party() == ("pd.example", "https://login.pd.example")
        finally:
            app.config.clear()
            app.config.update(saved)


def test_the_pages_speak_spanish(client, db):
    user = factories.make_user(role="liaison", language="es")
    make_passkey(user)
    login(client, user.email)
    with client.session_transaction() as session:
        session["lang"] = "es"
    page = client.get("/mfa/passkey").get_data(as_text=True)
    assert "Use su llave de acceso" in page and "Usar mi llave de acceso" in page
    assert "Este navegador no puede usar llaves de acceso" in page  # the script's words, in the page's language
    assert "This browser cannot use passkeys" not in page
