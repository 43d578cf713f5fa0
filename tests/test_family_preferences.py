"""Preferences: language for pages and texts, texts consent recorded, quiet hours, cadence, spokesperson."""
from __future__ import annotations

import re
from datetime import time

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, ContactConsent, FamilyMember, Notification, User

from . import factories
from .conftest import csrf_from, sign_in

FAMILY_PAGES = ["/my/cases/{case}", "/my/cases/{case}/leads", "/my/cases/{case}/leads/new", "/my/cases/{case}/book",
                "/my/cases/{case}/callback", "/my/cases/{case}/messages", "/my/cases/{case}/settings",
                "/my/cases/{case}/tip-links", "/my/resources"]


@pytest.fixture
def family(client):
    liaison = factories.make_user(role="liaison")
    user, member, case = factories.make_family(liaison=liaison, texts_enabled=False)
    sign_in(client, user)
    return {"user": user, "member": member, "case": case, "liaison": liaison}


def _settings(client, case_id, **changes):
    url = f"/my/cases/{case_id}/settings"
    page = client.get(url).get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "language": "en", "quiet_start": "21:00", "quiet_end": "08:00",
            "cadence": "biweekly", "preferred_channel": "", "preferred_times": ""}
    data.update(changes)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(url, data=data)


def _member(db, member_id) -> FamilyMember:
    db.session.expire_all()
    return db.session.get(FamilyMember, member_id)


def test_defaults_are_no_detailed_texts_quiet_nights_and_every_two_weeks(client, family):
    page = client.get(f"/my/cases/{family['case'].id}/settings").get_data(as_text=True)
    assert 'value="21:00"' in page and 'value="08:00"' in page
    assert re.search(r'<input[^>]*checked[^>]*value="biweekly"|<input[^>]*value="biweekly"[^>]*checked', page)
    assert not re.search(r'id="detailed_texts"[^>]*checked', page)


def test_turning_texts_on_records_when_the_words_shown_and_how(client, db, family):
    response = _settings(client, family["case"].id, texts_enabled="y")
    assert response.status_code == 302
    member = _member(db, family["member"].id)
    assert member.texts_enabled and member.texts_consent_at is not None
    assert member.texts_consent_method == "portal_signup"
    row = db.session.scalars(select(ContactConsent).where(ContactConsent.family_member_id == member.id)).all()[-1]
    assert (row.event, row.method, row.address, row.recorded_by_id) == ("granted", "portal_signup", member.phone,
                                                                          family["user"].id)
    assert row.wording == member.texts_consent_wording
    assert member.texts_consent_wording.startswith("Yes, you may send me text messages about this case.")
    page = client.get(f"/my/cases/{family['case'].id}/settings").get_data(as_text=True)
    assert member.texts_consent_wording in page  # the stored words are the words on the page
    assert member.detailed_texts is False
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "preferences.update"))
    assert "texts_enabled" in event.details["changed"]


def test_texts_cannot_be_turned_on_without_a_mobile_number(client, db):
    user, member, case = factories.make_family(phone=None, texts_enabled=False)
    sign_in(client, user)
    response = _settings(client, case.id, texts_enabled="y")
    assert response.status_code == 422
    assert "We do not have your mobile number." in response.get_data(as_text=True)
    assert _member(db, member.id).texts_enabled is False


def test_detailed_texts_need_texts_and_are_saved_with_quiet_hours_and_cadence(client, db, family):
    _settings(client, family["case"].id, texts_enabled="y", detailed_texts="y", quiet_start="22:30",
              quiet_end="07:15", cadence="monthly", preferred_channel="video", preferred_times="after 6 pm")
    member = _member(db, family["member"].id)
    assert member.detailed_texts is True
    assert (member.quiet_start, member.quiet_end) == (time(22, 30), time(7, 15))
    assert (member.cadence, member.preferred_channel, member.preferred_times) == ("monthly", "video", "after 6 pm")
    _settings(client, family["case"].id, detailed_texts="y", cadence="do_not_contact")  # texts off
    member = _member(db, family["member"].id)
    assert member.texts_enabled is False and member.detailed_texts is False and member.cadence == "do_not_contact"


def test_a_bad_time_keeps_the_other_choices(client, db, family):
    response = _settings(client, family["case"].id, quiet_start="late", preferred_times="mornings only")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "mornings only" in page and "Something needs a fix" in page


def test_one_spokesperson_per_family(client, db, family):
    other = factories.make_family_member(case=family["case"], is_spokesperson=True)
    _settings(client, family["case"].id, is_spokesperson="y")
    assert _member(db, family["member"].id).is_spokesperson is True
    assert _member(db, other.id).is_spokesperson is False


def test_switching_to_spanish_switches_every_family_page_and_the_texts(app, client, db, family):
    case = family["case"]
    response = _settings(client, case.id, language="es", texts_enabled="y")
    assert response.status_code == 302
    member = _member(db, family["member"].id)
    assert member.language == "es" and db.session.get(User, family["user"].id).language == "es"
    for url in FAMILY_PAGES:
        page = client.get(url.format(case=case.id))
        assert page.status_code == 200, url
        assert '<html lang="es">' in page.get_data(as_text=True), url
    staff = app.test_client()
    sign_in(staff, family["liaison"])
    page = staff.get(f"/staff/cases/{case.id}/conversation").get_data(as_text=True)
    staff.post(f"/staff/cases/{case.id}/conversation", data={"csrf_token": csrf_from(page), "body": "Hola"})
    text = db.session.scalar(select(Notification))
    assert text.language == "es" and text.family_member_id == member.id


def test_the_footer_language_button_also_switches_the_texts(client, db, family):
    page = client.get(f"/my/cases/{family['case'].id}").get_data(as_text=True)
    response = client.post("/language", data={"csrf_token": csrf_from(page), "language": "es",
                                              "next": f"/my/cases/{family['case'].id}"})
    assert response.status_code == 302
    assert _member(db, family["member"].id).language == "es"
    assert '<html lang="es">' in client.get(f"/my/cases/{family['case'].id}").get_data(as_text=True)


def test_turning_texts_on_in_the_portal_does_not_undo_a_stop_sent_from_the_phone(client, db, family):
    from portal.models import utcnow
    from portal.services.notifications.outbox import queue_family_sms

    member = _member(db, family["member"].id)
    member.sms_opted_out_at = utcnow()  # they replied STOP; the carrier blocks our texts until START
    db.session.commit()
    page = client.get(f"/my/cases/{family['case'].id}/settings").get_data(as_text=True)
    assert "reply START" in page
    _settings(client, family["case"].id, texts_enabled="y")
    member = _member(db, family["member"].id)
    assert member.texts_enabled and member.texts_consent_at is not None  # their portal choice is recorded
    assert member.sms_opted_out_at is not None
    assert queue_family_sms(member, "update", kind="update", urgent=True) is None
