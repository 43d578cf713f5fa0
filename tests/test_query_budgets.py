"""Query budgets: each list page runs the same small number of SQL statements for 10 rows as for 1,000.

A page whose statement count grows with its rows (an N+1: one lazy load per row) is fast in a demo and falls over
at a state's or a country's scale. The rows here are made to expose that: every contact is logged by a different
staff member, every update has a different author, every case has a different liaison.
"""
from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import insert

from portal.models import Case, CaseUpdate, FamilyMember, Lead, Outreach, User, utcnow
from portal.services.agency import get_agency
from portal.sqlcount import count_statements

from . import factories
from . import staff_factories as sf
from .conftest import sign_in

BUDGET = 10
SIZES = (10, 1000)
_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def agency_row(db):
    """The agency's settings row, as every running portal has (the first page ever shown creates it)."""
    get_agency()
    db.session.commit()


@pytest.fixture
def statement_counter(db):
    """count() -> a context manager counting every statement the app's engine runs inside it."""
    return lambda: count_statements(db.engine)


def _staff(db, n: int) -> list[int]:
    """n staff users inserted in one statement (no password: they never sign in); returns their ids."""
    start = next(_serial) * 100_000
    now = utcnow()
    rows = [dict(email=f"staff{start + i}@budget.example", name=f"Staff Member {start + i}", role="liaison",
                 language="en", active=True, session_version=1, created_at=now, updated_at=now) for i in range(n)]
    ids = db.session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), rows).all()
    db.session.commit()
    return list(ids)


def _grow_case(db, case: Case, member: FamilyMember, have: int, want: int) -> None:
    """Bring the case to `want` contacts, family-visible updates and family members, each by a new person."""
    n = want - have
    if n <= 0:
        return
    staff, authors = _staff(db, n), _staff(db, n)
    now = utcnow()
    db.session.execute(insert(Outreach), [
        dict(case_id=case.id, family_member_id=member.id, staff_id=sid, channel="phone", direction="outbound",
             outcome="reached", occurred_at=now - timedelta(minutes=i), notes=f"note {i}", is_system=False,
             created_by_id=sid, created_at=now) for i, sid in enumerate(staff)])
    db.session.execute(insert(CaseUpdate), [
        dict(case_id=case.id, author_id=sid, kind="update", family_visible=True, body=f"Update {have + i}",
             created_at=now - timedelta(minutes=i)) for i, sid in enumerate(authors)])
    db.session.execute(insert(FamilyMember), [
        dict(case_id=case.id, name=f"Relative {have + i}", relationship_to_decedent="Cousin", phone=None,
             language="en", timezone="America/Chicago", is_spokesperson=False, texts_enabled=False,
             detailed_texts=False, cadence="biweekly", created_at=now, updated_at=now) for i in range(n)])
    db.session.commit()


def _grow_caseload(db, liaison: User, have: int, want: int) -> None:
    """Bring the liaison's caseload to `want` cases: half their own, half as backup to a different liaison."""
    n = want - have
    if n <= 0:
        return
    others = _staff(db, n)
    now = utcnow()
    base = next(_serial) * 100_000
    new_cases = db.session.scalars(insert(Case).returning(Case.id, sort_by_parameter_order=True), [
        dict(case_number=f"B-{base + i}", decedent_name=f"Decedent {base + i}", stage="investigating",
             stage_changed_at=now, opened_at=now - timedelta(hours=i), created_at=now, updated_at=now,
             liaison_id=liaison.id if i % 2 else others[i], backup_liaison_id=others[i] if i % 2 else liaison.id)
        for i in range(n)]).all()
    db.session.execute(insert(FamilyMember), [
        dict(case_id=cid, name=f"Relative of {cid}", relationship_to_decedent="Parent", phone="+13125550150",
             language="es" if cid % 3 == 0 else "en", timezone="America/Chicago", is_spokesperson=True,
             texts_enabled=True, detailed_texts=False, cadence="biweekly", created_at=now, updated_at=now)
        for cid in new_cases])
    db.session.execute(insert(Outreach), [
        dict(case_id=cid, staff_id=liaison.id, channel="phone", direction="outbound", outcome="reached",
             occurred_at=now - timedelta(days=cid % 30), notes="", is_system=False, created_at=now)
        for cid in new_cases])
    db.session.commit()


def _count_page(client, url: str, statement_counter) -> tuple[int, str, str]:
    """GET the page twice and count the second (steady-state) request's statements."""
    assert client.get(url).status_code == 200
    with statement_counter() as counter:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return counter.count, counter.report(), response.get_data(as_text=True)


def _assert_within_budget(counts: dict[int, tuple[int, str]], budget: int = BUDGET) -> None:
    (small, small_sql), (large, large_sql) = counts[SIZES[0]], counts[SIZES[1]]
    print(f"statements: {small} with {SIZES[0]} rows, {large} with {SIZES[1]} rows (budget {budget})")
    assert small == large, (f"statements grow with rows: {small} for {SIZES[0]} rows, {large} for {SIZES[1]}:\n"
                            f"--- {SIZES[0]} rows\n{small_sql}\n--- {SIZES[1]} rows\n{large_sql}")
    assert large <= budget, f"{large} statements, budget {budget}:\n{large_sql}"


