"""Retention in the interface: the legal hold on the case page (supervisors and admins, audited), the agency's
retention settings, and the idle tip thread whose code stops taking answers."""
from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from sqlalchemy import select

from portal.models import Agency, AuditEvent, Case, Lead, LeadQuestion, utcnow
from portal.services.agency import get_agency

from . import factories
from .conftest import post_form
from .family_helpers import hidden
from .test_tips import _codes, _send_tip, _tipster, link  # noqa: F401  (link is a fixture)

REASON = "Court order 26-CV-114"


def _hold(client, case, reason=REASON):
    return post_form(client, f"/staff/cases/{case.id}/hold", {"hold-reason": reason},
                     token_page=f"/staff/cases/{case.id}")


def test_a_supervisor_puts_a_case_on_legal_hold_and_lifts_it_audited(client, db, login_as):
    supervisor = login_as("supervisor")
    case = factories.make_case(stage="closed")
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "Put the case on legal hold" in page
    response = _hold(client, case)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/staff/cases/{case.id}#hold-heading")
    db.session.expire_all()
    held = db.session.get(Case, case.id)
    assert held.held_at is not None and held.held_by_id == supervisor.id and held.hold_reason == REASON
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "On legal hold" in page and REASON in page and "Lift the legal hold" in page
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.legal_hold"))
    assert event.actor_id == supervisor.id and event.target_id == str(case.id) and REASON not in str(event.details)
    lifted = post_form(client, f"/staff/cases/{case.id}/hold/lift", token_page=f"/staff/cases/{case.id}")
    assert lifted.status_code == 302
    db.session.expire_all()
    assert db.session.get(Case, case.id).held_at is None and db.session.get(Case, case.id).hold_reason is None
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.legal_hold_lift")) is not None


def test_a_hold_without_a_reason_is_refused_and_what_was_typed_is_kept(client, db, login_as):
    login_as("admin")
    case = factories.make_case()
    response = _hold(client, case, reason="   ")
    assert response.status_code == 422
    assert "Say why the case is on hold" in response.get_data(as_text=True)
    long_reason = "x" * 501
    response = _hold(client, case, reason=long_reason)
    assert response.status_code == 422 and long_reason in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Case, case.id).held_at is None


def test_a_liaison_sees_the_hold_but_cannot_set_or_lift_it(client, db, login_as):
    liaison = login_as("liaison")
    case = factories.make_case(liaison=liaison)
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "Put the case on legal hold" not in page
    assert _hold(client, case).status_code == 404
    case.held_at, case.hold_reason = utcnow(), REASON
    db.session.commit()
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "On legal hold" in page
    assert post_form(client, f"/staff/cases/{case.id}/hold/lift",
                     token_page=f"/staff/cases/{case.id}").status_code == 404
    db.session.expire_all()
    assert db.session.get(Case, case.id).held_at is not None


def _agency_form(page: str, **changes) -> dict:
    fields = dict(re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', page))
    fields.update({"address": "", **changes})
    return fields


def test_the_admin_sets_retention_periods_blank_keeps_forever_and_a_bad_value_keeps_what_was_typed(client, db,
                                                                                                   login_as):
    login_as("admin")
    page = client.get("/staff/admin/agency").get_data(as_text=True)
    assert "Retention" in page and 'name="retention_lead_days"' in page
    data = _agency_form(page, retention_lead_days="0", retention_tip_days="365", retention_file_days="",
                        retention_message_days="30", retention_text_days="", tip_thread_idle_days="90")
    saved = post_form(client, "/staff/admin/agency", data, token_page="/staff/admin/agency")
    assert saved.status_code == 302
    db.session.expire_all()
    agency = db.session.scalar(select(Agency))
    assert (agency.retention_lead_days, agency.retention_tip_days, agency.retention_file_days,
            agency.retention_message_days, agency.retention_text_days, agency.tip_thread_idle_days) == \
        (0, 365, None, 30, None, 90)
    refused = post_form(client, "/staff/admin/agency", {**data, "retention_tip_days": "-3", "name": "Typed Name PD"},
                        token_page="/staff/admin/agency")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "or leave it blank" in html and "Typed Name PD" in html
    db.session.expire_all()
    assert db.session.scalar(select(Agency)).retention_tip_days == 365


def test_an_idle_tip_thread_shows_its_status_but_takes_no_more_answers(app, db, link):  # noqa: F811
    path, _case = link
    tipster = _tipster(app)
    code, passphrase = _codes(_send_tip(tipster, path)[0].get_data(as_text=True))
    question = LeadQuestion(lead_id=db.session.scalar(select(Lead.id)), question="Did he drive a blue car?")
    db.session.add(question)
    get_agency().tip_thread_idle_days = 30
    db.session.commit()
    asked = question.asked_at
    with time_machine.travel(asked + timedelta(days=30, minutes=-20), tick=False):  # still open
        html = tipster.post("/tip", data={"code": code, "passphrase": passphrase}).get_data(as_text=True)
        assert "Did he drive a blue car?" in html and 'name="answer"' in html
        assert "This conversation is closed" not in html
        access = hidden(html, "access")
    with time_machine.travel(asked + timedelta(days=30, minutes=10), tick=False):  # idle 30 days: closed
        answer = tipster.post("/tip/answer", data={"access": access, "question_id": str(question.id),
                                                   "answer": "Yes, a blue Civic"})
        assert answer.status_code == 422 and "This conversation is closed" in answer.get_data(as_text=True)
        later = tipster.post("/tip", data={"code": code, "passphrase": passphrase})
        html = later.get_data(as_text=True)
        assert later.status_code == 200 and "Did he drive a blue car?" in html
        assert "This conversation is closed" in html and 'name="answer"' not in html
    db.session.expire_all()
    assert db.session.get(LeadQuestion, question.id).answer is None


def test_supervisors_see_every_case_on_legal_hold_and_can_lift_it_there(client, db, login_as):
    login_as("supervisor")
    held = factories.make_case(stage="closed", number="HOLD-0001")
    free = factories.make_case(stage="closed", number="FREE-0001")
    holder = factories.make_user(role="admin", name="Dana Holder")
    held.held_at, held.held_by_id, held.hold_reason = utcnow(), holder.id, REASON
    db.session.commit()
    assert "Cases on legal hold" in client.get("/staff/cases").get_data(as_text=True)
    page = client.get("/staff/holds").get_data(as_text=True)
    assert "HOLD-0001" in page and REASON in page and "Dana Holder" in page and free.case_number not in page
    lifted = post_form(client, f"/staff/cases/{held.id}/hold/lift", token_page="/staff/holds")
    assert lifted.status_code == 302
    assert "No case is on legal hold." in client.get("/staff/holds").get_data(as_text=True)
