"""The staff home page: each liaison's own flags, the supervisor's filter by liaison, listed families, actions."""
from __future__ import annotations

from datetime import timedelta

from portal.models import utcnow

from . import factories
from . import staff_factories as sf
from .conftest import sign_in
from .html_pages import links


def _caseloads():
    a = factories.make_user(role="liaison", name="Officer Ana")
    b = factories.make_user(role="liaison", name="Officer Ben")
    old = utcnow() - timedelta(hours=60)
    own = factories.make_case(liaison=a, number="A-OWN", decedent="Own Case", opened_at=old)
    backup = factories.make_case(liaison=b, backup=a, number="B-BACKUP", decedent="Backup Case", opened_at=old)
    other = factories.make_case(liaison=b, number="B-ONLY", decedent="Other Case", opened_at=old)
    for case in (own, backup, other):
        factories.make_family_member(case=case)
    return a, b, own, backup, other


def test_a_liaison_sees_flags_for_their_cases_and_backups_only(client):
    a, _b, _own, _backup, _other = _caseloads()
    sign_in(client, a)
    page = client.get("/staff/").get_data(as_text=True)
    assert "A-OWN" in page and "B-BACKUP" in page and "B-ONLY" not in page
    assert page.count("No first contact for 60 hours") == 2


def test_a_supervisor_filters_the_flags_by_liaison(client):
    _a, b, _own, _backup, _other = _caseloads()
    sign_in(client, factories.make_user(role="supervisor"))
    everyone = client.get("/staff/").get_data(as_text=True)
    assert all(n in everyone for n in ("A-OWN", "B-BACKUP", "B-ONLY")) and "Officer Ben" in everyone
    only_b = client.get(f"/staff/?liaison={b.id}").get_data(as_text=True)
    flags = only_b.split("Families waiting for us")[1].split("Open cases")[0]
    assert "B-BACKUP" in flags and "B-ONLY" in flags and "A-OWN" not in flags


def test_listed_families_and_flag_actions(client):
    liaison = factories.make_user(role="liaison")
    case = factories.make_case(liaison=liaison, opened_at=utcnow() - timedelta(days=10))
    member = factories.make_family_member(case=case, name="Quiet Family", cadence="do_not_contact")
    other = factories.make_case(liaison=liaison, opened_at=utcnow() - timedelta(days=10))
    talker = factories.make_family_member(case=other, preferred_channel="video")
    factories.make_outreach(case=other, member=talker, occurred_at=utcnow() - timedelta(days=9))
    lead = sf.make_lead(case=other, created_at=utcnow() - timedelta(days=4))
    sign_in(client, liaison)
    page = client.get("/staff/").get_data(as_text=True)
    waiting, listed = page.split("Families waiting for us")[1].split('id="listed-heading"', 1)
    assert "Quiet Family" in listed.split("Open cases")[0] and case.case_number not in waiting
    hrefs = {link["href"] for link in links(page)}
    assert f"/staff/leads/{lead.id}" in hrefs
    assert any(h.startswith(f"/staff/cases/{other.id}/contacts/new?") and "flag=lead_unreviewed" in h for h in hrefs)
    assert not any(f"member={member.id}" in h for h in hrefs)  # no "log a contact" push for a listed family
