"""access.py decisions for leads, files, questions, tip links and appointments, for every kind of person."""
from __future__ import annotations

import pytest
from werkzeug.exceptions import NotFound

from portal import access

from . import factories
from . import family_factories as ffac


@pytest.fixture
def records(app):
    liaison = factories.make_user(role="liaison")
    user, member, case = factories.make_family(liaison=liaison)
    lead = ffac.make_lead(case=case, member=member)
    tip = ffac.make_lead(case=case, anonymous=True)
    return {"liaison": liaison, "user": user, "member": member, "case": case, "lead": lead, "tip": tip,
            "file": ffac.make_attachment(lead=lead, app=app), "question": ffac.make_question(lead=lead),
            "link": ffac.make_tip_link(case=case, member=member)[0],
            "appointment": ffac.make_appointment(case=case, member=member)}


def _opens(user, r) -> dict[str, bool]:
    checks = {
        "lead": lambda: access.get_lead_or_404(user, r["lead"].id),
        "tip": lambda: access.get_lead_or_404(user, r["tip"].id),
        "file": lambda: access.get_attachment_or_404(user, r["lead"].id, r["file"].id),
        "question": lambda: access.get_lead_question_or_404(user, r["question"].id),
        "link": lambda: access.get_tip_link_or_404(user, r["link"].id),
        "appointment": lambda: access.get_appointment_or_404(user, r["appointment"].id),
    }
    result = {}
    for name, check in checks.items():
        try:
            check()
            result[name] = True
        except NotFound:
            result[name] = False
    return result


def test_the_submitter_opens_their_own_records_but_never_an_anonymous_tip(records):
    assert _opens(records["user"], records) == {"lead": True, "tip": False, "file": True, "question": True,
                                                "link": True, "appointment": True}


def test_a_relative_on_the_same_case_sees_the_tip_links_but_not_the_others_leads_or_calls(records):
    sibling = factories.make_user(role="family")
    factories.make_family_member(case=records["case"], user=sibling)
    assert _opens(sibling, records) == {"lead": False, "tip": False, "file": False, "question": False,
                                        "link": True, "appointment": False}


def test_another_family_opens_nothing(records):
    other, _member, _case = factories.make_family()
    assert not any(_opens(other, records).values())


def test_staff_who_see_the_case_open_everything_and_other_liaisons_nothing(records):
    assert all(_opens(records["liaison"], records).values())
    assert all(_opens(factories.make_user(role="supervisor"), records).values())
    assert not any(_opens(factories.make_user(role="liaison"), records).values())
    assert not any(_opens(factories.make_user(role="admin", active=False), records).values())


def test_a_file_must_belong_to_the_lead_in_the_address(app, records):
    other_lead = ffac.make_lead(case=records["case"], member=records["member"])
    with pytest.raises(NotFound):
        access.get_attachment_or_404(records["user"], other_lead.id, records["file"].id)


def test_leads_submitted_by_lists_only_the_users_own_non_anonymous_leads(db, records):
    listed = db.session.scalars(access.leads_submitted_by(records["user"])).all()
    assert [lead.id for lead in listed] == [records["lead"].id]
    assert db.session.scalars(access.leads_submitted_by(records["liaison"])).all() == []
