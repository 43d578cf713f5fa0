"""Lead triage: queue order, escaped text, views audited, status, assignment, notes, questions, files."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, Lead, LeadNote, LeadQuestion, Notification, utcnow

from . import factories
from . import staff_factories as sf
from .conftest import sign_in
from .html_pages import form_with_action

XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


@pytest.fixture
def desk(client):
    liaison = factories.make_user(role="liaison", name="Officer Dana Rivera")
    case = factories.make_case(liaison=liaison, number="OD-3")
    member = factories.make_family_member(case=case, name="Rosa Díaz", phone="+13125550150")
    sign_in(client, liaison)
    return liaison, case, member


def _actions(db_session=db):
    db_session.session.commit()
    return [e.action for e in db_session.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_the_queue_shows_new_leads_first_oldest_first_with_their_age(client, desk):
    _liaison, case, member = desk
    now = utcnow()
    sf.make_lead(case=case, status="reviewing", created_at=now - timedelta(days=9))
    newer = sf.make_lead(case=case, created_at=now - timedelta(hours=5))
    older = sf.make_lead(case=case, created_at=now - timedelta(days=4))
    closed = sf.make_lead(case=case, status="closed", created_at=now - timedelta(hours=1))
    other_case = factories.make_case(liaison=factories.make_user(role="liaison"))
    hidden = sf.make_lead(case=other_case)
    page = client.get("/staff/leads").get_data(as_text=True)
    order = [ref for ref in (older.reference, newer.reference, closed.reference) if ref in page]
    assert order == [older.reference, newer.reference, closed.reference]
    assert page.index(older.reference) < page.index(newer.reference) < page.index(closed.reference)
    assert hidden.reference not in page
    assert "4 days" in page and "5 hours" in page


def test_a_lead_is_shown_escaped_and_the_first_view_marks_it_reviewed(client, desk):
    _liaison, case, member = desk
    lead = sf.make_lead(case=case, member=member, details=XSS, supplier="Flaco <b>on 5th</b>",
                        people=[{"name": XSS, "phone": "555", "social": "@flaco", "relation": "friend",
                                 "knows": "where he buys"}])
    page = client.get(f"/staff/leads/{lead.id}").get_data(as_text=True)
    assert "<script>alert(2)</script>" not in page and "<img src=x" not in page and "<b>on 5th</b>" not in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page and "Flaco &lt;b&gt;on 5th&lt;/b&gt;" in page
    db.session.commit()
    lead = db.session.get(Lead, lead.id)
    assert lead.status == "reviewing" and lead.reviewed_at is not None
    assert _actions().count("lead.view") == 1
    client.get(f"/staff/leads/{lead.id}")
    assert _actions().count("lead.view") == 2


def test_an_anonymous_tip_never_shows_who_sent_it(client, desk):
    _liaison, case, member = desk
    lead = sf.make_lead(case=case, anonymous=True, details="I was there")
    page = client.get(f"/staff/leads/{lead.id}").get_data(as_text=True)
    assert "Anonymous tipster" in page and "Rosa Díaz" not in page.split("What they told us")[0].split("<h1>")[1]


def _post(client, lead, action, **values):
    form = form_with_action(client.get(f"/staff/leads/{lead.id}").get_data(as_text=True), action)
    response = client.post(form.action, data=form.data(**values))
    db.session.commit()
    return response


def test_status_assignment_and_internal_notes(client, desk):
    liaison, case, member = desk
    supervisor = factories.make_user(role="supervisor", name="Sgt. Alex Lind")
    outsider = factories.make_user(role="liaison", name="Not On This Case")
    lead = sf.make_lead(case=case, member=member)
    assert _post(client, lead, f"/staff/leads/{lead.id}/assign", **{"assign-assignee": str(outsider.id)}
                 ).status_code == 422
    assert _post(client, lead, f"/staff/leads/{lead.id}/assign", **{"assign-assignee": str(supervisor.id)}
                 ).status_code == 302
    lead = db.session.get(Lead, lead.id)
    assert (lead.assigned_to_id, lead.status) == (supervisor.id, "assigned")
    _post(client, lead, f"/staff/leads/{lead.id}/status", **{"status-status": "followed_up"})
    assert db.session.get(Lead, lead.id).status == "followed_up"
    assert db.session.get(Lead, lead.id).submitter_status == "followed_up"
    _post(client, lead, f"/staff/leads/{lead.id}/notes", **{"note-body": "Cross-check with case 2025-88"})
    note = db.session.scalar(select(LeadNote))
    assert (note.body, note.author_id) == ("Cross-check with case 2025-88", liaison.id)
    actions = _actions()
    assert {"lead.assign", "lead.status", "lead_note.create"} <= set(actions)
    assert not any("Cross-check" in str(e.details) for e in db.session.scalars(select(AuditEvent)))


def test_asking_the_family_a_question_texts_them_and_an_answer_can_be_acknowledged(client, desk):
    _liaison, case, member = desk
    lead = sf.make_lead(case=case, member=member)
    _post(client, lead, f"/staff/leads/{lead.id}/questions", **{"question-question": "What is Flaco's real name?"})
    question = db.session.scalar(select(LeadQuestion))
    assert question.question == "What is Flaco's real name?" and question.answered_at is None
    text = db.session.scalar(select(Notification))
    assert text.kind == "lead_question" and text.recipient == member.phone and "Flaco" not in text.body
    # Nothing to acknowledge before an answer.
    form = form_with_action(client.get(f"/staff/leads/{lead.id}").get_data(as_text=True),
                            f"/staff/leads/{lead.id}/questions")
    client.post(f"/staff/lead-questions/{question.id}/acknowledge", data=form.data())
    db.session.commit()
    assert db.session.get(LeadQuestion, question.id).acknowledged_at is None
    question = db.session.get(LeadQuestion, question.id)
    question.answer, question.answered_at = "Marcus <script>x</script>", utcnow()
    db.session.commit()
    page = client.get(f"/staff/leads/{lead.id}").get_data(as_text=True)
    assert "Marcus &lt;script&gt;x&lt;/script&gt;" in page
    ack = form_with_action(page, f"/staff/lead-questions/{question.id}/acknowledge")
    client.post(ack.action, data=ack.data())
    db.session.commit()
    assert db.session.get(LeadQuestion, question.id).acknowledged_at is not None


def test_an_anonymous_tipster_is_never_texted(client, desk):
    _liaison, case, member = desk
    lead = sf.make_lead(case=case, member=member, anonymous=True)
    _post(client, lead, f"/staff/leads/{lead.id}/questions", **{"question-question": "Where were you?"})
    assert db.session.scalar(select(LeadQuestion)) is not None
    assert db.session.scalar(select(Notification)) is None


def test_files_download_only_through_the_access_check_with_nosniff_and_an_audit(app, client, desk):
    _liaison, case, member = desk
    lead = sf.make_lead(case=case, member=member)
    stored = "f1" * 20  # stored names are 40 random hex digits
    Path(app.config["UPLOAD_DIR"], stored).write_bytes(b"<script>alert(1)</script>")
    attachment = sf.make_attachment(lead=lead, stored_name=stored, original_name="screenshot.png",
                                    content_type="image/png")
    response = client.get(f"/staff/attachments/{attachment.id}")
    assert response.status_code == 200 and response.data == b"<script>alert(1)</script>"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "screenshot.png" in response.headers["Content-Disposition"]
    assert response.headers["Content-Type"] == "image/png"
    assert _actions().count("lead_attachment.download") == 1

    other = app.test_client()
    sign_in(other, factories.make_user(role="liaison"))
    assert other.get(f"/staff/attachments/{attachment.id}").status_code == 404
    assert _actions().count("lead_attachment.download") == 1


def test_a_stored_name_that_escapes_the_upload_folder_is_never_served(client, desk):
    _liaison, case, member = desk
    lead = sf.make_lead(case=case)
    attachment = sf.make_attachment(lead=lead, stored_name="../../../../etc/passwd")
    assert client.get(f"/staff/attachments/{attachment.id}").status_code == 404
    missing = sf.make_attachment(lead=lead, stored_name="0e" * 20)  # a name of ours whose file is gone
    assert client.get(f"/staff/attachments/{missing.id}").status_code == 404
    assert "lead_attachment.download" not in _actions()  # nothing was downloaded


def test_a_question_goes_to_the_family_who_answer_on_their_lead_page_and_staff_acknowledge_it(app, client, desk):
    _liaison, case, _member = desk
    family_user, member, _case = factories.make_family(case=case, name="Ana Peña", phone="+13125550151")
    lead = sf.make_lead(case=case, member=member)  # submitted from her account
    _post(client, lead, f"/staff/leads/{lead.id}/questions", **{"question-question": "Who is Flaco?"})
    text = db.session.scalar(select(Notification))
    assert text.recipient == member.phone and text.body.endswith(f"/my/leads/{lead.id}")  # straight to the question

    family = app.test_client()
    sign_in(family, family_user)
    page = family.get(f"/my/leads/{lead.id}").get_data(as_text=True)
    assert "Who is Flaco?" in page
    question = db.session.scalar(select(LeadQuestion))
    answer = form_with_action(page, f"/my/questions/{question.id}/answer")
    assert family.post(answer.action, data=answer.data(**{f"q{question.id}-answer": "His cousin Marcus"})) \
        .status_code == 302

    staff_page = client.get(f"/staff/leads/{lead.id}").get_data(as_text=True)
    assert "His cousin Marcus" in staff_page
    ack = form_with_action(staff_page, f"/staff/lead-questions/{question.id}/acknowledge")
    client.post(ack.action, data=ack.data())
    db.session.commit()
    assert db.session.get(LeadQuestion, question.id).acknowledged_at is not None
