"""My case: the stage in plain words, contact history without notes, next contact, the declination meeting button."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from portal.models import STAGES, CaseUpdate, Outreach, Resource
from portal.services.contact import next_contact_due

from . import factories
from . import family_factories as ffac
from . import staff_factories as sf
from .conftest import csrf_from, sign_in

OPENED = datetime(2026, 2, 1, 15, 0, tzinfo=UTC)


@pytest.fixture
def family(client):
    liaison = factories.make_user(role="liaison", name="Officer Dana Rivera", phone="+13125550101")
    case = factories.make_case(liaison=liaison, opened_at=OPENED, stage="awaiting_toxicology")
    user, member, _ = factories.make_family(case=case)
    sign_in(client, user)
    return {"user": user, "member": member, "case": case, "liaison": liaison}


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.key)
def test_every_stage_is_explained_with_what_comes_next_and_the_usual_wait(app, client, db, family, stage):
    case = family["case"]
    case.stage = stage.key
    db.session.merge(case)
    db.session.commit()
    page = client.get(f"/my/cases/{case.id}").get_data(as_text=True).replace("&#39;", "'")
    with app.test_request_context():
        expected = [str(w) for w in (stage.label, stage.explanation, stage.next_step, stage.typical_wait)]
    for words in expected:
        assert words in page
    assert ("Request a meeting about this decision" in page) == (stage.key == "prosecution_declined")


def test_contact_history_shows_date_channel_and_who_but_never_notes(client, db, family):
    case, member, liaison = family["case"], family["member"], family["liaison"]
    wrong = factories.make_outreach(case=case, member=member, staff=liaison, channel="visit", outcome="reached",
                                    notes="Brother seemed high", occurred_at=OPENED + timedelta(days=1))
    fix = Outreach(case_id=case.id, family_member_id=member.id, staff_id=liaison.id, channel="phone",
                   outcome="left_voicemail", occurred_at=OPENED + timedelta(days=1), corrects_id=wrong.id,
                   notes="Correction: it was a voicemail")
    db.session.add(fix)
    db.session.commit()
    factories.make_outreach(case=case, member=member, staff=liaison, channel="sms", outcome="message_sent",
                            occurred_at=OPENED + timedelta(days=5))
    page = client.get(f"/my/cases/{case.id}").get_data(as_text=True)
    history = page.split("Every time we were in touch")[1]
    assert "Phone call · Left a voicemail" in history and "Text message · Message sent" in history
    assert "Visit" not in history  # the corrected entry is replaced by its correction
    assert history.count("Officer Dana Rivera") == 2
    assert "Brother seemed high" not in page and "Correction" not in page


def test_next_contact_is_due_a_cadence_after_the_last_contact_or_the_opening(db, family):
    # One rule for the family page, the staff page and the cadence flag (DESIGN §2): the family's chosen cadence
    # after the latest real contact with this person or with the whole family; automatic texts are not contact.
    member, case = family["member"], family["case"]
    assert next_contact_due(member) == OPENED + timedelta(days=14)
    factories.make_outreach(case=case, member=member, occurred_at=OPENED + timedelta(days=3))
    assert next_contact_due(member) == OPENED + timedelta(days=17)
    factories.make_outreach(case=case, occurred_at=OPENED + timedelta(days=9))  # with the whole family
    assert next_contact_due(member) == OPENED + timedelta(days=23)
    sister = factories.make_family_member(case=case, name="Ana Díaz")
    sf.make_contact(case=case, member=sister, at=OPENED + timedelta(days=11))  # with someone else: not them
    sf.make_contact(case=case, member=member, at=OPENED + timedelta(days=12), channel="sms",
                    outcome="message_sent", is_system=True, source_type="sms")  # an automatic text
    sf.make_contact(case=case, member=member, at=OPENED + timedelta(days=13), outcome="no_answer")  # an attempt
    assert next_contact_due(member) == OPENED + timedelta(days=23)
    assert next_contact_due(sister) == OPENED + timedelta(days=25)
    for cadence, due in (("weekly", 16), ("monthly", 39)):
        member.cadence = cadence
        assert next_contact_due(member) == OPENED + timedelta(days=due)
    for cadence in ("on_change", "do_not_contact"):
        member.cadence = cadence
        assert next_contact_due(member) is None


def test_case_page_says_when_we_will_contact_you_next(app, db, family):
    member, case = family["member"], family["case"]
    factories.make_outreach(case=case, member=member, occurred_at=datetime(2026, 3, 1, 18, 0, tzinfo=UTC))
    with time_machine.travel(datetime(2026, 3, 5, 12, 0, tzinfo=UTC), tick=False):
        client = app.test_client()
        sign_in(client, family["user"])
        page = client.get(f"/my/cases/{case.id}").get_data(as_text=True)
        assert "By March 15, 2026 at the latest." in page
        member.cadence = "do_not_contact"
        db.session.merge(member)
        db.session.commit()
        page = client.get(f"/my/cases/{case.id}").get_data(as_text=True)
        assert "You asked us not to contact you." in page and "at the latest" not in page
    with time_machine.travel(datetime(2026, 3, 20, 12, 0, tzinfo=UTC), tick=False):
        member.cadence = "biweekly"
        db.session.merge(member)
        db.session.commit()
        client = app.test_client()
        sign_in(client, family["user"])
        page = client.get(f"/my/cases/{case.id}").get_data(as_text=True)
        assert "Your liaison should contact you very soon." in page and "at the latest" not in page


def test_liaison_card_shows_how_to_reach_them_and_their_next_open_time(app, db, family):
    liaison = family["liaison"]
    ffac.make_window(liaison=liaison, weekday=1)  # Tuesdays 17:00-19:00 Chicago
    with time_machine.travel(datetime(2026, 3, 2, 12, 0, tzinfo=UTC), tick=False):
        client = app.test_client()
        sign_in(client, family["user"])
        page = client.get(f"/my/cases/{family['case'].id}").get_data(as_text=True).replace("\u202f", " ")
    assert "Officer Dana Rivera" in page and 'href="tel:+13125550101"' in page
    assert "Next open time for a call: Mar 3, 2026, 5:00 PM" in page


def test_family_can_request_a_meeting_about_a_declination_once(client, db, family):
    case = family["case"]
    case.stage = "prosecution_declined"
    db.session.merge(case)
    db.session.commit()
    page = client.get(f"/my/cases/{case.id}").get_data(as_text=True)
    for _ in range(2):
        response = client.post(f"/my/cases/{case.id}/meeting-request", data={"csrf_token": csrf_from(page)})
        assert response.status_code == 302
    requests = db.session.scalars(select(CaseUpdate).where(CaseUpdate.kind == "meeting_request")).all()
    assert len(requests) == 1
    assert requests[0].family_visible is False and requests[0].author_id == family["user"].id
    after = client.get(f"/my/cases/{case.id}").get_data(as_text=True)
    assert "You asked for a meeting on" in after and "Request a meeting about this decision" not in after


def test_a_meeting_request_is_only_for_a_declined_case(client, db, family):
    page = client.get(f"/my/cases/{family['case'].id}").get_data(as_text=True)
    response = client.post(f"/my/cases/{family['case'].id}/meeting-request", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(CaseUpdate)) == 0


def test_resources_page_lists_support_services_in_the_readers_language(client, db, family):
    db.session.add_all([Resource(title="Grief group for everyone", sort_order=2),
                        Resource(title="Grupo de duelo", language="es", sort_order=1),
                        Resource(title="English-only helpline", language="en", sort_order=0, phone="1-800-555-0100",
                                 url="javascript:alert(1)")])
    db.session.commit()
    page = client.get("/my/resources").get_data(as_text=True)
    assert "988" in page and "Grief group for everyone" in page and "English-only helpline" in page
    assert "Grupo de duelo" not in page
    assert page.index("English-only helpline") < page.index("Grief group for everyone")
    assert "javascript:" not in page
