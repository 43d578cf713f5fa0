"""A Twilio outage loses nothing: 500 texts queued while the fake Twilio is down for 10 minutes each arrive once."""
from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from portal.models import Notification, Outreach
from portal.services.notifications.outbox import queue_family_sms
from portal.tasks import sweep_outbox

from . import factories
from .sms_helpers import DAYTIME

TEXTS = 500


def test_500_texts_queued_during_a_10_minute_outage_are_each_delivered_exactly_once(db, app, twilio,
                                                                                      huey_immediate):
    twilio.timeout_seconds = 0.8  # answers after the client's 0.5 s timeout
    case = factories.make_case()
    members = [factories.make_family_member(case=case, phone=f"+1312555{2000 + n:04d}") for n in range(50)]
    with time_machine.travel(DAYTIME, tick=False) as clock:
        # Twilio goes down: first the connection drops, then timeouts, then 503s and rate limits.
        twilio.fail(mode="drop", times=6)
        twilio.fail(mode="timeout", times=2)
        twilio.fail(status=503, times=6)
        twilio.fail(status=429)
        for n in range(TEXTS):
            queue_family_sms(members[n % 50], "update", kind=f"update-{n}")  # ten texts for each member
        db.session.commit()  # after commit: handed to huey (immediate here), which tries at once and fails
        for _minute in range(10):
            clock.shift(timedelta(minutes=1))
            sweep_outbox.call_local()  # the every-minute periodic task
        failed_requests = len(twilio.requests)
        assert twilio.messages == [] and failed_requests >= 10
        twilio.recover()
        for _minute in range(120):  # Twilio is back; the sweep keeps running every minute
            clock.shift(timedelta(minutes=1))
            sweep_outbox.call_local()
            if len(twilio.messages) >= TEXTS:
                break
        for _minute in range(60):  # and an hour more, to catch any late duplicate
            clock.shift(timedelta(minutes=1))
            sweep_outbox.call_local()
    counts = twilio.counts_by_outbox_id()
    ids = set(db.session.scalars(select(Notification.id)))
    assert len(ids) == TEXTS and set(counts) == ids
    assert set(counts.values()) == {1}, "a text was delivered more than once"
    statuses = db.session.execute(select(Notification.status, func.count()).group_by(Notification.status)).all()
    assert statuses == [("sent", TEXTS)]
    assert db.session.scalar(select(func.max(Notification.attempts))) < 8  # backoff, not exhaustion
    assert db.session.scalar(select(func.count()).select_from(Outreach)) == TEXTS
