"""Twilio webhooks: signatures checked against PUBLIC_BASE_URL, forward-only statuses, 503 when the database is down."""
import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from portal import create_app
from portal.models import FamilyMember, InboundSms, Notification, Outreach, utcnow
from portal.services.notifications.outbox import queue_sms
from portal.tasks import delivery as outbox
from portal.webhooks.routes import valid_signature

from . import factories
from .fake_twilio import AUTH_TOKEN
from .sms_helpers import is_postgres

PUBLIC = "https://portal.example.gov"


@pytest.fixture
def signed(app, monkeypatch):
    """post(path, params) sends a request signed like Twilio's for PUBLIC_BASE_URL + path."""
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", PUBLIC)

    def post(client, path, params, *, token=AUTH_TOKEN, sign_url=None, tamper=None):
        signature = RequestValidator(token).compute_signature(sign_url or PUBLIC + path, params)
        return client.post(path, data={**params, **(tamper or {})}, headers={"X-Twilio-Signature": signature})

    return post


def _sent_text(db, *, member=None):
    member = member or factories.make_family_member(case=factories.make_case())
    message = queue_sms(to=member.phone, body="hi", kind="test", urgent=True, case=member.case, family_member=member)
    db.session.commit()
    outbox.drain(ids=[message.id])
    db.session.expire_all()
    return db.session.get(Notification, message.id)


def _status(message, status, **extra):
    return {"MessageSid": message.provider_sid, "MessageStatus": status, "To": message.recipient, **extra}


def _reload(db, message):
    db.session.expire_all()
    return db.session.get(Notification, message.id)


