"""Family leads: one lead per submission, only your own leads, a simple status, never staff-only things."""
from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, Lead, LeadQuestion

from . import factories
from . import family_factories as ffac
from . import family_files as ff
from .conftest import csrf_from, sign_in
from .family_helpers import open_lead_form, post_lead


@pytest.fixture
def family(client):
    liaison = factories.make_user(role="liaison", name="Officer Dana Rivera")
    user, member, case = factories.make_family(liaison=liaison)
    sign_in(client, user)
    return {"user": user, "member": member, "case": case, "liaison": liaison}


def _count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Lead))


def test_the_same_form_sent_twice_makes_one_lead_and_shows_the_same_receipt(client, db, family):
    case = family["case"]
    form = open_lead_form(client, case.id)
    first = post_lead(client, case.id, form, details="Ghost sold to him", files=[
        ff.upload(ff.jpeg_with_metadata(), "a.jpg", "image/jpeg")])
    second = post_lead(client, case.id, form, details="Ghost sold to him", files=[
        ff.upload(ff.jpeg_with_metadata(), "a.jpg", "image/jpeg")])
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert _count(db) == 1
    lead = db.session.scalar(select(Lead))
    assert len(lead.attachments) == 1


def test_a_new_form_makes_a_new_lead(client, db, family):
    case = family["case"]
    post_lead(client, case.id, open_lead_form(client, case.id), details="first")
    post_lead(client, case.id, open_lead_form(client, case.id), details="second")
    assert _count(db) == 2
    references = set(db.session.scalars(select(Lead.reference)))
    assert len(references) == 2