def _contact_history_entries(page: str) -> int:
    """How many entries the family's contact history lists (the <li> items of its list)."""
    history = page.split('class="contact-list"', 1)
    return history[1].split("</ul>", 1)[0].count("<li>") if len(history) == 2 else 0


def _url(app, endpoint: str, **values) -> str:
    with app.test_request_context():
        return url_for(endpoint, **values)


def test_family_case_page_runs_a_fixed_small_number_of_statements(app, client, db, statement_counter):
    liaison = factories.make_user(role="liaison")
    backup = factories.make_user(role="liaison")
    user, member, case = factories.make_family(liaison=liaison)
    case.backup_liaison_id = backup.id
    db.session.commit()
    for weekday in range(7):  # open times every day: the page looks for the next one (windows, days off, bookings)
        sf.make_window(liaison=liaison, weekday=weekday)
    sign_in(client, user)
    url, counts, have = _url(app, "family.case", case_id=case.id), {}, 0
    for size in SIZES:
        _grow_case(db, case, member, have, size)
        have = size
        count, sql, page = _count_page(client, url, statement_counter)
        assert _contact_history_entries(page) >= size, "the contact history does not list every contact"
        counts[size] = (count, sql)
    _assert_within_budget(counts)


def test_staff_case_page_runs_a_fixed_small_number_of_statements(app, client, db, statement_counter):
    liaison = factories.make_user(role="liaison")
    backup = factories.make_user(role="liaison")
    case = factories.make_case(liaison=liaison, backup=backup)
    member = factories.make_family_member(case=case)
    sign_in(client, liaison)
    url, counts, have = _url(app, "staff.case", case_id=case.id), {}, 0
    for size in SIZES:
        _grow_case(db, case, member, have, size)
        have = size
        count, sql, page = _count_page(client, url, statement_counter)
        assert f"Update {size - 1}<" in page, "the timeline does not list every update"
        counts[size] = (count, sql)
    # Two more than a list page: every member's consent history, and how many texts wait for each one's yes.
    _assert_within_budget(counts, budget=BUDGET + 2)


@pytest.mark.parametrize("viewer", ["liaison", "supervisor"])  # a supervisor's home page covers the whole agency
def test_staff_dashboard_runs_a_fixed_small_number_of_statements(app, client, db, statement_counter, viewer):
    liaison = factories.make_user(role="liaison")
    sign_in(client, liaison if viewer == "liaison" else factories.make_user(role="supervisor"))
    url, counts, have = _url(app, "staff.dashboard"), {}, 0
    for size in SIZES:
        _grow_caseload(db, liaison, have, size)
        have = size
        count, sql, page = _count_page(client, url, statement_counter)
        assert "Decedent" in page
        counts[size] = (count, sql)
    _assert_within_budget(counts)


# Both lead lists: the staff triage queue and the family's own list of what they sent.
LEAD_LIST_ENDPOINTS = ("staff.lead_queue", "family.leads")


@pytest.mark.parametrize("endpoint", LEAD_LIST_ENDPOINTS)
def test_lead_list_runs_a_fixed_small_number_of_statements(app, client, db, statement_counter, endpoint):
    assert endpoint in {rule.endpoint for rule in app.url_map.iter_rules()}, f"no {endpoint} route any more"
    staff_side = endpoint.startswith("staff.")
    liaison = factories.make_user(role="liaison")
    user, member, case = factories.make_family(liaison=liaison)
    sign_in(client, liaison if staff_side else user)
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    args = {"case_id": case.id} if "case_id" in rule.arguments else {}
    unknown = set(rule.arguments) - set(args)
    assert not unknown, f"{endpoint} takes {unknown}; teach this test how to fill them"
    url, counts, have = _url(app, endpoint, **args), {}, 0
    for size in SIZES:
        staff = _staff(db, size - have)
        base = next(_serial) * 100_000
        now = utcnow()
        db.session.execute(insert(Lead), [
            dict(reference=f"L{base + i}", case_id=case.id, family_member_id=member.id, submitted_by_id=user.id,
                 is_anonymous=False, people=[], last_48_hours="", supplier="", phone_and_accounts="",
                 details=f"Lead {base + i}", status="new", assigned_to_id=sid, created_at=now - timedelta(minutes=i),
                 updated_at=now) for i, sid in enumerate(staff)])
        db.session.commit()
        have = size
        count, sql, page = _count_page(client, url, statement_counter)
        listed = len(re.findall(r">(?:<strong>)?L\d+<", page))
        assert listed == (min(size, 50) if staff_side else size), f"{listed} leads listed"  # staff: 50 a page
        counts[size] = (count, sql)
    _assert_within_budget(counts)
