"""A family member gets 404 for every route that takes another family's id: the same as a missing id."""
from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from . import factories, family_factories, staff_factories
from .conftest import csrf_from, sign_in
from .security_helpers import comparable_answer
from .webauthn_helpers import make_passkey

# For every id a URL can take: how to get the id of family B's record of that kind.
# A new route with a new id name fails test_every_id_argument_is_covered until it is added here.
OTHER_FAMILY_IDS = {
    "case_id": lambda b: b["case"].id,
    "member_id": lambda b: b["member"].id,
    "update_id": lambda b: b["update"].id,
    "user_id": lambda b: b["user"].id,
    "lead_id": lambda b: b["lead"].id,
    "attachment_id": lambda b: b["attachment"].id,
    "question_id": lambda b: b["question"].id,
    "tip_link_id": lambda b: b["tip_link"].id,
    "appointment_id": lambda b: b["appointment"].id,
    "outreach_id": lambda b: factories.make_outreach(case=b["case"], member=b["member"]).id,
    "window_id": lambda b: staff_factories.make_window(liaison=b["case"].liaison).id,
    "exception_id": lambda b: staff_factories.make_exception(liaison=b["case"].liaison).id,
    "resource_id": lambda b: staff_factories.make_resource().id,
    "inbound_id": lambda b: b["inbound"].id,
    "media_id": lambda b: factories.make_text_picture(inbound=b["inbound"]).id,  # staff only: never a family's
    "passkey_id": lambda b: make_passkey(b["case"].liaison)[0].id,  # a staff member's: never a family's to open
}


def _int_routes(app):
    for rule in app.url_map.iter_rules():
        int_args = [name for name, conv in rule._converters.items() if isinstance(conv, IntegerConverter)]
        if int_args:
            yield rule, int_args


@pytest.fixture
def two_families(app, client):
    liaison = factories.make_user(role="liaison")
    user_a, member_a, case_a = factories.make_family(liaison=liaison)
    user_b, member_b, case_b = factories.make_family(liaison=liaison)
    update_b = factories.make_update(case=case_b, body="For family B only", family_visible=True)
    factories.make_update(case=case_b, body="Internal about B", family_visible=False)
    lead_b = family_factories.make_lead(case=case_b, member=member_b, details="For family B only")
    records_b = {
        "lead": lead_b,
        "attachment": family_factories.make_attachment(lead=lead_b, app=app),
        "question": family_factories.make_question(lead=lead_b),
        "tip_link": family_factories.make_tip_link(case=case_b, member=member_b)[0],
        "appointment": family_factories.make_appointment(case=case_b, member=member_b),
    }
    inbound_b = factories.make_inbound_sms(member=member_b, body="A text from family B")
    sign_in(client, user_a)
    return {"a": {"user": user_a, "case": case_a, "member": member_a},
            "b": {"case": case_b, "member": member_b, "update": update_b, "user": user_b, "inbound": inbound_b,
                  **records_b}}


def test_every_id_argument_is_covered(app):
    missing = {name for _rule, names in _int_routes(app) for name in names} - set(OTHER_FAMILY_IDS)
    assert not missing, f"add these id arguments to OTHER_FAMILY_IDS: {sorted(missing)}"


def test_family_gets_404_for_every_route_with_another_familys_id(app, client, two_families):
    token = csrf_from(client.get("/my", follow_redirects=True).get_data(as_text=True))
    checked = []
    for rule, names in _int_routes(app):
        url = rule.build({name: OTHER_FAMILY_IDS[name](two_families["b"]) for name in names})[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method == "GET":
                response = client.get(url)
            else:
                response = client.open(url, method=method, data={"csrf_token": token})
            assert response.status_code == 404, f"{method} {url} answered {response.status_code}"
            body = response.get_data(as_text=True)
            assert "For family B only" not in body and two_families["b"]["case"].decedent_name not in body
            checked.append(f"{method} {rule.rule}")
    assert checked, "no route takes an id: the check would prove nothing"


def test_own_case_opens_but_a_missing_id_answers_the_same_404(app, client, two_families):
    own = client.get(f"/my/cases/{two_families['a']['case'].id}")
    assert own.status_code == 200
    other_url = f"/my/cases/{two_families['b']['case'].id}"
    other, missing = client.get(other_url), client.get("/my/cases/999999")
    assert other.status_code == missing.status_code == 404
    # Identical (status, headers, session, body) but for the page's own address (in the language switch's return
    # link) and what differs on every request: the CSRF tokens, signed with the second they were made in.
    assert comparable_answer(app, other, other_url) == comparable_answer(app, missing, "/my/cases/999999")


def test_family_never_sees_internal_notes(client, two_families, db):
    case_a = two_families["a"]["case"]
    factories.make_update(case=case_a, body="Visible words for family A", family_visible=True)
    factories.make_update(case=case_a, body="Detective thinks the cousin lies", family_visible=False)
    factories.make_outreach(case=case_a, member=two_families["a"]["member"], notes="Mother sounded drunk")
    page = client.get(f"/my/cases/{case_a.id}").get_data(as_text=True)
    assert "Visible words for family A" in page
    assert "Detective thinks the cousin lies" not in page
    assert "Mother sounded drunk" not in page
    assert "Phone call" in page  # the contact itself is shown, without its notes


def test_family_cannot_open_staff_pages(client, two_families):
    assert client.get("/staff/").status_code == 404
    assert client.get(f"/staff/cases/{two_families['a']['case'].id}").status_code == 404
