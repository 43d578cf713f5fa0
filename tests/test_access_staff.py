"""Liaisons see their caseload only; supervisors and admins see every case; each staff view is audited."""
import pytest
from sqlalchemy import select

from portal import access
from portal.models import AuditEvent

from . import factories


@pytest.fixture
def caseload():
    a = factories.make_user(role="liaison")
    b = factories.make_user(role="liaison")
    case_a = factories.make_case(liaison=a, number="A-1")
    case_backup = factories.make_case(liaison=b, backup=a, number="B-BACKUP-A")
    case_b = factories.make_case(liaison=b, number="B-1")
    return a, b, case_a, case_backup, case_b


def test_liaison_b_gets_404_on_liaison_as_case(client, login_as, db):
    liaison_a = factories.make_user(role="liaison")
    case = factories.make_case(liaison=liaison_a)
    login_as("liaison")
    assert client.get(f"/staff/cases/{case.id}").status_code == 404


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_see_every_case(client, login_as, role):
    case = factories.make_case(liaison=factories.make_user(role="liaison"), number="ANY-1")
    login_as(role)
    assert client.get(f"/staff/cases/{case.id}").status_code == 200
    assert "ANY-1" in client.get("/staff/").get_data(as_text=True)


def test_cases_visible_to_follows_liaison_and_backup(db, caseload):
    a, b, case_a, case_backup, case_b = caseload
    visible = {c.case_number for c in db.session.scalars(access.cases_visible_to(a))}
    assert visible == {"A-1", "B-BACKUP-A"}
    assert access.can_view_case(a, case_backup) and not access.can_view_case(a, case_b)


def test_family_and_inactive_users_see_nothing_else(db, caseload):
    _a, _b, case_a, _backup, _case_b = caseload
    user, _member, own = factories.make_family()
    assert [c.id for c in db.session.scalars(access.cases_visible_to(user))] == [own.id]
    inactive = factories.make_user(role="supervisor", active=False)
    assert db.session.scalars(access.cases_visible_to(inactive)).all() == []
    assert not access.can_view_case(inactive, case_a)


def test_every_staff_view_of_a_case_is_audited(client, login_as, db):
    liaison = login_as("liaison")
    case = factories.make_case(liaison=liaison)
    client.get(f"/staff/cases/{case.id}")
    client.get(f"/staff/cases/{case.id}")
    views = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.view")).all()
    assert len(views) == 2
    assert {(v.actor_id, v.target_type, v.target_id) for v in views} == {(liaison.id, "cases", str(case.id))}
