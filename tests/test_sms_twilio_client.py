"""The twilio SmsClient: the real SDK, with its own HTTP client, against the fake Twilio on 127.0.0.1."""
import logging

import pytest

from portal.app import sms_client_for
from portal.providers.sms import SmsError

from .fake_twilio import ACCOUNT_SID


def _send(app, body="Hello from the portal", to="+13125550199", outbox_id=42):
    with app.test_request_context():
        return app.extensions["sms_client"].send(to=to, body=body, outbox_id=outbox_id)


def test_a_text_reaches_twilio_with_sender_body_and_status_callback(app, twilio):
    result = _send(app)
    [message] = twilio.messages
    assert result.provider_sid == message.sid and message.sid.startswith("SM")
    assert (message.to, message.body, message.sender) == ("+13125550199", "Hello from the portal", "+13125550000")
    assert message.status_callback == f"{app.config['PUBLIC_BASE_URL']}/webhooks/twilio/status?outbox_id=42"
    assert message.outbox_id == 42
    assert message.user_agent.startswith("twilio-python/")  # the SDK's own HTTP client made the request


def test_a_messaging_service_sid_is_used_instead_of_a_from_number(app, twilio, monkeypatch):
    monkeypatch.setitem(app.config, "TWILIO_MESSAGING_SERVICE_SID", "MG" + "1" * 32)
    _send(app)
    assert twilio.messages[0].messaging_service_sid == "MG" + "1" * 32 and twilio.messages[0].sender is None


@pytest.mark.parametrize(("failure", "code", "retryable"), [
    ({"status": 500}, "500", True),
    ({"status": 503}, "503", True),
    ({"status": 429}, "20429", True),
    ({"mode": "drop"}, "network", True),
    ({"mode": "timeout"}, "timeout", True),
    ({"code": 21211}, "21211", False),
    ({"code": 21610}, "21610", False),
    ({"code": 21614}, "21614", False),
])
def test_twilio_failures_become_our_error_saying_whether_to_retry(app, twilio, failure, code, retryable):
    twilio.timeout_seconds = 1.0  # the client gives up after TWILIO_TIMEOUT = 0.5 s
    twilio.fail(times=1, **failure)
    with pytest.raises(SmsError) as caught:
        _send(app)
    assert (caught.value.code, caught.value.retryable) == (code, retryable)
    assert twilio.messages == []
    _send(app)  # the next one goes through
    assert len(twilio.messages) == 1


def test_wrong_credentials_are_a_provider_problem_and_retry(app, twilio, monkeypatch):
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", "not-the-token")
    with pytest.raises(SmsError) as caught:
        _send(app)
    assert caught.value.code == "20003" and caught.value.retryable


def test_missing_settings_say_what_to_set(app, monkeypatch):
    monkeypatch.setitem(app.extensions, "sms_client", sms_client_for(app, "twilio"))
    monkeypatch.setitem(app.config, "TWILIO_FROM_NUMBER", None)
    monkeypatch.setitem(app.config, "TWILIO_MESSAGING_SERVICE_SID", None)
    with pytest.raises(SmsError, match="TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER") as caught:
        _send(app)
    assert caught.value.retryable  # a configuration slip must not lose texts: they wait for the fix
    monkeypatch.setitem(app.config, "TWILIO_FROM_NUMBER", "+13125550000")
    monkeypatch.setitem(app.config, "TWILIO_ACCOUNT_SID", None)
    with pytest.raises(SmsError, match="TWILIO_ACCOUNT_SID"):
        _send(app)


def test_logs_hold_outcome_and_duration_but_never_the_number_or_body(app, twilio, caplog):
    caplog.set_level(logging.INFO)
    _send(app, body="Secret words about the case", to="+13125550123")
    twilio.fail(code=21211, times=1)
    with pytest.raises(SmsError):
        _send(app, body="Secret words about the case", to="+13125550123")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "accepted text outbox_id=42 duration_ms=" in logged and "code=21211" in logged
    assert "Secret words" not in logged and "5550123" not in logged and ACCOUNT_SID not in logged
