"""Invitations: texted through the outbox, single use, 72 hours, only a hash stored."""
from datetime import timedelta

import time_machine
from sqlalchemy import select, update

from portal.models import AuditEvent, Invitation, Notification, User, utcnow
from portal.services.invitations import create_invitation, token_hash

from . import factories
from .conftest import csrf_from
from .security_helpers import comparable_answer

REFUSED = "This email and password cannot be used with this link."


def _invite(db, member):
    _invitation, token = create_invitation(member, created_by=None)
    db.session.commit()
    return token


def _accept(client, token, email="new.family@test.example", password="our family remembers him"):
    page = client.get(f"/invite/{token}")
    assert page.status_code == 200
    return client.post(f"/invite/{token}", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                                 "email": email, "password": password, "confirm": password})


def test_staff_invite_is_texted_through_the_outbox(client, login_as, db):
    liaison = login_as("liaison")
    case = factories.make_case(liaison=liaison)
    member = factories.make_family_member(case=case, phone="+13125550177")
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    response = client.post(f"/staff/members/{member.id}/invite", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 200
    text = db.session.scalar(select(Notification).where(Notification.kind == "invite"))
    assert text.recipient == "+13125550177" and text.status == "queued"
    assert "/invite/" in text.body
    token = text.body.rsplit("/invite/", 1)[1].strip()
    stored = db.session.scalar(select(Invitation.token_hash))
    assert stored == token_hash(token) and token not in stored
    assert "The link was texted to +13125550177." in response.get_data(as_text=True)


def test_staff_see_the_link_and_why_when_the_invite_cannot_be_texted(client, login_as, db):
    liaison = login_as("liaison")
    case = factories.make_case(liaison=liaison)
    member = factories.make_family_member(case=case, phone="+13125550178", sms_opted_out_at=utcnow())
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    html = client.post(f"/staff/members/{member.id}/invite", data={"csrf_token": csrf_from(page)}).get_data(
        as_text=True)
    assert db.session.scalar(select(Notification)) is None  # a STOP holds, even for an invite
    assert "No text: replied STOP to texts." in html and "texted to" not in html
    assert 'class="copy-box">http://localhost/invite/' in html


def test_accepting_sets_a_password_and_signs_in(client, db):
    case = factories.make_case()
    member = factories.make_family_member(case=case)
    token = _invite(db, member)
    response = _accept(client, token)
    assert response.status_code == 302 and response.headers["Location"] == "/my"
    user = db.session.scalar(select(User).where(User.email == "new.family@test.example"))
    assert user.role == "family" and user.password_hash.startswith("$argon2id$")
    assert client.get(f"/my/cases/{case.id}").status_code == 200


def test_accepting_twice_fails_with_a_clear_page(client, app, db):
    member = factories.make_family_member(case=factories.make_case())
    token = _invite(db, member)
    assert _accept(client, token).status_code == 302
    again = app.test_client().get(f"/invite/{token}")
    assert again.status_code == 404
    assert "This link cannot be used" in again.get_data(as_text=True)
    assert "sign in with your email and password" in again.get_data(as_text=True)


def test_link_expires_after_72_hours(app, db):
    member = factories.make_family_member(case=factories.make_case())
    start = utcnow()
    with time_machine.travel(start, tick=False):
        token = _invite(db, member)
    with time_machine.travel(start + timedelta(hours=71, minutes=59), tick=False):
        assert app.test_client().get(f"/invite/{token}").status_code == 200
    with time_machine.travel(start + timedelta(hours=72, minutes=1), tick=False):
        page = app.test_client().get(f"/invite/{token}")
        assert page.status_code == 404
        assert "This link cannot be used" in page.get_data(as_text=True)
        assert "ask your liaison officer for a new link" in page.get_data(as_text=True)


def test_expired_link_cannot_be_posted_either(app, db):
    member = factories.make_family_member(case=factories.make_case())
    start = utcnow()
    with time_machine.travel(start, tick=False):
        token = _invite(db, member)
        client = app.test_client()
        token_page = client.get(f"/invite/{token}").get_data(as_text=True)
    with time_machine.travel(start + timedelta(hours=73), tick=False):
        response = client.post(f"/invite/{token}", data={
            "csrf_token": csrf_from(token_page), "email": "late@test.example",
            "password": "our family remembers him", "confirm": "our family remembers him"})
        assert response.status_code == 404
    assert db.session.scalar(select(User).where(User.email == "late@test.example")) is None


def test_unknown_link_explains_what_to_do(client):
    page = client.get("/invite/not-a-real-token")
    assert page.status_code == 404
    assert "This link cannot be used" in page.get_data(as_text=True)
    assert "ask your liaison officer for a new link" in page.get_data(as_text=True)


def test_a_new_invite_replaces_the_old_one(client, db):
    member = factories.make_family_member(case=factories.make_case())
    old = _invite(db, member)
    _invite(db, member)
    assert client.get(f"/invite/{old}").status_code == 404


def test_short_password_gets_a_message_and_keeps_the_email(client, db):
    member = factories.make_family_member(case=factories.make_case())
    token = _invite(db, member)
    response = _accept(client, token, email="kept@test.example", password="short")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "at least 12 characters" in body and 'value="kept@test.example"' in body
    assert client.get(f"/invite/{token}").status_code == 200  # still usable


def test_malformed_email_gets_a_message_on_that_field(client, db):
    member = factories.make_family_member(case=factories.make_case())
    token = _invite(db, member)
    response = _accept(client, token, email="not-an-email")
    body = response.get_data(as_text=True)
    assert "Enter an email address like name@example.com." in body
    assert 'value="not-an-email"' in body


def test_existing_family_account_links_with_its_own_password(client, db):
    user, _m, _case = factories.make_family()
    second_case = factories.make_case()
    member = factories.make_family_member(case=second_case)
    token = _invite(db, member)
    refused = _accept(client, token, email=user.email, password="not the password at all")
    assert REFUSED in refused.get_data(as_text=True) and "already exists" not in refused.get_data(as_text=True)
    accepted = _accept(client, token, email=user.email, password=factories.PASSWORD)
    assert accepted.status_code == 302
    assert client.get(f"/my/cases/{second_case.id}").status_code == 200


# --- the invite page is no way round the sign-in lockout, and tells nothing about accounts or links ---------------

def _fresh_user(db, user) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def test_ten_wrong_passwords_through_an_invite_lock_the_account_like_sign_in(client, db):
    user, _member, _case = factories.make_family()
    member = factories.make_family_member(case=factories.make_case())
    token = _invite(db, member)
    with time_machine.travel(utcnow(), tick=False) as traveller:
        for attempt in range(10):
            refused = _accept(client, token, email=user.email, password=f"a wrong password number {attempt}")
            assert refused.status_code == 200 and REFUSED in refused.get_data(as_text=True)
        assert _fresh_user(db, user).locked_until is not None  # counted, not rolled back with the refusal
        right = _accept(client, token, email=user.email, password=factories.PASSWORD)
        assert right.status_code == 200 and REFUSED in right.get_data(as_text=True)  # locked: refused
        assert client.get("/my").status_code == 302  # not signed in
        assert db.session.get(Invitation, db.session.scalar(select(Invitation.id))).used_at is None
        traveller.shift(timedelta(minutes=16))
        assert _accept(client, token, email=user.email, password=factories.PASSWORD).status_code == 302
    failures = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login",
                                                           AuditEvent.outcome == "failed")).all()
    assert len(failures) == 11 and {e.details.get("via") for e in failures} == {"invite"}
    assert "auth.lockout" in db.session.scalars(select(AuditEvent.action)).all()


