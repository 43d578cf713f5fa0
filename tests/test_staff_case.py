"""Staff add family members (phones in E.164) and timeline entries; bad input keeps what was typed."""
from sqlalchemy import select

from portal.models import AuditEvent, CaseUpdate, FamilyMember

from . import factories
from .conftest import csrf_from


def _post(client, case, url, data):
    token = csrf_from(client.get(f"/staff/cases/{case.id}").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def test_adding_a_family_member_stores_the_phone_in_e164(client, login_as, db):
    liaison = login_as("liaison")
    case = factories.make_case(liaison=liaison)
    response = _post(client, case, f"/staff/cases/{case.id}/members", {
        "member-name": "Rosa Díaz", "member-relationship": "Mother", "member-phone": "(312) 555-0199",
        "member-email": "", "member-language": "es"})
    assert response.status_code == 302
    member = db.session.scalar(select(FamilyMember))
    assert (member.name, member.phone, member.language) == ("Rosa Díaz", "+13125550199", "es")
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "family_member.create"))


def test_bad_phone_gets_a_message_and_keeps_everything_typed(client, login_as, db):
    liaison = login_as("liaison")
    case = factories.make_case(liaison=liaison)
    response = _post(client, case, f"/staff/cases/{case.id}/members", {
        "member-name": "Rosa Díaz", "member-relationship": "Mother", "member-phone": "12",
        "member-email": "bad-email", "member-language": "es"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "phone number" in body and "Enter an email address like name@example.com." in body
    assert 'value="Rosa Díaz"' in body and 'value="Mother"' in body and 'value="12"' in body
    assert db.session.scalar(select(FamilyMember)) is None


def test_internal_note_and_family_update_are_marked_differently(client, login_as, db):
    liaison = login_as("liaison")
    case = factories.make_case(liaison=liaison)
    _post(client, case, f"/staff/cases/{case.id}/updates", {"update-body": "Toxicology sent to lab",
                                                             "update-visibility": "family"})
    _post(client, case, f"/staff/cases/{case.id}/updates", {"update-body": "Brother may know supplier",
                                                             "update-visibility": "internal"})
    rows = {u.body: u.family_visible for u in db.session.scalars(select(CaseUpdate))}
    assert rows == {"Toxicology sent to lab": True, "Brother may know supplier": False}
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "Internal: staff only" in page and "Family sees this" in page


def test_family_written_text_is_escaped_on_staff_pages(client, login_as, db):
    liaison = login_as("liaison")
    case = factories.make_case(liaison=liaison)
    factories.make_family_member(case=case, name="<script>alert(1)</script>")
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
