"""Twilio keeps nothing: after a text reaches a final status, and once a received text is stored, the body Twilio
keeps is blanked by a job (the real SDK against the fake Twilio); an outage delays it and loses nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal import tasks
from portal.models import InboundSms, Notification
from portal.providers.sms import SmsError
from portal.services.notifications.outbox import queue_sms
from portal.tasks import delivery

from . import factories

MARKER = "MARKER-7Q4K the blue car on Elm"


@pytest.fixture
def portal_twilio(twilio, live_portal, monkeypatch, app):
    """The fake Twilio, sending signed callbacks and texts to the live portal."""
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", twilio.auth_token)
    return twilio


def _send(db, member, body=MARKER) -> Notification:
    message = queue_sms(to=member.phone, body=body, kind="test", urgent=True, case=member.case,
                        family_member=member)
    db.session.commit()
    delivery.drain(ids=[message.id])
    db.session.expire_all()
    return db.session.get(Notification, message.id)


def _run_job():
    tasks.redact_provider_copies.call_local()  # the every-minute periodic task


def test_after_delivery_the_fake_twilio_holds_no_body_for_our_texts(db, portal_twilio):
    case = factories.make_case()
    members = [factories.make_family_member(case=case, phone=f"+131255530{n:02d}") for n in range(3)]
    texts = [_send(db, member, body=f"{MARKER} #{n}") for n, member in enumerate(members)]
    assert len(portal_twilio.bodies_kept()) == 3
    _run_job()  # sent, no final status yet: Twilio's copy stays (Twilio redacts only finished messages)
    assert len(portal_twilio.bodies_kept()) == 3
    for received, status in zip(portal_twilio.messages, ("delivered", "undelivered", "failed"), strict=True):
        assert portal_twilio.send_status(received, status).status_code == 204
    _run_job()
    assert portal_twilio.bodies_kept() == []
    assert all(m.redacted for m in portal_twilio.messages)
    db.session.expire_all()
    for text in texts:
        row = db.session.get(Notification, text.id)
        assert row.status in ("delivered", "undelivered", "failed") and row.provider_redacted_at is not None
    requests_before = len(portal_twilio.requests)
    _run_job()  # done once: nothing is asked of Twilio again
    assert len(portal_twilio.requests) == requests_before


def test_a_received_text_is_redacted_at_twilio_once_stored_and_its_media_are_left_alone(db, portal_twilio,
                                                                                      live_portal):
    member = factories.make_family_member(case=factories.make_case(), phone="+13125553100")
    received, response = portal_twilio.send_text(f"{live_portal}/webhooks/twilio/sms", from_=member.phone,
                                                 body=MARKER, media=["image/jpeg"])
    assert response.status_code == 200
    stored = db.session.scalar(select(InboundSms).where(InboundSms.message_sid == received.sid))
    assert stored.body == MARKER and stored.handling == "conversation"
    assert portal_twilio.bodies_kept() == [MARKER]
    _run_job()
    assert portal_twilio.bodies_kept() == []
    db.session.expire_all()
    assert db.session.get(InboundSms, stored.id).provider_redacted_at is not None
    assert db.session.get(InboundSms, stored.id).body == MARKER  # our copy stays (retention decides)
    # Media are not this job's: tasks/media.py deletes Twilio's copy of a picture only once ours is stored
    # (tests/test_sms_mms.py), so the redaction never loses the only copy.
    assert len(portal_twilio.find(received.sid).media) == 1


def test_twilio_down_delays_the_redaction_and_never_loses_the_status(db, portal_twilio):
    text = _send(db, factories.make_family_member(case=factories.make_case(), phone="+13125553200"))
    [received] = portal_twilio.messages
    portal_twilio.fail(status=503)
    assert portal_twilio.send_status(received, "delivered").status_code == 204  # the webhook never calls Twilio
    _run_job()
    _run_job()
    db.session.expire_all()
    row = db.session.get(Notification, text.id)
    assert row.status == "delivered" and row.provider_redacted_at is None and row.redact_error is None
    assert portal_twilio.bodies_kept() == [MARKER]
    portal_twilio.recover()
    _run_job()
    assert portal_twilio.bodies_kept() == []
    db.session.expire_all()
    assert db.session.get(Notification, text.id).provider_redacted_at is not None


def test_a_message_twilio_no_longer_has_counts_as_redacted(db, portal_twilio, app):
    text = _send(db, factories.make_family_member(case=factories.make_case(), phone="+13125553300"))
    [received] = portal_twilio.messages
    portal_twilio.send_status(received, "delivered")
    portal_twilio.messages.clear()  # deleted at Twilio meanwhile: the API answers 404
    result = delivery.client_for("sms")
    assert result.redact_body(provider_sid=received.sid) is False
    _run_job()
    db.session.expire_all()
    assert db.session.get(Notification, text.id).provider_redacted_at is not None


def test_the_twilio_client_deletes_a_messages_media_and_twilio_refuses_a_body_that_is_not_empty(db, portal_twilio,
                                                                                               live_portal):
    received, _response = portal_twilio.send_text(f"{live_portal}/webhooks/twilio/sms", from_="+13125553400",
                                                  body="photo", media=["image/jpeg", "image/png"])
    first, second = list(received.media)
    client = delivery.client_for("sms")
    assert client.delete_media(provider_sid=received.sid, media_sid=first) is True
    assert list(received.media) == [second]
    assert client.delete_media(provider_sid=received.sid, media_sid=first) is False  # 404: already gone
    assert client.delete_media(provider_sid="SM" + "0" * 32, media_sid=second) is False
    # Twilio redacts only with an empty Body; the SDK's update with any other body is refused (error 30400).
    sdk = client._client(client.settings)
    with pytest.raises(Exception, match="30400|Parameters"):
        sdk.messages(received.sid).update(body="something else")
    assert received.body == "photo"


def test_a_refusal_stops_the_retries_for_that_text_only(db, portal_twilio):
    case = factories.make_case()
    texts = [_send(db, factories.make_family_member(case=case, phone=f"+131255535{n:02d}")) for n in range(2)]
    for received in portal_twilio.messages:
        portal_twilio.send_status(received, "delivered")
    portal_twilio.fail(status=400, code=21211, times=1)  # a refusal trying again will not change
    _run_job()
    db.session.expire_all()
    first, second = (db.session.get(Notification, t.id) for t in texts)
    assert first.redact_error == "21211" and first.provider_redacted_at is None
    assert second.provider_redacted_at is not None


def test_the_memory_and_console_clients_implement_the_provider_methods(app):
    from portal.providers.sms import ConsoleSmsClient, MemorySmsClient

    memory = MemorySmsClient()
    sent = memory.send(to="+13125550100", body=MARKER, outbox_id=1)
    assert memory.redact_body(provider_sid=sent.provider_sid) is True and memory.sent[0]["body"] == ""
    assert memory.delete_media(provider_sid=sent.provider_sid, media_sid="ME1") is True
    assert memory.deleted_media == [(sent.provider_sid, "ME1")]
    memory.fail_with = SmsError("down")
    with pytest.raises(SmsError):
        memory.redact_body(provider_sid=sent.provider_sid)
    console = ConsoleSmsClient()
    assert console.redact_body(provider_sid="CONSOLE1") and console.delete_media(provider_sid="C", media_sid="M")
