"""Case management: open, stage change with a preview of the exact texts, handover, close, edit a family member."""
from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from portal.display import hide_one_time_links
from portal.extensions import db
from portal.models import AuditEvent, Case, CaseUpdate, FamilyMember, Notification, stage_info, utcnow
from portal.providers.sms.segments import gsm_friendly
from portal.services.contact import due_for_contact

from . import factories
from .conftest import sign_in
from .html_pages import form_with_action


@pytest.fixture
def liaison(client):
    user = factories.make_user(role="liaison", name="Officer Dana Rivera")
    sign_in(client, user)
    return user


def _post_form(client, page_url, action, button=None, **values):
    form = form_with_action(client.get(page_url).get_data(as_text=True), action)
    response = client.post(form.action, data=form.data(form.button(button) if button else None, **values))
    db.session.commit()  # end the test's own transaction, so it reads what the request wrote
    return response


def test_a_liaison_opens_a_case_for_themselves(client, liaison):
    backup = factories.make_user(role="liaison", name="Officer Sam Okafor")
    response = _post_form(client, "/staff/cases/new", "/staff/cases/new", **{
        "case_number": "OD-2026-0200", "decedent_name": "Luis Herrera", "date_of_death": "2026-02-28",
        "backup": str(backup.id)})
    case = db.session.scalar(select(Case))
    assert response.status_code == 302 and response.headers["Location"].startswith(f"/staff/cases/{case.id}")
    assert (case.case_number, case.decedent_name, case.date_of_death) == ("OD-2026-0200", "Luis Herrera",
                                                                          date(2026, 2, 28))
    assert (case.liaison_id, case.backup_liaison_id, case.stage) == (liaison.id, backup.id, "opened")
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.open"))


