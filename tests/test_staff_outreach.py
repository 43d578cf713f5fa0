"""The outreach log: log from a case in few taps, time defaults to now, corrections never delete, bad input kept."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.errors import ServiceError
from portal.extensions import db
from portal.models import AuditEvent, Outreach
from portal.services.contact import due_for_contact, log_outreach

from . import factories
from .conftest import sign_in
from .html_pages import form_with_action

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


@pytest.fixture
def setup(client, time_machine):
    time_machine.move_to(NOW, tick=False)
    liaison = factories.make_user(role="liaison")
    case = factories.make_case(liaison=liaison, opened_at=NOW - timedelta(days=3))
    mother = factories.make_family_member(case=case, name="Rosa Díaz", is_spokesperson=True)
    brother = factories.make_family_member(case=case, name="Miguel Díaz", preferred_channel="sms")
    sign_in(client, liaison)
    return liaison, case, mother, brother


def _form(client, url, action):
    return form_with_action(client.get(url).get_data(as_text=True), action)


def test_from_a_case_the_form_starts_with_the_spokesperson_by_phone(client, setup):
    _liaison, case, mother, _brother = setup
    form = _form(client, f"/staff/cases/{case.id}/contacts/new", f"/staff/cases/{case.id}/contacts")
    assert form.data()["member"] == str(mother.id) and form.data()["channel"] == "phone"
    assert {b["value"] for b in form.buttons} >= {"reached", "left_voicemail", "no_answer", "wrong_number"}


def test_from_a_member_the_form_uses_their_preferred_channel(client, setup):
    _liaison, case, _mother, brother = setup
    form = _form(client, f"/staff/cases/{case.id}/contacts/new?member={brother.id}",
                 f"/staff/cases/{case.id}/contacts")
    assert form.data()["member"] == str(brother.id) and form.data()["channel"] == "sms"


def test_a_typed_time_is_read_in_the_agencys_zone(client, setup):
    _liaison, case, mother, _brother = setup
    form = _form(client, f"/staff/cases/{case.id}/contacts/new", f"/staff/cases/{case.id}/contacts")
    # 08:30 in Chicago on 4 March (UTC-6) is 14:30 UTC.
    client.post(form.action, data=form.data(form.button("Left a voicemail"), occurred_at="2026-03-04T08:30"))
    entry = db.session.scalar(select(Outreach))
    assert entry.occurred_at == datetime(2026, 3, 4, 14, 30, tzinfo=UTC) and entry.outcome == "left_voicemail"


def test_a_future_time_or_no_outcome_is_refused_and_everything_typed_is_kept(client, setup):
    _liaison, case, _mother, _brother = setup
    form = _form(client, f"/staff/cases/{case.id}/contacts/new", f"/staff/cases/{case.id}/contacts")
    response = client.post(form.action, data=form.data(form.button("Talked"), occurred_at="2026-03-05T10:00",
                                                       notes="Spoke about the autopsy"))
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "The time is in the future" in body
    assert "Spoke about the autopsy" in body and 'value="2026-03-05T10:00"' in body
    response = client.post(form.action, data=form.data(notes="No button pressed"))
    assert response.status_code == 422 and "Choose what happened." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Outreach)) == 0


def test_another_cases_member_cannot_be_slipped_into_the_form(client, setup):
    liaison, case, _mother, _brother = setup
    other = factories.make_family_member(case=factories.make_case(liaison=liaison))
    form = _form(client, f"/staff/cases/{case.id}/contacts/new", f"/staff/cases/{case.id}/contacts")
    response = client.post(form.action, data=form.data(form.button("Talked"), member=str(other.id)))
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Outreach)) == 0


def test_a_correction_is_a_new_entry_pointing_at_the_old_one_and_brings_the_flag_back(client, setup):
    liaison, case, mother, _brother = setup
    form = _form(client, f"/staff/cases/{case.id}/contacts/new", f"/staff/cases/{case.id}/contacts")
    client.post(form.action, data=form.data(form.button("Talked"), notes="Logged on the wrong family"))
    original = db.session.scalar(select(Outreach))
    assert due_for_contact(case_ids=[case.id]) == []
    db.session.commit()  # due_for_contact may have created the agency row: do not hold SQLite's write lock

    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert f"/staff/contacts/{original.id}/correct" in page
    correct = _form(client, f"/staff/contacts/{original.id}/correct", f"/staff/contacts/{original.id}/correct")
    assert correct.data()["notes"] == "Logged on the wrong family"
    response = client.post(correct.action, data=correct.data(correct.button("No answer"),
                                                             notes="Nobody answered, my mistake"))
    assert response.status_code == 302
    rows = db.session.scalars(select(Outreach).order_by(Outreach.id)).all()
    assert [(r.outcome, r.corrects_id) for r in rows] == [("reached", None), ("no_answer", original.id)]
    assert rows[0].notes == "Logged on the wrong family"  # the original is untouched
    assert [f.kind for f in due_for_contact(case_ids=[case.id])] == ["first_contact"]
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "Corrected" in page and "Correction of an earlier entry" in page
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "outreach.correct"))


def test_log_outreach_checks_its_values(setup):
    liaison, case, mother, _brother = setup
    with pytest.raises(ServiceError) as refused:
        log_outreach(case=case, staff=liaison, channel="pigeon", direction="outbound", outcome="reached")
    assert refused.value.field == "channel"
    with pytest.raises(ServiceError) as refused:
        log_outreach(case=case, staff=liaison, channel="phone", direction="sideways", outcome="reached")
    assert refused.value.field == "direction"
    with pytest.raises(ServiceError) as refused:
        log_outreach(case=case, staff=liaison, channel="phone", direction="outbound", outcome="maybe")
    assert refused.value.field == "outcome"
    entry = log_outreach(case=case, staff=liaison, channel="phone", direction="inbound", outcome="reached",
                         member=mother)
    assert entry.occurred_at == NOW and entry.direction == "inbound" and not entry.is_system
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "outreach.log"))
    # The audit event's own outcome says whether logging worked; what happened on the call is a detail.
    assert event.outcome == "ok" and event.details["contact_outcome"] == "reached"


def test_nothing_in_the_log_can_be_deleted_through_the_portal(app):
    for rule in app.url_map.iter_rules():
        if "contact" in rule.rule or "outreach" in rule.rule:
            assert "DELETE" not in rule.methods and "delete" not in rule.rule, rule.rule


def test_contact_history_shows_a_correction_instead_of_what_it_corrects(setup):
    from portal.services.contact import contact_history

    liaison, case, mother, _brother = setup
    wrong = log_outreach(case=case, staff=liaison, channel="phone", direction="outbound", outcome="reached",
                         member=mother)
    kept = log_outreach(case=case, staff=liaison, channel="email", direction="outbound", outcome="message_sent",
                        member=mother, occurred_at=NOW - timedelta(hours=1))
    fixed = log_outreach(case=case, staff=liaison, channel="phone", direction="outbound", outcome="no_answer",
                         member=mother, corrects=wrong)
    assert [e.id for e in db.session.scalars(contact_history(case.id))] == [fixed.id, kept.id]