def test_a_double_click_sending_two_requests_at_once_makes_one_lead(app, db, family, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL; SQLite serialises them")
    from portal.services import leads as lead_service

    case, user = family["case"], family["user"]
    clients = [app.test_client() for _ in range(2)]
    for c in clients:
        sign_in(c, user)
    form = open_lead_form(clients[0], case.id)
    tokens = [csrf_from(c.get(f"/my/cases/{case.id}/leads/new").get_data(as_text=True)) for c in clients]
    # Both requests get past every "already sent?" check before either inserts: only the database can stop a twin.
    barrier, real_reference = threading.Barrier(2), lead_service.new_reference

    def reference_after_both_checked():
        barrier.wait(timeout=10)
        return real_reference()

    monkeypatch.setattr(lead_service, "new_reference", reference_after_both_checked)
    before = {p.name for p in Path(app.config["UPLOAD_DIR"]).iterdir()}
    results = []

    def send(c, token):
        results.append(post_lead(c, case.id, dict(form, csrf_token=token), details="same click",
                                 files=[ff.upload(ff.pdf_file(), "a.pdf", "application/pdf")]))

    threads = [threading.Thread(target=send, args=(c, t)) for c, t in zip(clients, tokens, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(r.status_code for r in results) == [302, 302]
    assert len({r.headers["Location"] for r in results}) == 1
    assert _count(db) == 1
    lead = db.session.scalar(select(Lead))
    assert len(lead.attachments) == 1
    written = {p.name for p in Path(app.config["UPLOAD_DIR"]).iterdir()} - before
    kept = lead.attachments[0]
    assert written == {kept.stored_name, kept.original_stored_name}  # the losing twin removed its copy and original


def test_an_empty_form_says_what_to_do(client, db, family):
    response = post_lead(client, family["case"].id, open_lead_form(client, family["case"].id))
    assert response.status_code == 422
    assert "Write what you know, or add a file, then send." in response.get_data(as_text=True)
    assert _count(db) == 0


def test_guided_fields_are_saved_and_shown_back_to_the_sender(client, db, family):
    case = family["case"]
    response = post_lead(client, case.id, open_lead_form(client, case.id), **{
        "people-0-name": "Ghost", "people-0-phone": "312-555-0199", "people-0-social": "@ghost_plug",
        "people-0-relation": "Dealer", "people-0-knows": "Sold pills", "people-2-name": "Tina",
        "last_48_hours": "Went to a party", "supplier": "Ghost", "phone_and_accounts": "Snapchat messages"})
    assert response.status_code == 302
    lead = db.session.scalar(select(Lead))
    assert [p["name"] for p in lead.people] == ["Ghost", "Tina"]
    assert lead.people[0]["social"] == "@ghost_plug" and lead.family_member_id == family["member"].id
    page = client.get(f"/my/leads/{lead.id}").get_data(as_text=True)
    for text in ("Ghost", "@ghost_plug", "Went to a party", "Snapchat messages", "Received"):
        assert text in page


def test_my_leads_lists_only_what_i_sent_not_a_relatives_or_anonymous_tips(client, db, family):
    case, member = family["case"], family["member"]
    mine = ffac.make_lead(case=case, member=member, details="mine")
    sibling_user = factories.make_user(role="family")
    sibling = factories.make_family_member(case=case, user=sibling_user)
    theirs = ffac.make_lead(case=case, member=sibling, details="the sibling's secret lead")
    tip = ffac.make_lead(case=case, anonymous=True, details="an anonymous tip")
    page = client.get(f"/my/cases/{case.id}/leads").get_data(as_text=True)
    assert mine.reference in page
    assert theirs.reference not in page and tip.reference not in page
    assert client.get(f"/my/leads/{theirs.id}").status_code == 404
    assert client.get(f"/my/leads/{tip.id}").status_code == 404


def test_family_never_sees_internal_notes_assignee_or_staff_status(client, db, family):
    case, member = family["case"], family["member"]
    detective = factories.make_user(role="liaison", name="Detective Quinn Marsh")
    lead = ffac.make_lead(case=case, member=member, details="visible words", status="assigned",
                          assigned_to=detective)
    ffac.make_note(lead=lead, body="Informant is unreliable, uncle is a suspect", author=detective)
    for url in (f"/my/leads/{lead.id}", f"/my/cases/{case.id}/leads", f"/my/leads/{lead.id}/thanks"):
        page = client.get(url).get_data(as_text=True)
        assert "Informant is unreliable" not in page
        assert "Detective Quinn Marsh" not in page
        assert "assigned" not in page.lower()
    assert "Being reviewed" in client.get(f"/my/leads/{lead.id}").get_data(as_text=True)


@pytest.mark.parametrize(("status", "words"), [("new", "Received"), ("reviewing", "Being reviewed"),
                                               ("followed_up", "Followed up"), ("closed", "Closed")])
def test_the_sender_sees_a_simple_status(client, family, status, words):
    lead = ffac.make_lead(case=family["case"], member=family["member"], status=status)
    assert words in client.get(f"/my/leads/{lead.id}").get_data(as_text=True)


def test_questions_from_staff_are_shown_and_can_be_answered(client, db, family):
    lead = ffac.make_lead(case=family["case"], member=family["member"])
    question = ffac.make_question(lead=lead, question="Do you know Ghost's real name?")
    page = client.get(f"/my/leads/{lead.id}").get_data(as_text=True)
    assert "Do you know Ghost&#39;s real name?" in page or "Do you know Ghost's real name?" in page
    empty = client.post(f"/my/questions/{question.id}/answer",
                        data={"csrf_token": csrf_from(page), f"q{question.id}-answer": "  "})
    assert empty.status_code == 422 and "Write your answer first." in empty.get_data(as_text=True)
    response = client.post(f"/my/questions/{question.id}/answer",
                           data={"csrf_token": csrf_from(page), f"q{question.id}-answer": "Marcus, I think"})
    assert response.status_code == 302
    db.session.expire_all()
    stored = db.session.get(LeadQuestion, question.id)
    assert stored.answer == "Marcus, I think" and stored.answered_at is not None
    assert "Marcus, I think" in client.get(f"/my/leads/{lead.id}").get_data(as_text=True)


def test_another_familys_file_answers_404_even_through_my_own_lead(app, client, db, family):
    mine = ffac.make_lead(case=family["case"], member=family["member"])
    _user_b, member_b, case_b = factories.make_family()
    theirs = ffac.make_lead(case=case_b, member=member_b)
    their_file = ffac.make_attachment(lead=theirs, app=app, content=b"%PDF-1.4 family B")
    assert client.get(f"/my/leads/{theirs.id}/files/{their_file.id}").status_code == 404
    assert client.get(f"/my/leads/{mine.id}/files/{their_file.id}").status_code == 404


def test_lead_text_stays_out_of_logs_and_audit(client, db, family, caplog):
    case = family["case"]
    caplog.set_level(logging.DEBUG)
    post_lead(client, case.id, open_lead_form(client, case.id), details="SECRET-LEAD-TEXT",
              **{"people-0-name": "SECRET-PERSON"})
    assert _count(db) == 1
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "SECRET-LEAD-TEXT" not in logged and "SECRET-PERSON" not in logged
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "lead.submit")).all()
    assert len(events) == 1 and "SECRET" not in str(events[0].details)
