"""The outbox: a text is a row in its cause's transaction; delivery happens after commit, once, by the state machine."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from portal.models import FamilyMember, Notification, Outreach, utcnow
from portal.providers.sms import SmsError
from portal.services.notifications import carrier_codes, policy
from portal.services.notifications.outbox import queue_sms, render_sms
from portal.tasks import deliver_message, dispatch_outbox
from portal.tasks import delivery as outbox

from . import factories
from .sms_helpers import is_postgres

pytestmark = pytest.mark.usefixtures("daytime")


def _text(db, *, member=None, body="hello", urgent=False, kind="test"):
    message = queue_sms(to=member.phone if member else "+13125550111", body=body, kind=kind, urgent=urgent,
                        family_member=member, case=member.case if member else None)
    db.session.commit()
    return message


def _reload(db, message) -> Notification:
    db.session.expire_all()
    return db.session.get(Notification, message.id)


def test_queued_text_is_rolled_back_with_its_cause(db, sms, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_DELIVERY", "inline")
    queue_sms(to="+13125550111", body="hello", kind="test")
    db.session.rollback()
    assert db.session.scalar(select(Notification)) is None
    assert sms.sent == []


def test_inline_delivery_runs_after_commit(db, sms, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_DELIVERY", "inline")
    message = queue_sms(to="+13125550111", body="hello", kind="test")
    assert sms.sent == []  # nothing leaves before the commit
    db.session.commit()
    assert [t["to"] for t in sms.sent] == ["+13125550111"]
    message = _reload(db, message)
    assert message.status == "sent" and message.provider_sid and message.attempts == 1


def test_delivering_twice_sends_once(db, sms):
    message = _text(db, body="once")
    assert deliver_message(message.id) == "sent"
    assert deliver_message(message.id) == "sent"
    assert outbox.drain().sent == 0
    assert len(sms.sent) == 1


def test_none_mode_leaves_the_text_queued(db, sms):
    message = _text(db, body="later")
    dispatch_outbox([message.id])  # SMS_DELIVERY is "none" in tests
    assert sms.sent == []
    assert _reload(db, message).status == "queued"


def test_opted_out_recipient_is_blocked(db, sms):
    case = factories.make_case()
    member = factories.make_family_member(case=case, sms_opted_out_at=utcnow())
    message = _text(db, member=member, body="x")
    assert deliver_message(message.id) == "blocked"
    assert sms.sent == []


def test_an_opt_out_covers_everyone_with_that_number(db, sms):
    shared = "+13125550177"
    opted_out = factories.make_family_member(case=factories.make_case(), phone=shared, sms_opted_out_at=utcnow())
    other = factories.make_family_member(case=factories.make_case(), phone=shared)
    message = _text(db, member=other)
    assert deliver_message(message.id) == "blocked"
    assert sms.sent == [] and opted_out.id != other.id


def test_provider_failure_retries_later_with_backoff(db, sms, daytime):
    message = _text(db, body="retry me")
    sms.fail_with = SmsError("down", code="503", retryable=True)
    assert deliver_message(message.id) == "queued"
    sms.fail_with = None
    waiting = _reload(db, message)
    wait = waiting.next_attempt_at - utcnow()
    assert timedelta(seconds=60) <= wait <= timedelta(seconds=100)  # 80 seconds, with up to 20% jitter
    assert deliver_message(message.id) == "queued" and sms.sent == []  # not before its time
    daytime.shift(timedelta(minutes=2))
    assert outbox.sweep().sent == 1
    message = _reload(db, message)
    assert message.status == "sent" and message.attempts == 2 and len(sms.sent) == 1


def test_eight_attempts_over_about_a_day_then_failed(db, sms, daytime):
    message = _text(db, urgent=True)
    sms.fail_with = SmsError("down", code="500", retryable=True)
    started = utcnow()
    for attempt in range(1, policy.MAX_ATTEMPTS + 1):
        outbox.sweep()
        current = _reload(db, message)
        assert current.attempts == attempt
        if attempt < policy.MAX_ATTEMPTS:
            assert current.status == "queued"
            daytime.move_to(current.next_attempt_at + timedelta(seconds=1))
    final = _reload(db, message)
    assert final.status == "failed" and final.error_code == "500"
    assert timedelta(hours=18) < utcnow() - started < timedelta(hours=30)  # about a day
    daytime.shift(timedelta(days=2))
    outbox.sweep()
    assert _reload(db, message).attempts == policy.MAX_ATTEMPTS  # nothing after the last attempt


def test_a_refused_text_fails_at_once(db, sms):
    message = _text(db)
    sms.fail_with = SmsError("bad request", code="21408", retryable=False)
    assert deliver_message(message.id) == "failed"
    assert _reload(db, message).attempts == 1


def test_twilio_21610_marks_the_member_opted_out_and_stops(db, sms):
    member = factories.make_family_member(case=factories.make_case())
    message = _text(db, member=member)
    sms.fail_with = SmsError("unsubscribed", code="21610", retryable=False)
    assert deliver_message(message.id) == "blocked"
    db.session.expire_all()
    assert db.session.get(FamilyMember, member.id).sms_opted_out_at is not None
    sms.fail_with = None
    later = _text(db, member=member, urgent=True)
    assert deliver_message(later.id) == "blocked" and sms.sent == []


@pytest.mark.parametrize("code", sorted(carrier_codes.NOT_TEXTABLE_CODES))
def test_not_textable_codes_mark_and_flag_the_number_without_retry(db, sms, code, daytime):
    member = factories.make_family_member(case=factories.make_case())
    message = _text(db, member=member)
    sms.fail_with = SmsError("wrong number", code=code, retryable=False)
    assert deliver_message(message.id) == "failed"
    db.session.expire_all()
    marked = db.session.get(FamilyMember, member.id)
    assert marked.phone_flagged_at is not None
    assert (marked.phone_not_textable_at is not None, marked.phone_not_textable_code) == (True, code)
    daytime.shift(timedelta(days=1))
    outbox.sweep()
    assert _reload(db, message).attempts == 1


def test_a_provider_outage_pauses_the_batch_without_spending_attempts(db, sms):
    messages = [_text(db, body=f"text {n}") for n in range(5)]
    sms.fail_with = SmsError("down", code="network", retryable=True)
    result = outbox.sweep()
    assert result.retrying == 1 and result.released == 4 and result.paused
    attempts = [_reload(db, m).attempts for m in messages]
    assert attempts == [1, 0, 0, 0, 0]


def test_each_sent_text_leaves_one_outreach_entry(db, sms, daytime):
    member = factories.make_family_member(case=factories.make_case())
    first = _text(db, member=member)
    sms.fail_with = SmsError("down", code="503", retryable=True)
    outbox.sweep()
    sms.fail_with = None
    daytime.shift(timedelta(minutes=5))
    outbox.sweep()
    outbox.sweep()
    entries = db.session.scalars(select(Outreach)).all()
    assert [(e.source_type, e.source_id, e.channel, e.is_system, e.direction) for e in entries] == \
        [("sms", first.id, "sms", True, "outbound")]
    assert entries[0].family_member_id == member.id and entries[0].outcome == "message_sent"


def test_a_claimed_text_is_not_claimed_again(db, sms):
    from sqlalchemy.orm import Session

    messages = [_text(db, body=f"t{n}") for n in range(3)]
    with Session(db.engine) as one, Session(db.engine) as two:
        _token1, first = outbox.claim(one, now=utcnow(), limit=2)
        _token2, second = outbox.claim(two, now=utcnow(), limit=10)
        _token3, third = outbox.claim(one, now=utcnow(), limit=10)
    assert [c.id for c in first] == [m.id for m in messages[:2]]
    assert [c.id for c in second] == [messages[2].id]
    assert third == []


def test_postgres_claims_skip_rows_another_consumer_is_locking(db, sms, app):
    if not is_postgres(app):
        pytest.skip("FOR UPDATE SKIP LOCKED is PostgreSQL's; SQLite writers take turns")
    from sqlalchemy.orm import Session

    messages = [_text(db, body=f"t{n}") for n in range(4)]
    with Session(db.engine) as holder, Session(db.engine) as other:
        locked = holder.scalars(select(Notification.id).order_by(Notification.id).limit(2)
                                .with_for_update()).all()  # a consumer in the middle of its claim
        other.execute(text("SET LOCAL lock_timeout = '2s'"))  # waiting instead of skipping would fail here
        _token, claimed = outbox.claim(other, now=utcnow(), limit=10)
        holder.rollback()
    assert locked == [m.id for m in messages[:2]]
    assert [c.id for c in claimed] == [m.id for m in messages[2:]]


def test_texts_left_sending_by_a_dead_consumer_come_back_after_the_lease(db, sms, app, daytime):
    from sqlalchemy.orm import Session

    message = _text(db)
    with Session(db.engine) as session:
        outbox.claim(session, now=utcnow(), limit=10)  # claimed, then the consumer "dies"
    assert outbox.sweep().sent == 0 and _reload(db, message).status == "sending"
    daytime.shift(timedelta(seconds=app.config["SMS_CLAIM_LEASE_SECONDS"] + 1))
    assert outbox.sweep().sent == 1
    assert _reload(db, message).status == "sent" and len(sms.sent) == 1


def test_a_lost_claim_cannot_overwrite_the_new_owner(db, sms):
    from sqlalchemy.orm import Session

    message = _text(db)
    with Session(db.engine) as session:
        token, [item] = outbox.claim(session, now=utcnow(), limit=1)
        session.execute(Notification.__table__.update().where(Notification.id == item.id)
                        .values(claimed_at=utcnow() + timedelta(seconds=5)))  # another consumer's claim now
        session.commit()
        assert outbox.release(session, [item], token, at=utcnow()) == 0
    assert _reload(db, message).status == "sending"


def test_count_of_texts_is_exact(db, sms):
    for n in range(45):
        _text(db, body=f"n{n}")
    assert outbox.drain().sent == 45
    sent = select(func.count()).select_from(Notification).where(Notification.status == "sent")
    assert db.session.scalar(sent) == 45
    assert len({t["outbox_id"] for t in sms.sent}) == 45


def test_invite_text_is_written_in_the_recipients_language(app):
    english = render_sms("invite", "en", link="https://x.example/invite/abc")
    assert english.startswith(app.config["AGENCY_NAME"])
    assert english.endswith("https://x.example/invite/abc") and "invited you" in english


def test_waiting_texts_can_be_cancelled_and_are_then_never_sent(db, sms):
    from portal.services.notifications.outbox import cancel_waiting_texts

    member = factories.make_family_member(case=factories.make_case())
    reminder = _text(db, member=member, kind="appointment_reminder")
    other = _text(db, member=member, kind="update")
    assert cancel_waiting_texts(member, kind="appointment_reminder") == 1
    db.session.commit()
    outbox.sweep()
    assert _reload(db, reminder).status == "cancelled" and _reload(db, other).status == "sent"
    assert [t["outbox_id"] for t in sms.sent] == [other.id]


def test_a_savepoint_hands_no_text_to_delivery_before_the_real_commit(db, sms, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_DELIVERY", "inline")
    before = queue_sms(to="+13125550111", body="queued before the savepoint", kind="test")
    with db.session.begin_nested():
        queue_sms(to="+13125550112", body="queued in the savepoint", kind="test")
    assert sms.sent == []  # releasing the savepoint committed nothing: delivery could not even see the rows
    try:
        with db.session.begin_nested():
            queue_sms(to="+13125550113", body="taken back", kind="test")
            raise RuntimeError("undo this part")
    except RuntimeError:
        pass
    db.session.commit()
    assert sorted(t["to"] for t in sms.sent) == ["+13125550111", "+13125550112"]
    assert _reload(db, before).status == "sent"