@pytest.mark.parametrize("values,message,field", [
    ({"case_number": "DUP-1"}, "A case with this number already exists.", "case_number"),
    ({"date_of_death": (date.today() + timedelta(days=3)).isoformat()}, "cannot be in the future", "date_of_death"),
])
def test_opening_a_case_refuses_bad_input_and_keeps_what_was_typed(client, liaison, values, message, field):
    factories.make_case(number="DUP-1")
    data = {"case_number": "NEW-9", "decedent_name": "Kayla Price", "date_of_death": "2026-01-05", **values}
    response = _post_form(client, "/staff/cases/new", "/staff/cases/new", **data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and message in body and 'value="Kayla Price"' in body
    shown = re.search(rf'<small id="{field}-error" class="field-error">([^<]*)</small>', body)
    assert shown and message in shown.group(1), f"the message belongs next to {field}"
    assert db.session.scalar(select(func.count()).select_from(Case)) == 1


@pytest.fixture
def family_case(liaison):
    case = factories.make_case(liaison=liaison, number="OD-7", decedent="Chris Nguyen")
    factories.make_outreach(case=case, staff=liaison)
    plain = factories.make_family_member(case=case, name="Linh Nguyen", phone="+13125550161")
    detailed = factories.make_family_member(case=case, name="Rosa Herrera", phone="+13125550162", language="es",
                                            detailed_texts=True)
    no_phone = factories.make_family_member(case=case, name="Tom Nguyen", phone=None)
    stopped = factories.make_family_member(case=case, name="Kim Nguyen", phone="+13125550163",
                                           sms_opted_out_at=utcnow())
    return case, plain, detailed, no_phone, stopped


def _shown_texts(html: str) -> dict[int, str]:
    """The texts on a preview page, by family member id."""
    found = re.findall(r'<p class="sms-preview" data-member="(\d+)">(.*?)</p>', html, flags=re.S)
    return {int(member_id): unescape(text) for member_id, text in found}


def test_the_preview_shows_each_exact_text_and_who_gets_none(client, family_case):
    case, plain, detailed, no_phone, stopped = family_case
    page = _post_form(client, f"/staff/cases/{case.id}", f"/staff/cases/{case.id}/stage/preview",
                      **{"stage-stage": "investigating", "stage-message": "Detectives are on it."})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Detectives are looking into the case" in html and "Detectives are on it." in html
    shown = _shown_texts(html)
    assert set(shown) == {plain.id, detailed.id}
    assert shown[plain.id].startswith("There is an update from")  # the plain text: no details
    with force_locale("es"):  # Rosa opted into details and reads Spanish: the new stage, in her words
        assert gsm_friendly(str(stage_info("investigating").label)) in shown[detailed.id]
    assert "No text: no mobile number." in html and "No text: replied STOP to texts." in html
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
    assert db.session.get(Case, case.id).stage == "opened"

    send = form_with_action(html, f"/staff/cases/{case.id}/stage")
    client.post(send.action, data=send.data(send.button("Save and send")))
    db.session.commit()
    texts = {t.family_member_id: t for t in db.session.scalars(select(Notification))}
    # exactly what the preview showed; Linh has no account: hers carries a one-time link, hidden from staff
    assert {member_id: hide_one_time_links(t.body) for member_id, t in texts.items()} == shown
    assert "/n/" in texts[plain.id].body and "/n/" not in shown[plain.id]
    assert texts[detailed.id].language == "es"
    assert "Chris" not in texts[plain.id].body and "Detectives" not in texts[plain.id].body
    case = db.session.get(Case, case.id)
    assert case.stage == "investigating"
    update = db.session.scalar(select(CaseUpdate).where(CaseUpdate.kind == "stage_change"))
    assert (update.family_visible, update.stage_from, update.stage_to, update.body) == \
        (True, "opened", "investigating", "Detectives are on it.")


def test_a_stage_change_needs_words_for_the_family_and_a_real_new_stage(client, family_case):
    case = family_case[0]
    page = _post_form(client, f"/staff/cases/{case.id}", f"/staff/cases/{case.id}/stage/preview",
                      **{"stage-stage": "investigating", "stage-message": ""})
    assert page.status_code == 422 and "Write a few words for the family." in page.get_data(as_text=True)
    for stage in ("opened", "closed", "nonsense"):
        page = _post_form(client, f"/staff/cases/{case.id}", f"/staff/cases/{case.id}/stage/preview",
                          **{"stage-stage": stage, "stage-message": "Hello"})
        assert page.status_code == 422, stage
    assert db.session.get(Case, case.id).stage == "opened"


def test_a_stage_change_flags_the_family_until_someone_calls(client, family_case, time_machine):
    case = family_case[0]
    response = _post_form(client, f"/staff/cases/{case.id}", f"/staff/cases/{case.id}/stage/preview",
                          **{"stage-stage": "investigating", "stage-message": "News."})
    send = form_with_action(response.get_data(as_text=True), f"/staff/cases/{case.id}/stage")
    client.post(send.action, data=send.data(send.button("Save and send")))
    db.session.commit()
    assert due_for_contact(case_ids=[case.id]) == []
    time_machine.move_to(utcnow() + timedelta(days=2, minutes=1))
    assert "stage_change" in [f.kind for f in due_for_contact(case_ids=[case.id])]


def test_closing_sends_the_exit_message_and_ends_regular_contact(client, family_case, time_machine):
    case, plain, *_ = family_case
    preview = _post_form(client, f"/staff/cases/{case.id}", f"/staff/cases/{case.id}/close/preview",
                         **{"close-message": "Thank you for trusting us. You can still reach me."})
    html = preview.get_data(as_text=True)
    assert "Case closed" in html and "Thank you for trusting us." in html
    send = form_with_action(html, f"/staff/cases/{case.id}/close")
    client.post(send.action, data=send.data(send.button("Close the case and send")))
    db.session.commit()
    case = db.session.get(Case, case.id)
    assert case.stage == "closed" and case.closed_at is not None
    closure = db.session.scalar(select(CaseUpdate).where(CaseUpdate.kind == "closure"))
    assert closure.family_visible and closure.body.startswith("Thank you")
    assert {t.kind for t in db.session.scalars(select(Notification))} == {"closure"}
    time_machine.move_to(utcnow() + timedelta(days=90))
    assert due_for_contact(case_ids=[case.id]) == []


def test_a_handover_tells_the_new_liaison_and_the_family(app, client, liaison, family_case):
    case, plain, *_ = family_case
    new = factories.make_user(role="liaison", name="Officer Sam Okafor", phone="+13125550199")
    response = _post_form(client, f"/staff/cases/{case.id}", f"/staff/cases/{case.id}/reassign", **{
        "handover-liaison": str(new.id), "handover-backup": "0",
        "handover-handover_note": "Mother prefers calls after 6 pm.", "handover-family_message": "Sam is kind."})
    assert response.status_code == 302
    assert db.session.get(Case, case.id).liaison_id == new.id
    notes = {(u.family_visible, u.body) for u in db.session.scalars(select(CaseUpdate).where(
        CaseUpdate.kind == "handover"))}
    # The sentence naming the new liaison is rendered when read, in the reader's language; only staff's words are kept.
    assert notes == {(False, "Mother prefers calls after 6 pm."), (True, "Sam is kind.")}
    told = db.session.scalar(select(CaseUpdate).where(CaseUpdate.kind == "handover", CaseUpdate.family_visible))
    assert told.about_user_id == new.id
    kinds = {(t.kind, t.recipient) for t in db.session.scalars(select(Notification))}
    assert ("staff_handover", "+13125550199") in kinds and ("handover", plain.phone) in kinds
    assert client.get(f"/staff/cases/{case.id}").status_code == 404  # the old liaison's access ended
    other = app.test_client()
    sign_in(other, new)
    home = other.get("/staff/").get_data(as_text=True)
    assert "Handed over to you" in home and "Mother prefers calls after 6 pm." in home


def test_fixing_a_wrong_number_clears_its_flag(client, family_case):
    case, plain, *_ = family_case
    member = db.session.get(FamilyMember, plain.id)
    member.phone_flagged_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    assert "text_undelivered" in [f.kind for f in due_for_contact(case_ids=[case.id])]
    db.session.commit()
    response = _post_form(client, f"/staff/members/{plain.id}/edit", f"/staff/members/{plain.id}/edit",
                          **{"edit-phone": "(312) 555-0177", "edit-cadence": "weekly"})
    assert response.status_code == 302
    member = db.session.get(FamilyMember, plain.id)
    assert (member.phone, member.phone_flagged_at, member.cadence) == ("+13125550177", None, "weekly")
    assert "text_undelivered" not in [f.kind for f in due_for_contact(case_ids=[case.id])]
    bad = _post_form(client, f"/staff/members/{plain.id}/edit", f"/staff/members/{plain.id}/edit",
                     **{"edit-phone": "555"})
    assert bad.status_code == 422 and 'value="555"' in bad.get_data(as_text=True)