def test_twilios_published_signature_test_vector_validates():
    # From Twilio's docs and the twilio-python test suite (tests/unit/test_request_validator.py).
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = MultiDict({"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
                        "From": "+14158675309", "To": "+18005551212"})
    assert valid_signature("12345", url, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    repeated = MultiDict([("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")])
    assert valid_signature("12345", url, repeated, "IK+Dwps556ElfBT0I3Rgjkr1wJU=")
    tampered = params.copy()
    tampered["Digits"] = "1235"
    assert not valid_signature("12345", url, tampered, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not valid_signature("54321", url, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not valid_signature("12345", url.replace("bar=2", "bar=3"), params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not valid_signature("12345", url, params, None) and not valid_signature(None, url, params, "x")


@pytest.mark.parametrize("how", ["tampered body", "missing signature", "other token", "request's own host"])
def test_a_request_twilio_did_not_sign_gets_403_and_changes_nothing(client, db, signed, how):
    member = factories.make_family_member(case=factories.make_case())
    params = {"MessageSid": "SM" + "a" * 32, "From": member.phone, "To": "+13125550000", "Body": "STOP"}
    path = "/webhooks/twilio/sms"
    if how == "tampered body":
        response = signed(client, path, params, tamper={"From": "+13125550999"})
    elif how == "missing signature":
        response = client.post(path, data=params)
    elif how == "other token":
        response = signed(client, path, params, token="someone-elses-token")
    else:  # signed for the Host the request came in on, not the configured public address
        response = signed(client, path, params, sign_url="http://localhost" + path)
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(InboundSms)) == 0
    assert db.session.get(FamilyMember, member.id).sms_opted_out_at is None


def test_webhooks_refuse_everything_while_no_auth_token_is_configured(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", None)
    assert client.post("/webhooks/twilio/sms", data={"MessageSid": "SM1", "From": "+1"},
                       headers={"X-Twilio-Signature": "x"}).status_code == 403


def test_a_signed_request_behind_a_proxy_is_accepted_without_a_csrf_token(client, db, signed):
    # The test client calls http://localhost/...; Twilio signed https://portal.example.gov/...
    response = signed(client, "/webhooks/twilio/sms",
                      {"MessageSid": "SM" + "b" * 32, "From": "+13125550888", "To": "+13125550000", "Body": "hi"})
    assert response.status_code == 200 and response.mimetype == "text/xml"
    assert db.session.scalar(select(InboundSms.handling)) == "unmatched"


def test_status_moves_forward_only_and_a_replay_changes_nothing(client, db, sms, signed):
    message = _sent_text(db)
    path = f"/webhooks/twilio/status?outbox_id={message.id}"
    assert signed(client, path, _status(message, "delivered")).status_code == 204
    delivered = _reload(db, message)
    assert delivered.status == "delivered" and delivered.delivered_at is not None
    before = (delivered.status, delivered.updated_at, delivered.delivered_at, delivered.error_code)
    for replay in ("delivered", "sent", "undelivered", "failed"):  # a replay, then late and out-of-order news
        assert signed(client, path, _status(message, replay, ErrorCode="30003")).status_code == 204
    after = _reload(db, message)
    assert (after.status, after.updated_at, after.delivered_at, after.error_code) == before
    assert db.session.get(FamilyMember, message.family_member_id).phone_flagged_at is None
    assert db.session.scalar(select(func.count()).select_from(Outreach)) == 1


def test_undelivered_with_a_wrong_number_code_flags_the_number_once(client, db, sms, signed):
    message = _sent_text(db)
    path = f"/webhooks/twilio/status?outbox_id={message.id}"
    signed(client, path, _status(message, "sent"))
    signed(client, path, _status(message, "undelivered", ErrorCode="30006"))
    current = _reload(db, message)
    assert (current.status, current.error_code) == ("undelivered", "30006")
    flagged_at = db.session.get(FamilyMember, message.family_member_id).phone_flagged_at
    assert flagged_at is not None
    signed(client, path, _status(message, "undelivered", ErrorCode="30006"))
    db.session.expire_all()
    assert db.session.get(FamilyMember, message.family_member_id).phone_flagged_at == flagged_at


def test_a_callback_for_21610_opts_the_number_out(client, db, sms, signed):
    message = _sent_text(db)
    signed(client, f"/webhooks/twilio/status?outbox_id={message.id}",
           _status(message, "failed", ErrorCode="21610"))
    assert db.session.get(FamilyMember, message.family_member_id).sms_opted_out_at is not None


def test_a_callback_that_beats_the_workers_own_write_is_kept_and_logged_once(client, db, sms, signed):
    from sqlalchemy.orm import Session

    member = factories.make_family_member(case=factories.make_case())
    message = queue_sms(to=member.phone, body="hi", kind="test", urgent=True, case=member.case, family_member=member)
    db.session.commit()
    with Session(db.engine) as session:
        token, [item] = outbox.claim(session, now=utcnow(), limit=1)
        # Twilio took the text and called back before the worker wrote down what Twilio said.
        signed(client, f"/webhooks/twilio/status?outbox_id={message.id}",
               {"MessageSid": "SM" + "c" * 32, "MessageStatus": "delivered"})
        outbox._record_sent(session, item, token, "SM" + "c" * 32)
    current = _reload(db, message)
    assert (current.status, current.provider_sid, current.attempts) == ("delivered", "SM" + "c" * 32, 1)
    assert db.session.scalar(select(func.count()).select_from(Outreach)) == 1


def test_a_callback_about_another_message_or_outbox_row_is_ignored(client, db, sms, signed):
    message = _sent_text(db)
    assert signed(client, f"/webhooks/twilio/status?outbox_id={message.id}",
                  {"MessageSid": "SM" + "d" * 32, "MessageStatus": "failed"}).status_code == 204
    assert signed(client, "/webhooks/twilio/status?outbox_id=999999",
                  {"MessageSid": "SM" + "d" * 32, "MessageStatus": "failed"}).status_code == 204
    assert _reload(db, message).status == "sent"


def test_the_fake_twilio_calls_back_to_the_live_portal_with_signed_callbacks(db, twilio, live_portal, monkeypatch,
                                                                                app):
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", twilio.auth_token)
    message = _sent_text(db)
    [received] = twilio.messages
    assert received.status_callback.startswith(live_portal)
    assert twilio.send_status(received, "sent").status_code == 204
    assert twilio.send_status(received, "delivered").status_code == 204
    assert twilio.send_status(received, "sent").status_code == 204  # late and out of order
    assert _reload(db, message).status == "delivered"
    assert twilio.send_status(received, "failed", token="forged").status_code == 403
    assert _reload(db, message).status == "delivered"


def test_database_down_answers_503_so_twilio_tries_again(app, tmp_path):
    broken = ("postgresql+psycopg://postgres@127.0.0.1:1/nowhere" if is_postgres(app)
              else f"sqlite:///{tmp_path}/missing-dir/nothing.db")
    down = create_app("testing", {"SQLALCHEMY_DATABASE_URI": broken, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                                  "PUBLIC_BASE_URL": PUBLIC})
    params = {"MessageSid": "SM" + "e" * 32, "From": "+13125550777", "To": "+13125550000", "Body": "hello"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + "/webhooks/twilio/sms", params)
    with down.test_client() as client:
        response = client.post("/webhooks/twilio/sms", data=params, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 503 and response.headers["Retry-After"]
        status_sig = RequestValidator(AUTH_TOKEN).compute_signature(
            PUBLIC + "/webhooks/twilio/status?outbox_id=1", {"MessageSid": "SM1", "MessageStatus": "delivered"})
        response = client.post("/webhooks/twilio/status?outbox_id=1",
                               data={"MessageSid": "SM1", "MessageStatus": "delivered"},
                               headers={"X-Twilio-Signature": status_sig})
        assert response.status_code == 503


def test_the_named_webhook_limit_counts_unsigned_requests_only(app, monkeypatch):
    from portal.extensions import limiter
    from portal.web.security import limits_on

    assert limits_on(app, "webhooks.status_callback") == {"webhook"}
    assert limits_on(app, "webhooks.inbound_sms") == {"webhook"}
    limited = create_app("testing", {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                     "UPLOAD_DIR": app.config["UPLOAD_DIR"], "RATELIMIT_ENABLED": True,
                                     "RATELIMIT_STORAGE_URI": "memory://", "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                                     "PUBLIC_BASE_URL": PUBLIC, "RATE_LIMITS": {"webhook": "3 per minute"}})
    limited.test_client_class = app.test_client_class
    client = limited.test_client()
    path = "/webhooks/twilio/status?outbox_id=1"
    params = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + path, params)
    try:
        unsigned = [client.post(path, data=params).status_code for _ in range(4)]
        signed_codes = [client.post(path, data=params, headers={"X-Twilio-Signature": signature}).status_code
                        for _ in range(5)]
    finally:
        limiter.enabled = False
    assert unsigned == [403, 403, 403, 429]  # the 4th unsigned request in a minute is refused before any work
    assert signed_codes == [204] * 5  # Twilio's own signed callbacks are never counted or slowed
