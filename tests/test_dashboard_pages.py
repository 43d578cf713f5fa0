"""Who needs contact, a page at a time: each page is exactly the next part of the full sorted list, for a liaison's
caseload and for a supervisor's whole agency, with the rules decided in SQL and in Python mixed on every page."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from portal.extensions import db
from portal.services.agency import get_agency
from portal.services.contact import due_for_contact, flags_page
from portal.staff.routes import FLAGS_PER_PAGE as PER_PAGE

from . import factories
from . import staff_factories as sf
from .conftest import sign_in

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # a Wednesday
DAY = timedelta(days=1)


def _agency_of_waiting_families(n: int):
    """n families on three liaisons' caseloads, waiting in every way the flags know, some at the same moment."""
    get_agency()
    db.session.commit()  # the agency row, so that computing flags in the test writes nothing
    liaisons = [factories.make_user(role="liaison") for _ in range(3)]
    for i in range(n):
        liaison = liaisons[i % 3]
        case = factories.make_case(liaison=liaison, opened_at=NOW - (200 + i) * DAY)
        member = factories.make_family_member(case=case)
        kind = i % 6
        if kind == 0:
            continue  # never contacted: first contact overdue since the opening
        # The same day for several families: ties broken by case number, as in the full list.
        sf.make_contact(case=case, member=member, at=NOW - (20 + i // 12) * DAY)
        if kind == 2:
            sf.make_message(case=case, member=member, created_at=NOW - (5 + i % 7) * DAY)
        elif kind == 3:
            sf.make_text(member=member, status="failed", created_at=NOW - (3 + i % 5) * DAY)
        elif kind == 4:
            factories.make_family_member(case=case, cadence="do_not_contact")
        elif kind == 5:
            sf.make_lead(case=case, created_at=NOW - (4 + i % 9) * DAY)
    return liaisons


def _shown(page: str) -> list[tuple[str, int]]:
    """(kind, case id) of each flag in the "families waiting" list of a dashboard page, in order."""
    waiting = page.split('id="flags-heading"', 1)[1].split('id="listed-heading"', 1)[0]
    return [(kind, int(case)) for kind, case in re.findall(r'data-kind="([^"]+)" data-case="(\d+)"', waiting)]


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def test_each_page_is_the_next_part_of_the_full_list_for_the_whole_agency(app, client, db, frozen):
    _agency_of_waiting_families(80)
    supervisor = factories.make_user(role="supervisor")
    full = [(f.kind, f.case_id) for f in due_for_contact() if f.level != "listed"]
    assert len(full) > 2 * PER_PAGE and {k for k, _ in full} >= {"first_contact", "cadence", "message_unanswered",
                                                         "text_undelivered", "lead_unreviewed"}
    sign_in(client, supervisor)
    pages = -(-len(full) // PER_PAGE)
    for number in range(1, pages + 1):
        page = client.get(f"/staff/?page={number}").get_data(as_text=True)
        assert _shown(page) == full[(number - 1) * PER_PAGE:number * PER_PAGE], f"page {number}"
        assert f"Page {number} of {pages} ({len(full)} in all)." in page
    beyond = client.get(f"/staff/?page={pages + 5}")
    assert beyond.status_code == 302 and f"page={pages}" in beyond.headers["Location"]


def test_a_liaison_sees_their_own_caseload_in_pages(app, client, db, frozen):
    liaisons = _agency_of_waiting_families(110)
    mine = [(f.kind, f.case_id) for f in due_for_contact(liaison=liaisons[1]) if f.level != "listed"]
    sign_in(client, liaisons[1])
    page = client.get("/staff/").get_data(as_text=True)
    assert _shown(page) == mine[:PER_PAGE]
    assert ("Page 1 of" in page) == (len(mine) > PER_PAGE)


def test_the_liaison_chosen_by_a_supervisor_stays_chosen_on_the_next_page(app, client, db, frozen):
    liaisons = _agency_of_waiting_families(120)
    chosen = [(f.kind, f.case_id) for f in due_for_contact(liaison=liaisons[0]) if f.level != "listed"]
    assert len(chosen) > 2 * PER_PAGE
    sign_in(client, factories.make_user(role="supervisor"))
    first = client.get(f"/staff/?liaison={liaisons[0].id}").get_data(as_text=True)
    assert f"liaison={liaisons[0].id}&amp;page=2" in first
    second = client.get(f"/staff/?liaison={liaisons[0].id}&page=2").get_data(as_text=True)
    assert _shown(second) == chosen[PER_PAGE:2 * PER_PAGE]


@pytest.mark.parametrize("per_page", [1, 7, 50])
def test_any_page_of_the_service_equals_that_slice_of_due_for_contact(db, frozen, per_page):
    _agency_of_waiting_families(40)
    full = due_for_contact()
    active = [f for f in full if f.level != "listed"]
    listed = [f for f in full if f.level == "listed"]
    for number in range(1, -(-len(active) // per_page) + 1):
        found = flags_page(page=number, per_page=per_page, listed_limit=3)
        assert found.flags == active[(number - 1) * per_page:number * per_page]
        assert (found.total, found.act_now, found.listed_total) == \
            (len(active), sum(f.level == "act_now" for f in active), len(listed))
        assert found.listed == listed[:3]
