"""Lockout (15 minutes for staff, as CJIS asks, and for families; an admin may lift it early), per-address throttling
of failures in front of it, and rate limits on the doors from outside."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from portal import create_app
from portal.extensions import limiter
from portal.models import AuditEvent, User, utcnow
from portal.services.lockout import STAFF_LOCK, is_locked
from portal.web.security import DEFAULT_LIMITS, LIMITED_VIEWS, limits_on

from . import factories
from .conftest import complete_mfa, csrf_from, login, post_form, sign_in, totp_now
from .security_helpers import comparable_answer

GENERIC = "That email and password do not match. Check them and try again."
WRONG = "definitely not the password"


def _fresh(db, user) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def _fail(client, email, times):
    for _ in range(times):
        response = login(client, email, WRONG)
        assert response.status_code == 200 and GENERIC in response.get_data(as_text=True)


def test_five_wrong_passwords_lock_a_staff_account_until_an_admin_lifts_it_early(app, client, db):
    liaison = factories.make_user(role="liaison")
    with time_machine.travel(utcnow(), tick=False) as traveller:
        _fail(client, liaison.email, 5)
        assert is_locked(_fresh(db, liaison)) and _fresh(db, liaison).locked_at is None
        right = login(client, liaison.email)
        assert right.status_code == 200 and GENERIC in right.get_data(as_text=True)
        traveller.shift(timedelta(minutes=9))
        assert GENERIC in login(client, liaison.email).get_data(as_text=True)  # still locked
        admin_client = app.test_client()
        admin = factories.make_user(role="admin")
        sign_in(admin_client, admin)
        assert liaison.name in admin_client.get("/staff/security").get_data(as_text=True)
        post_form(admin_client, f"/staff/security/users/{liaison.id}/unlock", token_page="/staff/security")
        assert login(client, liaison.email).headers["Location"] == "/mfa"
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert "auth.lockout" in actions and "user.unlock" in actions
    unlock = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.unlock"))
    assert unlock.actor_id == admin.id and unlock.details["previous"] == "lock"


def test_a_staff_lock_follows_cjis_and_opens_by_itself(client, db):
    liaison = factories.make_user(role="liaison")
    with time_machine.travel(utcnow(), tick=False) as traveller:
        _fail(client, liaison.email, 5)
        lock = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.lockout"))
        assert lock.details["failures"] == 5
        assert _fresh(db, liaison).locked_until - utcnow() >= timedelta(minutes=10)  # CJIS 5.5.3: at least 10
        traveller.shift(STAFF_LOCK - timedelta(seconds=1))
        assert GENERIC in login(client, liaison.email).get_data(as_text=True)
        traveller.shift(timedelta(seconds=2))
        assert login(client, liaison.email).headers["Location"] == "/mfa"


def test_an_indefinite_hold_from_the_old_rule_lasts_until_an_admin_lifts_it(client, db):
    liaison = factories.make_user(role="liaison")
    liaison.locked_at = utcnow() - timedelta(days=3)
    db.session.commit()
    assert GENERIC in login(client, liaison.email).get_data(as_text=True)


def test_five_wrong_passwords_lock_a_family_account_for_fifteen_minutes(client, db):
    user, _member, _case = factories.make_family()
    with time_machine.travel(utcnow(), tick=False) as traveller:
        _fail(client, user.email, 5)
        assert GENERIC in login(client, user.email).get_data(as_text=True)
        traveller.shift(timedelta(minutes=14))
        assert GENERIC in login(client, user.email).get_data(as_text=True)
        traveller.shift(timedelta(minutes=2))
        assert login(client, user.email).headers["Location"] == "/my"
    assert _fresh(db, user).locked_at is None


def test_failures_more_than_fifteen_minutes_apart_do_not_add_up(client, db):
    user = factories.make_user(role="liaison")
    with time_machine.travel(utcnow(), tick=False) as traveller:
        _fail(client, user.email, 4)
        traveller.shift(timedelta(minutes=16))
        _fail(client, user.email, 4)
        assert not is_locked(_fresh(db, user))  # eight failures, but never five within 15 minutes
        _fail(client, user.email, 1)
        assert is_locked(_fresh(db, user))


def test_wrong_authenticator_codes_count_and_a_right_password_does_not_reset_them(app, db):
    user = factories.make_user(role="supervisor")
    client = app.test_client()
    login(client, user.email)
    for _ in range(3):
        assert post_form(client, "/mfa", {"code": "000000"}, token_page="/mfa").status_code == 422
    client = app.test_client()
    login(client, user.email)  # the right password again: the count goes on
    assert post_form(client, "/mfa", {"code": "000000"}, token_page="/mfa").status_code == 422
    locked = post_form(client, "/mfa", {"code": "000000"}, token_page="/mfa")
    assert locked.status_code == 302 and locked.headers["Location"] == "/login"
    assert is_locked(_fresh(db, user))
    late = post_form(client, "/mfa", {"code": totp_now(user)}, token_page="/login")
    assert late.headers["Location"] == "/login"  # even the right code does nothing now


def test_a_complete_sign_in_clears_the_count(client, db):
    user = factories.make_user(role="liaison")
    _fail(client, user.email, 4)
    sign_in(client, user)
    assert _fresh(db, user).failed_logins == 0


def test_locked_unknown_and_wrong_all_get_the_same_page(client):
    locked = factories.make_user(role="liaison")
    _fail(client, locked.email, 5)
    known = factories.make_user(role="liaison")

    def page(email, password):  # status, headers, session and body, but for the email typed and the CSRF tokens
        return comparable_answer(client.application, login(client, email, password), email)

    assert page(locked.email, factories.PASSWORD) == page("nobody@test.example", WRONG) == page(known.email, WRONG)
    assert "lock" not in page(locked.email, factories.PASSWORD)[-1].lower()


# --- rate limits ----------------------------------------------------------------------------------------------------

@pytest.fixture
def limited_app(app):
    """The app with rate limits on (memory storage), sharing the suite's database; limits off again after."""
    limited = create_app("testing", {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                     "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
                                     "UPLOAD_DIR": app.config["UPLOAD_DIR"], "RATE_LIMITS": {"mfa": "3 per minute"}})
    limited.test_client_class = app.test_client_class
    try:
        yield limited
    finally:
        limiter.enabled = False  # the limiter object is shared: the rest of the suite runs without limits


