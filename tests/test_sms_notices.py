"""Family-visible updates reach the family by text, whatever made them, and several within 10 minutes become one."""
from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal.models import Notification
from portal.services import cases as case_service
from portal.services import triage
from portal.services.notifications import policy
from portal.tasks import delivery

from . import factories
from .family_factories import make_lead
from .sms_helpers import DAYTIME

WINDOW = 600


@pytest.fixture
def batching(app, monkeypatch):
    monkeypatch.setitem(app.config, "NOTICE_BATCH_SECONDS", WINDOW)


def _drain_at(db, moment) -> None:
    db.session.commit()
    with time_machine.travel(moment, tick=False):
        delivery.drain()
    db.session.expire_all()


def test_a_staff_update_texts_every_member_who_gets_texts(db, sms):
    with time_machine.travel(DAYTIME, tick=False):
        case = factories.make_case()
        reader = factories.make_family_member(case=case, phone="+13125550181")
        factories.make_family_member(case=case, phone="+13125550182", texts_enabled=False)
        case_service.share_update(case, body="We spoke with the lab today.", author=case.liaison)
    _drain_at(db, DAYTIME)
    assert [t["to"] for t in sms.sent] == [reader.phone]
    assert "lab" not in sms.sent[0]["body"]  # no details without detailed texts


def test_an_update_a_stage_change_and_a_question_within_ten_minutes_become_one_text(db, sms, batching):
    with time_machine.travel(DAYTIME, tick=False) as clock:
        case = factories.make_case()
        member = factories.make_family_member(case=case, user=factories.make_user(role="family"),
                                              phone="+13125550183")
        lead = make_lead(case=case, member=member)
        case_service.share_update(case, body="We spoke with the lab today.", author=case.liaison)
        db.session.commit()
        clock.shift(timedelta(minutes=3))
        case_service.change_stage(case, stage_to="awaiting_toxicology", message="The lab has it.",
                                  author=case.liaison)
        db.session.commit()
        clock.shift(timedelta(minutes=4))
        triage.ask_question(lead, question="Do you know his last name?", asked_by=case.liaison)
        db.session.commit()
    _drain_at(db, DAYTIME + timedelta(minutes=8))
    assert sms.sent == []  # still inside the window of the first notice
    _drain_at(db, DAYTIME + timedelta(minutes=11))
    assert len(sms.sent) == 1 and sms.sent[0]["to"] == member.phone
    assert sms.sent[0]["body"].startswith("There is news about your case from ")
    texts = db.session.scalars(select(Notification).where(Notification.family_member_id == member.id)).all()
    assert [(t.kind, t.status) for t in texts] == [(policy.NOTICE_BATCH, "sent")]


def test_a_notice_after_the_window_is_a_text_of_its_own(db, sms, batching):
    with time_machine.travel(DAYTIME, tick=False):
        case = factories.make_case()
        factories.make_family_member(case=case, phone="+13125550184")
        case_service.share_update(case, body="First.", author=case.liaison)
        db.session.commit()
    _drain_at(db, DAYTIME + timedelta(minutes=11))
    with time_machine.travel(DAYTIME + timedelta(minutes=12), tick=False):
        case_service.share_update(db.session.merge(case), body="Second.", author=None)
        db.session.commit()
    _drain_at(db, DAYTIME + timedelta(minutes=23))
    assert len(sms.sent) == 2
    assert all(body.startswith("There is an update from ") for body in (t["body"] for t in sms.sent))
