"""Passwords: 12 to 128 characters of anything, no composition rules, common ones refused; argon2id, rehashed."""
from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from portal.errors import ServiceError
from portal.models import User
from portal.services import passwords
from portal.services.accounts import create_user

from . import factories
from .conftest import csrf_from, login, post_form, sign_in


def test_the_banned_list_is_in_the_repository_with_its_source_and_licence():
    words = passwords.banned_passwords()
    assert len(words) >= 10_000
    assert {"123456", "password", "qwerty", "iloveyou", "1qaz2wsx3edc"} <= words
    header = passwords.BANNED_LIST.read_text(encoding="utf-8").split("\n123456\n")[0]
    assert "zxcvbn" in header and "MIT" in header


@pytest.mark.parametrize("password", [
    "1qaz2wsx3edc",             # on the list
    "QWERTY123456",             # on the list, in capitals
    "password1234567",          # a listed word with digits after it
    "Sunshine2024!!!",          # a listed word with digits and symbols after it
    "aaaaaaaaaaaaaaaa",         # one character again and again
    "abcabcabcabcabc",          # a short piece again and again
    "123456789012345",          # a run
    "zyxwvutsrqponm",           # a run backwards
])
def test_common_or_patterned_passwords_are_refused(password):
    assert passwords.is_banned(password)
    assert "too common" in passwords.password_problem(password)


@pytest.mark.parametrize("password", [
    "correct horse battery staple",     # spaces are fine
    "my dog eats green apples",         # all lower case: no composition rules
    "contraseña de mi abuela",          # any language
    "🌻 sunflowers for mom 🌻",          # emoji
    "x" * 3 + "tangerine",              # exactly 12 characters
    "a sentence " * 11 + "ends now",    # long
])
def test_long_uncommon_passwords_of_any_kind_are_accepted(password):
    assert passwords.password_problem(password[:128]) is None


def test_length_limits_are_12_and_128_characters():
    assert "at least 12" in passwords.password_problem("elevenchars")
    assert passwords.password_problem("twelve chars") is None
    long_one = ("señora ñandú " * 11)[:128]
    assert passwords.password_problem(long_one) is None  # 128 characters (more bytes): fine
    assert "at most 128" in passwords.password_problem(long_one + "ñ")


def test_creating_an_account_with_a_banned_password_fails(db):
    with pytest.raises(ServiceError, match="too common"):
        create_user(email="x@test.example", name="X", role="liaison", password="iloveyou123456", actor=None)


def test_invite_acceptance_refuses_a_common_password_and_keeps_the_email(client, db):
    from portal.services import invitations

    _user, _member, case = factories.make_family()
    member = factories.make_family_member(case=case)
    _inv, token = invitations.create_invitation(member, created_by=None, send_text=False)
    db.session.commit()
    response = post_form(client, f"/invite/{token}", {"email": "kept@test.example", "password": "password123456",
                                                       "confirm": "password123456"}, token_page=f"/invite/{token}")
    body = response.get_data(as_text=True)
    assert "too common" in body and 'value="kept@test.example"' in body
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == "kept@test.example")) == 0


def test_create_user_command_refuses_a_common_password(app):
    result = app.test_cli_runner().invoke(args=["create-user", "--email", "a@test.example", "--name", "A",
                                                "--role", "admin", "--password", "baseball12345"])
    assert result.exit_code != 0 and "too common" in result.output


def test_hashes_use_argon2id_with_owasp_parameters(db):
    user = create_user(email="h@test.example", name="H", role="liaison", password="a long enough passphrase",
                       actor=None)
    db.session.commit()
    stored = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_a_hash_with_old_parameters_is_upgraded_at_sign_in(client, db):
    user = factories.make_user(role="family")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(factories.PASSWORD)
    db.session.get(User, user.id).password_hash = weak
    db.session.commit()
    assert login(client, user.email).status_code == 302
    db.session.expire_all()
    upgraded = db.session.get(User, user.id).password_hash
    assert upgraded != weak and upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert login(client.application.test_client(), user.email).status_code == 302  # still the same password


def test_changing_the_password_checks_the_current_one_and_the_rules(client, db):
    user = factories.make_user(role="family")
    sign_in(client, user)
    page = client.get("/account/password")
    token = csrf_from(page.get_data(as_text=True))
    new = {"password": "a brand new sentence", "confirm": "a brand new sentence"}
    wrong = client.post("/account/password", data={"csrf_token": token, "current": "not my password at all", **new})
    assert wrong.status_code == 422 and "not your current password" in wrong.get_data(as_text=True)
    common = client.post("/account/password", data={"csrf_token": token, "current": factories.PASSWORD,
                                                     "password": "football123456", "confirm": "football123456"})
    assert common.status_code == 422 and "too common" in common.get_data(as_text=True)
    ok = client.post("/account/password", data={"csrf_token": token, "current": factories.PASSWORD,
                                                 "password": "a brand new sentence", "confirm": "a brand new sentence"})
    assert ok.status_code == 302
    fresh_client = client.application.test_client()
    assert login(fresh_client, user.email).status_code == 200  # the old password no longer works
    assert login(fresh_client, user.email, "a brand new sentence").status_code == 302
