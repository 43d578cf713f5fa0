"""The conversation: every message is an outreach entry, staff see who waits, families get a detail-free text."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from portal.models import CaseMessage, Notification, Outreach

from . import factories
from .conftest import csrf_from, sign_in


@pytest.fixture
def setup(app, client):
    liaison = factories.make_user(role="liaison", name="Officer Sam Okafor")
    case = factories.make_case(liaison=liaison, decedent="Kayla Price")
    user, member, _case = factories.make_family(case=case)
    sign_in(client, user)
    staff = app.test_client()
    sign_in(staff, liaison)
    return {"case": case, "member": member, "user": user, "liaison": liaison, "staff": staff}


def _post(client, url, body, field="body"):
    page = client.get(url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_from(page), field: body})


def test_a_family_message_is_an_inbound_outreach_and_staff_see_it_waiting(client, db, setup, caplog):
    caplog.set_level(logging.DEBUG)
    case = setup["case"]
    response = _post(client, f"/my/cases/{case.id}/messages", "When will the lab results come back?")
    assert response.status_code == 302
    message = db.session.scalar(select(CaseMessage))
    assert (message.sender, message.family_member_id, message.channel) == ("family", setup["member"].id, "portal")
    entry = db.session.scalar(select(Outreach))
    assert (entry.channel, entry.direction, entry.outcome, entry.is_system) == \
        ("portal_message", "inbound", "message_received", True)
    assert (entry.source_type, entry.source_id, entry.family_member_id) == ("portal_message", message.id,
                                                                          setup["member"].id)
    assert entry.notes == ""
    staff_page = setup["staff"].get(f"/staff/cases/{case.id}/conversation").get_data(as_text=True)
    assert "When will the lab results come back?" in staff_page and "waiting for a reply" in staff_page
    listing = setup["staff"].get("/staff/conversations").get_data(as_text=True)
    assert "Kayla Price" in listing and "Waiting for a reply" in listing
    assert not any("lab results" in r.getMessage() for r in caplog.records)


def test_a_staff_reply_clears_the_flag_and_texts_the_family_without_details(client, db, setup):
    case = setup["case"]
    _post(client, f"/my/cases/{case.id}/messages", "Hello?")
    response = _post(setup["staff"], f"/staff/cases/{case.id}/conversation", "The results are in. Please call me.")
    assert response.status_code == 302
    messages = db.session.scalars(select(CaseMessage).order_by(CaseMessage.id)).all()
    assert [m.sender for m in messages] == ["family", "staff"] and messages[1].author_id == setup["liaison"].id
    outbound = db.session.scalar(select(Outreach).where(Outreach.direction == "outbound"))
    assert (outbound.channel, outbound.outcome, outbound.staff_id, outbound.is_system, outbound.source_id) == \
        ("portal_message", "message_sent", setup["liaison"].id, True, messages[1].id)
    text = db.session.scalar(select(Notification))
    assert text.kind == "staff_message" and text.family_member_id == setup["member"].id
    assert text.body.startswith("There is an update from ")
    assert text.body.endswith(f"http://localhost/my/cases/{case.id}/messages")
    for detail in ("results", "Kayla", "Okafor"):
        assert detail not in text.body
    assert "waiting for a reply" not in setup["staff"].get(f"/staff/cases/{case.id}/conversation").get_data(
        as_text=True)
    assert "The results are in." in client.get(f"/my/cases/{case.id}/messages").get_data(as_text=True)


def test_staff_message_texts_members_with_texts_on_and_a_one_time_link_to_those_without_an_account(db, setup):
    case = setup["case"]
    no_account = factories.make_family_member(case=case, phone="+13125550161")  # gets a one-time link instead
    factories.make_family_member(case=case, user=factories.make_user(role="family"), phone="+13125550162",
                                 texts_enabled=False)
    detailed = factories.make_family_member(case=case, user=factories.make_user(role="family"),
                                            phone="+13125550163", detailed_texts=True)
    _post(setup["staff"], f"/staff/cases/{case.id}/conversation", "News")
    texts = {t.recipient: t.body for t in db.session.scalars(select(Notification))}
    assert set(texts) == {setup["member"].phone, detailed.phone, no_account.phone}
    assert "/n/" in texts[no_account.phone] and "sign in" not in texts[no_account.phone].lower()
    assert "Sign in to read it" in texts[setup["member"].phone] and "/n/" not in texts[setup["member"].phone]
    assert "Officer Sam Okafor sent you a message about the case of Kayla Price" in texts[detailed.phone]
    assert "News" not in texts[detailed.phone]


def test_an_empty_message_is_refused_with_a_clear_note(client, db, setup):
    response = _post(client, f"/my/cases/{setup['case'].id}/messages", "   ")
    assert response.status_code == 422 and "Write your message first." in response.get_data(as_text=True)
    assert db.session.scalar(select(CaseMessage)) is None


def test_only_staff_who_see_the_case_reach_its_conversation(app, client, db, setup):
    case = setup["case"]
    other_liaison = factories.make_user(role="liaison")
    outsider = app.test_client()
    sign_in(outsider, other_liaison)
    assert outsider.get(f"/staff/cases/{case.id}/conversation").status_code == 404
    assert client.get(f"/staff/cases/{case.id}/conversation").status_code == 404  # a family member
    assert client.get("/staff/conversations").status_code == 404
    _post(client, f"/my/cases/{case.id}/messages", "Hello")
    assert "Hello" not in outsider.get("/staff/conversations").get_data(as_text=True)
    supervisor = app.test_client()
    sign_in(supervisor, factories.make_user(role="supervisor"))
    assert supervisor.get(f"/staff/cases/{case.id}/conversation").status_code == 200


def test_staff_reach_the_conversation_from_the_case_page_and_from_an_unanswered_message_flag(db, setup):
    from datetime import timedelta

    from portal.models import utcnow

    from . import staff_factories as sf
    from .html_pages import links

    case = setup["case"]
    factories.make_outreach(case=case, staff=setup["liaison"], occurred_at=utcnow() - timedelta(days=6))
    sf.make_message(case=case, member=setup["member"], created_at=utcnow() - timedelta(days=5))
    conversation = f"/staff/cases/{case.id}/conversation"
    case_page = setup["staff"].get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert conversation in [link["href"] for link in links(case_page) if link["text"] == "Messages with the family"]
    home = setup["staff"].get("/staff/").get_data(as_text=True)
    answer = [link["href"] for link in links(home) if link["text"] == "Answer the message"]
    assert answer == [f"{conversation}#latest"]
    assert setup["staff"].get(answer[0].split("#")[0]).status_code == 200