def _hammer(client, url, data, times):
    token = csrf_from(client.get(url).get_data(as_text=True))
    return [client.post(url, data={"csrf_token": token, **data}).status_code for _ in range(times)]


def test_sign_in_is_rate_limited_per_client(limited_app):
    client = limited_app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    codes = [client.post("/login", data={"csrf_token": token, "email": f"someone{i}@test.example",
                                         "password": WRONG}).status_code for i in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429
    refused = post_form(client, "/login", {"email": "someone@test.example", "password": WRONG}, token_page="/login")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    assert "Too many" in refused.get_data(as_text=True) or "too many" in refused.get_data(as_text=True)
    other = limited_app.test_client()  # another address has its own count
    page = other.get("/login", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    answer = other.post("/login", environ_base={"REMOTE_ADDR": "10.9.9.9"},
                        data={"csrf_token": csrf_from(page.get_data(as_text=True)), "email": "a@test.example",
                              "password": WRONG})
    assert answer.status_code == 200


def _from(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


STRANGER, OTHER_STRANGER, OWNER = "198.51.100.66", "198.51.100.67", "192.0.2.10"


def test_failures_from_one_address_are_throttled_before_they_can_lock_an_account(limited_app, db):
    owner = factories.make_user(role="liaison")
    stranger = _from(limited_app, STRANGER)
    codes = [login(stranger, owner.email, WRONG).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 200, 429]  # the fifth is not even tried
    assert login(stranger, owner.email).status_code == 429  # nor is the right password, from there
    assert not is_locked(_fresh(db, owner)) and _fresh(db, owner).failed_logins == 4
    assert login(_from(limited_app, OWNER), owner.email).headers["Location"] == "/mfa"
    # The throttle is per address and email: the same address may still sign in to another account.
    colleague = factories.make_user(role="liaison")
    assert login(stranger, colleague.email).headers["Location"] == "/mfa"


def test_a_stranger_from_one_address_cannot_keep_a_staff_member_out(limited_app, db):
    owner = factories.make_user(role="liaison")
    stranger = _from(limited_app, STRANGER)
    with time_machine.travel(utcnow(), tick=False) as traveller:
        for _round in range(6):  # 5 wrong passwords every 5 minutes, for half an hour
            codes = [login(stranger, owner.email, WRONG).status_code for _ in range(5)]
            assert set(codes) <= {200, 429} and 429 in codes
            assert login(_from(limited_app, OWNER), owner.email).headers["Location"] == "/mfa"
            traveller.shift(timedelta(minutes=5))
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.lockout")) is None


def test_five_wrong_staff_passwords_from_strangers_do_not_keep_the_owner_out_past_the_cjis_lock(limited_app, db):
    owner = factories.make_user(role="liaison")
    strangers = _from(limited_app, STRANGER), _from(limited_app, OTHER_STRANGER)
    with time_machine.travel(utcnow(), tick=False) as traveller:
        assert [login(strangers[0], owner.email, WRONG).status_code for _ in range(4)] == [200] * 4
        assert login(strangers[1], owner.email, WRONG).status_code == 200  # the fifth, from a second address
        assert is_locked(_fresh(db, owner))
        assert GENERIC in login(_from(limited_app, OWNER), owner.email).get_data(as_text=True)  # locked for now
        traveller.shift(STAFF_LOCK + timedelta(seconds=1))
        for stranger in strangers:  # they go on, but their addresses are throttled: no new lock
            [login(stranger, owner.email, WRONG) for _ in range(5)]
        owner_client = _from(limited_app, OWNER)
        assert login(owner_client, owner.email).headers["Location"] == "/mfa"
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "auth.lockout")) == 1


def test_the_owner_is_told_of_a_lock_at_their_next_sign_in(app, client, db):
    owner = factories.make_user(role="liaison")
    with time_machine.travel(utcnow(), tick=False) as traveller:
        _fail(client, owner.email, 6)  # five lock; the sixth is refused while locked
        traveller.shift(STAFF_LOCK + timedelta(minutes=1))
        owner_client = app.test_client()
        response = login(owner_client, owner.email)
        page = owner_client.get(response.headers["Location"]).get_data(as_text=True)
        assert "there were 6 failed attempts to sign in to your account" in page
        assert "locked for a short time on" in page and "tell your administrator" in page
        complete_mfa(owner_client, _fresh(db, owner))
        shown = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.lockout_notice"))
        assert shown.actor_id == owner.id and shown.details["failures"] == 6
        again = app.test_client()  # told once: the next sign-in is quiet
        response = login(again, owner.email)
        assert "failed attempt" not in again.get(response.headers["Location"]).get_data(as_text=True)


def test_invite_acceptance_is_rate_limited(limited_app, db):
    _user, member, case = factories.make_family()
    fresh_member = factories.make_family_member(case=case)
    with limited_app.app_context():
        from portal.services import invitations

        _inv, token = invitations.create_invitation(db.session.merge(fresh_member), created_by=None, send_text=False)
        db.session.commit()
    codes = _hammer(limited_app.test_client(), f"/invite/{token}", {"email": "x@test.example", "password": "short",
                                                                   "confirm": "short"}, 11)
    assert codes[-1] == 429 and 429 not in codes[:10]


def test_wrong_passwords_through_an_invite_share_the_sign_in_throttle(limited_app, db):
    family, _member, _case = factories.make_family()
    with limited_app.app_context():
        from portal.services import invitations

        fresh = db.session.merge(factories.make_family_member(case=factories.make_case()))
        _inv, token = invitations.create_invitation(fresh, created_by=None, send_text=False)
        db.session.commit()
    stranger = _from(limited_app, STRANGER)

    def through_invite(password):
        page = stranger.get(f"/invite/{token}").get_data(as_text=True)
        return stranger.post(f"/invite/{token}", data={"csrf_token": csrf_from(page), "email": family.email,
                                                       "password": password, "confirm": password}).status_code

    assert [through_invite(f"a wrong password {i}") for i in range(3)] == [200] * 3
    assert login(stranger, family.email, WRONG).status_code == 200  # the fourth, on the sign-in page
    assert through_invite("a wrong password 5") == 429  # the same few tries across both pages
    assert not is_locked(_fresh(db, family))
    assert login(_from(limited_app, OWNER), family.email).headers["Location"] == "/my"


def test_second_factor_is_rate_limited_and_operators_can_tune_limits(limited_app):
    user = factories.make_user(role="liaison")
    client = limited_app.test_client()
    login(client, user.email)
    assert _hammer(client, "/mfa", {"code": "000000"}, 4) == [422, 422, 422, 429]  # RATE_LIMITS: 3 per minute


def test_rate_limit_counters_never_hold_a_raw_address(app, db):
    redis = pytest.importorskip("redis")
    store = redis.Redis(host="127.0.0.1", port=6379, db=2, socket_connect_timeout=1)
    try:
        store.flushdb()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    limited = create_app("testing", {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                     "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/2"})
    try:
        client = limited.test_client()
        page = client.get("/login", environ_base={"REMOTE_ADDR": "203.0.113.77"})
        client.post("/login", environ_base={"REMOTE_ADDR": "203.0.113.77"},
                    data={"csrf_token": csrf_from(page.get_data(as_text=True)), "email": "a@test.example",
                          "password": WRONG})
        keys = [k.decode() for k in store.keys("*")]
        assert keys, "the limit was not counted in Redis"
        assert not any("203.0.113.77" in k for k in keys)
    finally:
        limiter.enabled = False
        store.flushdb()


def test_redis_is_used_for_counters_when_redis_url_is_set(monkeypatch):
    from config import _ratelimit_storage_uri

    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert _ratelimit_storage_uri() == "memory://"
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/2")
    assert _ratelimit_storage_uri() == "redis://127.0.0.1:6379/2"


@pytest.mark.parametrize("endpoint, name", [
    ("auth.login", "sign_in"), ("auth.accept_invite", "invite"), ("auth.mfa_verify", "mfa"),
    ("auth.mfa_setup", "mfa"), ("auth.mfa_recovery", "mfa"), ("auth.change_password", "password_change"),
])
def test_named_limits_are_on_the_routes_that_exist(app, endpoint, name):
    assert name in limits_on(app, endpoint)


@pytest.mark.parametrize("endpoint, name", [("family.new_lead", "lead_submission"),
                                            ("tips.leave_tip", "tip_submission"), ("tips.check_tip", "tip_lookup")])
def test_lead_and_tip_routes_carry_their_named_limit(app, endpoint, name):
    assert name in DEFAULT_LIMITS and LIMITED_VIEWS[name]
    assert name in limits_on(app, endpoint)


@pytest.fixture
def tight_app(app):
    """Rate limits on, with the lead and tip limits at 2 a minute."""
    limited = create_app("testing", {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                     "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
                                     "UPLOAD_DIR": app.config["UPLOAD_DIR"],
                                     "RATE_LIMITS": {"lead_submission": "2 per minute",
                                                     "tip_submission": "2 per minute"}})
    limited.test_client_class = app.test_client_class
    try:
        yield limited
    finally:
        limiter.enabled = False


def _send_lead(client, case_id):
    page = client.get(f"/my/cases/{case_id}/leads/new").get_data(as_text=True)
    key = re.search(r'name="submission_key"[^>]*value="([^"]+)"', page).group(1)
    return client.post(f"/my/cases/{case_id}/leads/new",
                       data={"csrf_token": csrf_from(page), "submission_key": key, "details": "Ask his friend."})


def test_lead_submission_is_limited_per_family_member(tight_app):
    user, _member, case = factories.make_family()
    other_user, _other, _case = factories.make_family(case=case)
    client, other = tight_app.test_client(), tight_app.test_client()
    sign_in(client, user)
    sign_in(other, other_user)  # same address, another person: their own count
    assert [_send_lead(client, case.id).status_code for _ in range(3)] == [302, 302, 429]
    assert _send_lead(other, case.id).status_code == 302


def test_tip_submission_is_limited_per_link_never_per_address(tight_app):
    from .family_factories import make_tip_link

    _user, member, case = factories.make_family()
    (_link, token), (_other_link, other_token) = make_tip_link(case=case, member=member), \
        make_tip_link(case=case, member=member)
    statuses = []
    for i, address in enumerate(("198.51.100.1", "198.51.100.2", "198.51.100.3")):
        tipster = tight_app.test_client()
        tipster.environ_base["REMOTE_ADDR"] = address
        page = tipster.get(f"/t/{token}").get_data(as_text=True)
        form_token = re.search(r'name="form_token"[^>]*value="([^"]+)"', page).group(1)
        statuses.append(tipster.post(f"/t/{token}", data={"form_token": form_token, "details": f"tip {i}"})
                        .status_code)
    assert statuses == [200, 200, 429]  # three addresses, one link: one count
    tipster = tight_app.test_client()
    page = tipster.get(f"/t/{other_token}").get_data(as_text=True)
    form_token = re.search(r'name="form_token"[^>]*value="([^"]+)"', page).group(1)
    assert tipster.post(f"/t/{other_token}", data={"form_token": form_token, "details": "x"}).status_code == 200
    keys = " ".join(str(k) for k in getattr(limiter.storage, "storage", {}))
    assert "tip_submission" in keys and "198.51.100" not in keys
