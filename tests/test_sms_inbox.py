"""The unmatched-texts inbox: staff see texts from unknown numbers and link them, only to families they may see."""
from sqlalchemy import select

from portal.models import AuditEvent, CaseMessage, InboundSms, Outreach

from . import factories
from .conftest import csrf_from


def _link(client, inbound, member_id):
    page = client.get("/staff/texts/unmatched").get_data(as_text=True)
    return client.post(f"/staff/texts/unmatched/{inbound.id}/link",
                       data={"csrf_token": csrf_from(page), f"text{inbound.id}-member_id": str(member_id)})


def test_a_liaison_links_an_unmatched_text_to_a_family_in_their_caseload(client, login_as, db):
    liaison = login_as("liaison")
    member = factories.make_family_member(case=factories.make_case(liaison=liaison), name="Rosa Herrera")
    inbound = factories.make_inbound_sms(from_number="+13125550901", body="This is Rosa from my work phone")
    page = client.get("/staff/texts/unmatched")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "This is Rosa from my work phone" in html and "+13125550901" in html and "Rosa Herrera" in html
    response = _link(client, inbound, member.id)
    assert response.status_code == 302
    db.session.expire_all()
    linked = db.session.get(InboundSms, inbound.id)
    assert (linked.handling, linked.family_member_id, linked.case_id, linked.linked_by_id) == \
        ("conversation", member.id, member.case_id, liaison.id)
    message = db.session.scalar(select(CaseMessage))
    assert (message.sender, message.channel, message.body) == ("family", "sms", "This is Rosa from my work phone")
    assert db.session.scalar(select(Outreach.source_type)) == "inbound_sms"
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "inbound_sms.link"))
    assert "This is Rosa from my work phone" not in client.get("/staff/texts/unmatched").get_data(as_text=True)


def test_a_liaison_cannot_link_to_a_family_outside_their_caseload(client, login_as, db):
    login_as("liaison")
    other_case = factories.make_case(liaison=factories.make_user(role="liaison"), number="OTHER-1")
    stranger = factories.make_family_member(case=other_case, name="Somebody Else")
    inbound = factories.make_inbound_sms(from_number="+13125550902")
    html = client.get("/staff/texts/unmatched").get_data(as_text=True)
    assert "Somebody Else" not in html and "OTHER-1" not in html
    response = _link(client, inbound, stranger.id)
    assert response.status_code in (404, 422)
    db.session.expire_all()
    assert db.session.get(InboundSms, inbound.id).handling == "unmatched"
    assert db.session.scalar(select(CaseMessage)) is None


def test_a_supervisor_may_link_to_any_family(client, login_as, db):
    login_as("supervisor")
    member = factories.make_family_member(case=factories.make_case(liaison=factories.make_user(role="liaison")))
    inbound = factories.make_inbound_sms(from_number="+13125550903")
    assert _link(client, inbound, member.id).status_code == 302
    db.session.expire_all()
    assert db.session.get(InboundSms, inbound.id).family_member_id == member.id


def test_choosing_nobody_keeps_the_text_and_says_why(client, login_as, db):
    liaison = login_as("liaison")
    factories.make_family_member(case=factories.make_case(liaison=liaison))
    inbound = factories.make_inbound_sms(from_number="+13125550904", body="Who am I?")
    response = _link(client, inbound, 0)
    assert response.status_code == 422
    assert "Choose the family member who sent this text." in response.get_data(as_text=True)


def test_an_already_linked_text_is_not_linked_twice(client, login_as, db):
    liaison = login_as("liaison")
    member = factories.make_family_member(case=factories.make_case(liaison=liaison))
    inbound = factories.make_inbound_sms(from_number="+13125550905")
    assert _link(client, inbound, member.id).status_code == 302
    page = client.get("/staff/").get_data(as_text=True)
    client.post(f"/staff/texts/unmatched/{inbound.id}/link",
                data={"csrf_token": csrf_from(page), f"text{inbound.id}-member_id": str(member.id)})
    assert len(db.session.scalars(select(CaseMessage)).all()) == 1


def test_families_and_strangers_cannot_see_the_inbox(client, db):
    inbound = factories.make_inbound_sms(from_number="+13125550906", body="private words")
    assert client.get("/staff/texts/unmatched").status_code in (302, 404)
    user, _member, _case = factories.make_family()
    from .conftest import sign_in

    sign_in(client, user)
    response = client.get("/staff/texts/unmatched")
    assert response.status_code == 404 and "private words" not in response.get_data(as_text=True)
    assert client.post(f"/staff/texts/unmatched/{inbound.id}/link").status_code in (400, 404)


def test_the_staff_nav_leads_to_the_inbox(client, login_as):
    login_as("liaison")
    assert 'href="/staff/texts/unmatched"' in client.get("/staff/").get_data(as_text=True)
