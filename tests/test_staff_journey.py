"""The issue's first "done when", tried as a new user would, through the pages only (no service calls)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, CaseUpdate, Notification, Outreach

from . import factories
from .conftest import sign_in
from .html_pages import form_with_action, links, parse

OPENED = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def new_case(app, time_machine):
    """A case opened 49 hours ago whose family nobody has contacted."""
    time_machine.move_to(OPENED, tick=False)
    liaison = factories.make_user(role="liaison", name="Officer Dana Rivera")
    case = factories.make_case(liaison=liaison, number="OD-2026-0101", decedent="Jordan Ellis", opened_at=OPENED)
    family_user, member, _ = factories.make_family(case=case, name="Maria Ellis", phone="+13125550150")
    time_machine.move_to(OPENED + timedelta(hours=49), tick=False)
    return liaison, case, member, family_user


def _flag_link(page: str, case_id: int, kind: str) -> str:
    for link in links(page):
        inside = link["context"]
        if link["text"] == "Log a contact" and any(c.get("data-case") == str(case_id) and c.get("data-kind") == kind
                                                   for c in inside):
            return link["href"]
    raise AssertionError(f"no 'Log a contact' link on the {kind} flag of case {case_id}")


def test_liaison_logs_a_first_call_in_three_taps_changes_the_stage_and_the_family_sees_both(app, client, new_case):
    liaison, case, member, family_user = new_case
    sign_in(client, liaison)

    home = client.get("/staff/").get_data(as_text=True)
    assert "No first contact for 49 hours" in home
    assert "OD-2026-0101: Jordan Ellis" in home and "Maria Ellis" in home

    taps = 0
    form_page = client.get(_flag_link(home, case.id, "first_contact"))  # tap 1: "Log a contact" on the flag
    taps += 1
    assert form_page.status_code == 200
    form = form_with_action(form_page.get_data(as_text=True), f"/staff/cases/{case.id}/contacts")
    prefilled = form.data()
    assert prefilled["member"] == str(member.id) and prefilled["channel"] == "phone"
    assert prefilled["direction"] == "outbound" and prefilled["occurred_at"] == ""  # empty means now
    response = client.post(form.action, data=form.data(form.button("Talked")))  # tap 2: the outcome saves it
    taps += 1
    assert taps <= 3 and response.status_code == 302
    after = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Contact logged." in after
    assert "No first contact" not in after and "Nobody is waiting" in after

    entry = db.session.scalar(select(Outreach))
    assert (entry.case_id, entry.family_member_id, entry.staff_id) == (case.id, member.id, liaison.id)
    assert (entry.channel, entry.outcome, entry.occurred_at) == ("phone", "reached", OPENED + timedelta(hours=49))

    # Change the stage with a message: preview first, then send.
    case_page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    stage_form = form_with_action(case_page, f"/staff/cases/{case.id}/stage/preview")
    message = "The medical examiner has sent the samples to the lab. I will call you when we hear back."
    preview = client.post(stage_form.action, data=stage_form.data(**{"stage-stage": "awaiting_toxicology",
                                                                     "stage-message": message}))
    preview_html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Check before sending" in preview_html
    assert "Waiting for lab results" in preview_html and message in preview_html
    shown_text = next(p for p in parse_sms_previews(preview_html))
    assert db.session.scalar(select(Notification)) is None  # nothing is sent by a preview
    send = form_with_action(preview_html, f"/staff/cases/{case.id}/stage")
    done = client.post(send.action, data=send.data(send.button("Save and send")))
    assert done.status_code == 302

    text = db.session.scalar(select(Notification))
    assert (text.kind, text.recipient, text.family_member_id, text.status) == \
        ("stage_change", "+13125550150", member.id, "queued")
    assert text.body == shown_text  # exactly what the preview showed
    assert "Jordan" not in text.body  # no case details without the family's opt-in
    staff_view = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "Texts to the family" in staff_view and text.body in staff_view
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.stage_change"))

    # The family signs in and sees the update and the call.
    family = app.test_client()
    sign_in(family, family_user)
    page = family.get(f"/my/cases/{case.id}").get_data(as_text=True)
    assert "Waiting for lab results" in page and message in page
    contacts = page.split('id="contacts-heading"')[1]  # the family's contact history
    assert "Phone call" in contacts and "Talked" in contacts and "Officer Dana Rivera" in contacts
    update = db.session.scalar(select(CaseUpdate).where(CaseUpdate.kind == "stage_change"))
    assert update.family_visible and update.stage_to == "awaiting_toxicology"


def parse_sms_previews(html: str):
    """The texts shown on the preview page, in order."""
    import re
    from html import unescape

    return [unescape(m) for m in re.findall(r'<p class="sms-preview"[^>]*>(.*?)</p>', html, flags=re.S)]


def test_the_family_never_sees_the_contact_notes(app, client, new_case):
    liaison, case, member, family_user = new_case
    sign_in(client, liaison)
    form = form_with_action(client.get(f"/staff/cases/{case.id}/contacts/new").get_data(as_text=True),
                            f"/staff/cases/{case.id}/contacts")
    client.post(form.action, data=form.data(form.button("Talked"), notes="Mother blames the boyfriend"))
    family = app.test_client()
    sign_in(family, family_user)
    page = family.get(f"/my/cases/{case.id}").get_data(as_text=True)
    assert "Phone call" in page and "Mother blames the boyfriend" not in page
    assert parse(page).forms  # the page rendered completely
