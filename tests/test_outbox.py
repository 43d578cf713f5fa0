"""The outbox: a text is a row in its cause's transaction; delivery happens after commit, once."""
from sqlalchemy import select

from portal.models import OutboxMessage, utcnow
from portal.services.messaging import queue_sms, render_sms
from portal.sms.client import SmsError
from portal.tasks import deliver_message, dispatch_outbox

from . import factories


def test_queued_text_is_rolled_back_with_its_cause(db, sms, app):
    app.config["SMS_DELIVERY"] = "inline"
    try:
        queue_sms(to="+13125550111", body="hello", kind="test")
        db.session.rollback()
    finally:
        app.config["SMS_DELIVERY"] = "none"
    assert db.session.scalar(select(OutboxMessage)) is None
    assert sms.sent == []


def test_inline_delivery_runs_after_commit(db, sms, app):
    app.config["SMS_DELIVERY"] = "inline"
    try:
        message = queue_sms(to="+13125550111", body="hello", kind="test")
        assert sms.sent == []  # nothing leaves before the commit
        db.session.commit()
    finally:
        app.config["SMS_DELIVERY"] = "none"
    assert [t["to"] for t in sms.sent] == ["+13125550111"]
    db.session.refresh(message)
    assert message.status == "sent" and message.provider_sid and message.attempts == 1


def test_delivering_twice_sends_once(db, sms):
    message = queue_sms(to="+13125550111", body="once", kind="test")
    db.session.commit()
    assert deliver_message(message.id) == "sent"
    assert deliver_message(message.id) == "sent"
    assert len(sms.sent) == 1


def test_worker_mode_leaves_the_text_queued(db, sms):
    message = queue_sms(to="+13125550111", body="later", kind="test")
    db.session.commit()
    dispatch_outbox([message.id])  # SMS_DELIVERY is "none" in tests
    assert sms.sent == []
    db.session.refresh(message)
    assert message.status == "queued"


def test_opted_out_recipient_is_blocked(db, sms):
    case = factories.make_case()
    member = factories.make_family_member(case=case, sms_opted_out_at=utcnow())
    message = queue_sms(to=member.phone, body="x", kind="update", family_member=member, case=case)
    db.session.commit()
    assert deliver_message(message.id) == "blocked"
    assert sms.sent == []


def test_provider_failure_keeps_the_text_for_retry(db, sms):
    message = queue_sms(to="+13125550111", body="retry me", kind="test")
    db.session.commit()
    sms.fail_with = SmsError("down", code="503", retryable=True)
    try:
        assert deliver_message(message.id) == "queued"
    finally:
        sms.fail_with = None
    assert deliver_message(message.id) == "sent"
    db.session.refresh(message)
    assert message.attempts == 2 and len(sms.sent) == 1


def test_invite_text_is_written_in_the_recipients_language(app):
    english = render_sms("invite", "en", link="https://x.example/invite/abc")
    assert english.startswith(app.config["AGENCY_NAME"]) and english.endswith("https://x.example/invite/abc")