def test_every_refusal_of_an_existing_email_gives_the_same_answer(app, db):
    family, _m, _case = factories.make_family()
    locked, _m2, _case2 = factories.make_family()
    staff = factories.make_user(role="liaison")
    inactive, _m3, _case3 = factories.make_family()
    inactive.active = False
    locked.locked_until = utcnow() + timedelta(minutes=10)
    db.session.commit()
    member = factories.make_family_member(case=factories.make_case())
    token = _invite(db, member)
    client = app.test_client()

    def answer(email, password):  # one client: its session (the CSRF token) is the same for every answer
        return comparable_answer(app, _accept(client, token, email=email, password=password), email)

    wrong = answer(family.email, "a wrong password for this one")
    assert wrong[0] == 200 and REFUSED in wrong[-1]
    assert answer(locked.email, factories.PASSWORD) == wrong  # the right password, but locked
    assert answer(staff.email, factories.PASSWORD) == wrong  # a staff account's right password
    assert answer(staff.email, "a wrong password for this one") == wrong
    assert answer(inactive.email, factories.PASSWORD) == wrong
    for word in ("exists", "lock", "staff"):
        assert word not in wrong[-1].lower().split("<main", 1)[-1]
    assert _fresh_user(db, staff).failed_logins == 0  # the invite page never counts against (or tries) staff


def _states(db):
    """Four tokens: unknown, used, expired, revoked."""
    used_member = factories.make_family_member(case=factories.make_case())
    used = _invite(db, used_member)
    db.session.execute(update(Invitation).where(Invitation.token_hash == token_hash(used)).values(used_at=utcnow()))
    expired_member = factories.make_family_member(case=factories.make_case())
    expired = _invite(db, expired_member)
    db.session.execute(update(Invitation).where(Invitation.token_hash == token_hash(expired))
                       .values(expires_at=utcnow() - timedelta(minutes=1)))
    revoked_member = factories.make_family_member(case=factories.make_case())
    revoked = _invite(db, revoked_member)
    _invite(db, revoked_member)
    db.session.commit()
    return {"unknown": "x" * 43, "used": used, "expired": expired, "revoked": revoked}


def test_an_unusable_invite_looks_the_same_whatever_its_state(app, db):
    tokens = _states(db)
    client = app.test_client()
    client.get("/login")  # a first visit starts the session: every answer below is a later one

    def answer(token, method):
        if method == "GET":
            response = client.get(f"/invite/{token}")
        else:
            page = client.get("/login").get_data(as_text=True)
            response = client.post(f"/invite/{token}", data={
                "csrf_token": csrf_from(page), "email": "someone@test.example",
                "password": "our family remembers him", "confirm": "our family remembers him"})
        return comparable_answer(app, response, token)

    for method in ("GET", "POST"):
        answers = {state: answer(token, method) for state, token in tokens.items()}
        first = answers["unknown"]
        assert first[0] == 404 and "This link cannot be used" in first[-1]
        assert all(other == first for other in answers.values()), method
