"""Every decision in portal/access.py, for every kind of person, row by row: exactly what each one is answered.

One world holds, for every query and every get_*_or_404, rows that some people must see and others must not: three
cases (A with a liaison and a backup, B with another liaison, C whose liaison is inactive), relatives linked and
unlinked, leads sent by a relative, by their sibling, anonymously, and by someone no longer on the case, files,
questions, tip links, appointments (one booked with a liaison on a case they no longer see), contacts,
availability, accounts, a resource and received texts. Each test asks one function on behalf of every person and
compares the whole answer, by name, with the table it must equal (set equality: a deny branch that answers
everything, or a check that is dropped, changes some row of some person). A 404 must be exactly NotFound.

The people include the ones a request never carries today but that access.py must refuse on its own: None, the
anonymous user, an inactive account of each kind, an account whose role access.py does not know, and stand-ins
that carry a real account's id and role but are not signed in (is_authenticated False, or no such attribute).
`make mutation` runs mutmut over access.py with these tests (docs/MUTATION.md).
"""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from flask_login import AnonymousUserMixin
from werkzeug.exceptions import NotFound

from portal import access
from portal.extensions import db
from portal.models import Appointment, Case, FamilyMember, Lead, User, utcnow

from . import factories, staff_factories
from . import family_factories as ffac

# A SQLAlchemy warning in a decision is a wrong query (a NULL identity look-up, a cartesian product...): fail on it.
pytestmark = pytest.mark.filterwarnings("error::sqlalchemy.exc.SAWarning")

PEOPLE = (
    "nobody", "anonymous", "signed_out_admin", "signed_out_family", "unclaimed_admin", "unclaimed_family",
    "inactive_claiming_admin", "inactive_claiming_family",
    "unknown_role", "family_a", "sibling_a", "family_b", "former", "inactive_family",
    "liaison_a", "backup_a", "liaison_b", "inactive_liaison", "supervisor", "admin", "inactive_supervisor",
    "inactive_admin",
)
ACTIVE_STAFF = ("liaison_a", "backup_a", "liaison_b", "supervisor", "admin")
MISSING_ID = 987654


def _stand_in(user: User, **claims) -> SimpleNamespace:
    """A real account's id and role, as something that is not signed in (claims override; None drops one)."""
    fields = {"id": user.id, "role": user.role, "is_active": True, "is_staff": user.is_staff,
              "sees_all_cases": user.sees_all_cases, "is_authenticated": True, **claims}
    return SimpleNamespace(**{name: value for name, value in fields.items() if value is not None})


@pytest.fixture
def w(app):
    """The world: people by name, and rows by kind and name."""
    mk = factories.make_user
    liaison_a, backup_a, liaison_b = mk(role="liaison"), mk(role="liaison"), mk(role="liaison")
    inactive_liaison = mk(role="liaison", active=False)
    supervisor, admin = mk(role="supervisor"), mk(role="admin")
    inactive_supervisor, inactive_admin = mk(role="supervisor", active=False), mk(role="admin", active=False)
    family_a, sibling_a, family_b = mk(role="family"), mk(role="family"), mk(role="family")
    former, inactive_family = mk(role="family"), mk(role="family", active=False)

    case_a = factories.make_case(liaison=liaison_a, backup=backup_a, number="A")
    case_b = factories.make_case(liaison=liaison_b, number="B")
    case_c = factories.make_case(liaison=inactive_liaison, number="C")
    cases = {"A": case_a, "B": case_b, "C": case_c}

    fm = factories.make_family_member
    members = {
        "m_a": fm(case=case_a, user=family_a), "m_sib": fm(case=case_a, user=sibling_a),
        # the former relative's row stays on the case, unlinked from their account
        "m_former": fm(case=case_a), "m_inactive": fm(case=case_a, user=inactive_family),
        "m_b": fm(case=case_b, user=family_b), "m_c": fm(case=case_c),
    }
    m = members

    lead = ffac.make_lead
    leads = {
        "l_a": lead(case=case_a, member=m["m_a"]),
        "l_a_anon": lead(case=case_a, member=m["m_a"], anonymous=True, submitted_by_id=family_a.id),
        "l_a_on_b": lead(case=case_b, submitted_by_id=family_a.id),  # sent by family_a to a case not theirs
        "l_sib": lead(case=case_a, member=m["m_sib"]),
        "tip_a": lead(case=case_a, anonymous=True),
        "l_former": lead(case=case_a, member=m["m_former"], submitted_by_id=former.id),
        "l_inactive": lead(case=case_a, member=m["m_inactive"]),
        "l_b": lead(case=case_b, member=m["m_b"]),
        "tip_c": lead(case=case_c, anonymous=True),
    }
    files = {"f_a": ffac.make_attachment(lead=leads["l_a"], app=app),
             "f_tip_a": ffac.make_attachment(lead=leads["tip_a"], app=app),
             "f_b": ffac.make_attachment(lead=leads["l_b"], app=app)}
    questions = {"q_a": ffac.make_question(lead=leads["l_a"]), "q_tip_a": ffac.make_question(lead=leads["tip_a"]),
                 "q_b": ffac.make_question(lead=leads["l_b"])}
    tip_links = {"t_a": ffac.make_tip_link(case=case_a, member=m["m_a"])[0],
                 "t_b": ffac.make_tip_link(case=case_b)[0], "t_c": ffac.make_tip_link(case=case_c)[0]}

    hours = iter(range(1, 100))

    def ap(**fields):  # each at its own hour: one liaison cannot hold two bookings at the same time
        if fields.get("kind") != "callback":
            fields["starts_at"] = (utcnow() + timedelta(days=3, hours=next(hours))).replace(minute=0, second=0,
                                                                                         microsecond=0)
        return ffac.make_appointment(**fields)

    appointments = {
        "ap_a": ap(case=case_a, member=m["m_a"]), "ap_a_backup": ap(case=case_a, member=m["m_a"], liaison=backup_a),
        "ap_sib": ap(case=case_a, member=m["m_sib"]), "ap_former": ap(case=case_a, member=m["m_former"]),
        "ap_a_nomember": ap(case=case_a, kind="callback"),
        # family_a's member row on an appointment of another case: the family opens it only on their own case
        "ap_cross": ap(case=case_b, member=m["m_a"]),
        "ap_b": ap(case=case_b, member=m["m_b"]),
        "ap_c_with_a": ap(case=case_c, member=m["m_c"], liaison=liaison_a),  # booked with liaison_a, case C
        "ap_c": ap(case=case_c, member=m["m_c"]),
    }
    outreach = {name: factories.make_outreach(case=case) for name, case in
                (("o_a", case_a), ("o_b", case_b), ("o_c", case_c))}
    windows = {"w_a": ffac.make_window(liaison=liaison_a), "w_b": ffac.make_window(liaison=liaison_b),
               "w_sup": ffac.make_window(liaison=supervisor), "w_inactive": ffac.make_window(liaison=inactive_liaison)}
    exceptions = {"e_a": staff_factories.make_exception(liaison=liaison_a),
                  "e_b": staff_factories.make_exception(liaison=liaison_b),
                  "e_sup": staff_factories.make_exception(liaison=supervisor),
                  "e_inactive": staff_factories.make_exception(liaison=inactive_liaison)}
    inbound = {"in_unmatched": factories.make_inbound_sms(),
               "in_keyword": factories.make_inbound_sms(handling="keyword"),  # no case: nobody opens it
               "in_a": factories.make_inbound_sms(member=m["m_a"]),
               "in_a_keyword": factories.make_inbound_sms(member=m["m_a"], handling="keyword"),
               "in_b": factories.make_inbound_sms(member=m["m_b"]), "in_c": factories.make_inbound_sms(member=m["m_c"])}

    people = {
        "nobody": None, "anonymous": AnonymousUserMixin(),
        "signed_out_admin": _stand_in(admin, is_authenticated=False),
        "signed_out_family": _stand_in(family_a, is_authenticated=False),
        "unclaimed_admin": _stand_in(admin, is_authenticated=None),
        "unclaimed_family": _stand_in(family_a, is_authenticated=None),
        # an inactive account that says it is signed in (UserMixin would not, today): access.py checks both
        "inactive_claiming_admin": _stand_in(inactive_admin, is_active=False),
        "inactive_claiming_family": _stand_in(inactive_family, is_active=False),
        # a role access.py does not know, carrying liaison_a's id (never saved: the role is not allowed there)
        "unknown_role": User(id=liaison_a.id, role="auditor", active=True, email="auditor@test.example"),
        "family_a": family_a, "sibling_a": sibling_a, "family_b": family_b, "former": former,
        "inactive_family": inactive_family, "liaison_a": liaison_a, "backup_a": backup_a, "liaison_b": liaison_b,
        "inactive_liaison": inactive_liaison, "supervisor": supervisor, "admin": admin,
        "inactive_supervisor": inactive_supervisor, "inactive_admin": inactive_admin,
    }
    assert set(people) == set(PEOPLE)
    return SimpleNamespace(people=people, cases=cases, members=members, leads=leads, files=files,
                           questions=questions, tip_links=tip_links, appointments=appointments, outreach=outreach,
                           windows=windows, exceptions=exceptions, inbound=inbound,
                           accounts={"liaison_a": liaison_a, "supervisor": supervisor, "admin": admin,
                                     "inactive_liaison": inactive_liaison, "family_a": family_a},
                           resources={"r1": staff_factories.make_resource()})


def _table(**rows) -> dict[str, set[str]]:
    """Nobody answered anything, except the people named (a string of space-separated row names each)."""
    unknown = set(rows) - set(PEOPLE)
    assert not unknown, unknown
    return {person: set(rows.get(person, "").split()) for person in PEOPLE}


def _query_table(w, query, model, rows: dict) -> dict[str, set[str]]:
    """What the SELECT that query(person) builds answers, by row name, for every person."""
    name_of = {row.id: name for name, row in rows.items()}
    answered = {}
    for person, user in w.people.items():
        stmt = query(user)
        # Even an empty answer is a query of that model, so callers can go on with .where/.options on it.
        assert stmt.column_descriptions[0]["entity"] is model, person
        answered[person] = {name_of[row.id] for row in db.session.scalars(stmt).unique()}
    return answered


def _opened(call) -> bool:
    try:
        call()
    except NotFound:
        return False
    return True


def _open_table(w, getter, rows: dict, row_id=lambda row: row.id) -> dict[str, set[str]]:
    """Which rows getter(person, id) opens rather than answering 404, for every person."""
    table = {}
    for person, user in w.people.items():
        opened = set()
        for name, row in rows.items():
            result = None

            def call(user=user, row=row):
                nonlocal result
                result = getter(user, row_id(row))

            if _opened(call):
                assert result is row or result == row, (person, name, result)
                opened.add(name)
        table[person] = opened
    return table


def _everyone_gets_404_for_a_missing_id(w, getter) -> None:
    for person, user in w.people.items():
        assert not _opened(lambda user=user: getter(user, MISSING_ID)), person


CASES_SEEN = _table(family_a="A", sibling_a="A", family_b="B", liaison_a="A", backup_a="A", liaison_b="B",
                    supervisor="A B C", admin="A B C")
A_MEMBERS = "m_a m_sib m_former m_inactive"
ALL_MEMBERS = A_MEMBERS + " m_b m_c"
A_LEADS = "l_a l_a_anon l_sib tip_a l_former l_inactive"
B_LEADS = "l_a_on_b l_b"
ALL_LEADS = f"{A_LEADS} {B_LEADS} tip_c"
A_APPOINTMENTS = "ap_a ap_a_backup ap_sib ap_former ap_a_nomember"
ALL_APPOINTMENTS = f"{A_APPOINTMENTS} ap_cross ap_b ap_c_with_a ap_c"


# --- Cases -------------------------------------------------------------------------------------------------------

def test_cases_visible_to(w):
    assert _query_table(w, access.cases_visible_to, Case, w.cases) == CASES_SEEN


def test_can_view_case(w):
    table = {person: {name for name, case in w.cases.items() if access.can_view_case(user, case)}
             for person, user in w.people.items()}
    assert table == CASES_SEEN
    assert not any(access.can_view_case(user, None) for user in w.people.values())


def test_get_case_or_404(w):
    assert _open_table(w, access.get_case_or_404, w.cases) == CASES_SEEN
    _everyone_gets_404_for_a_missing_id(w, access.get_case_or_404)


def test_family_member_for(w):
    table = {}
    for person, user in w.people.items():
        found = {case_name: access.family_member_for(user, case) for case_name, case in w.cases.items()}
        names = {member.id: name for name, member in w.members.items()}
        table[person] = {f"{case_name}:{names[member.id]}" for case_name, member in found.items() if member}
    assert table == _table(family_a="A:m_a", sibling_a="A:m_sib", family_b="B:m_b")


def test_get_own_case_or_404(w):
    table = {}
    member_names = {member.id: name for name, member in w.members.items()}
    for person, user in w.people.items():
        table[person] = set()
        for case_name, case in w.cases.items():
            answer = []
            if _opened(lambda user=user, case=case, answer=answer: answer.append(
                    access.get_own_case_or_404(user, case.id))):
                own_case, member = answer[0]
                assert own_case is case and member.user_id == user.id
                table[person].add(f"{case_name}:{member_names[member.id]}")
    assert table == _table(family_a="A:m_a", sibling_a="A:m_sib", family_b="B:m_b")
    _everyone_gets_404_for_a_missing_id(w, access.get_own_case_or_404)


def test_get_family_member_or_404(w):
    table = _open_table(w, access.get_family_member_or_404, w.members)
    assert table == _table(family_a="m_a", sibling_a="m_sib", family_b="m_b", liaison_a=A_MEMBERS,
                           backup_a=A_MEMBERS, liaison_b="m_b", supervisor=ALL_MEMBERS, admin=ALL_MEMBERS)
    _everyone_gets_404_for_a_missing_id(w, access.get_family_member_or_404)


def test_family_members_linkable_by(w):
    table = _query_table(w, access.family_members_linkable_by, FamilyMember, w.members)
    assert table == _table(liaison_a=A_MEMBERS, backup_a=A_MEMBERS, liaison_b="m_b", supervisor=ALL_MEMBERS,
                           admin=ALL_MEMBERS)


# --- Roles ---------------------------------------------------------------------------------------------------------

def _passes(w, check) -> set[str]:
    return {person for person, user in w.people.items() if _opened(lambda user=user: check(user))}


def test_require_staff_and_roles(w):
    assert _passes(w, access.require_staff) == set(ACTIVE_STAFF)
    assert _passes(w, access.require_supervisor) == {"supervisor", "admin"}
    assert _passes(w, access.require_admin) == {"admin"}
    assert _passes(w, lambda user: access.require_role(user, "family")) == {"family_a", "sibling_a", "family_b",
                                                                            "former"}
    assert _passes(w, lambda user: access.require_role(user, "liaison", "admin")) == {"liaison_a", "backup_a",
                                                                                      "liaison_b", "admin"}
    assert _passes(w, lambda user: access.require_role(user)) == set()


# --- Leads, files, questions, tip links -----------------------------------------------------------------------

LEADS_OPENED = _table(family_a="l_a", sibling_a="l_sib", family_b="l_b", liaison_a=A_LEADS, backup_a=A_LEADS,
                      liaison_b=B_LEADS, supervisor=ALL_LEADS, admin=ALL_LEADS)


def test_leads_visible_to(w):
    assert _query_table(w, access.leads_visible_to, Lead, w.leads) == _table(
        liaison_a=A_LEADS, backup_a=A_LEADS, liaison_b=B_LEADS, supervisor=ALL_LEADS, admin=ALL_LEADS)


def test_leads_submitted_by(w):
    assert _query_table(w, access.leads_submitted_by, Lead, w.leads) == _table(
        family_a="l_a", sibling_a="l_sib", family_b="l_b")


def test_can_view_lead(w):
    table = {person: {name for name, lead in w.leads.items() if access.can_view_lead(user, lead)}
             for person, user in w.people.items()}
    assert table == LEADS_OPENED
    assert not any(access.can_view_lead(user, None) for user in w.people.values())


def test_get_lead_or_404(w):
    assert _open_table(w, access.get_lead_or_404, w.leads) == LEADS_OPENED
    _everyone_gets_404_for_a_missing_id(w, access.get_lead_or_404)


FILES_OPENED = _table(family_a="f_a", family_b="f_b", liaison_a="f_a f_tip_a", backup_a="f_a f_tip_a",
                      liaison_b="f_b", supervisor="f_a f_tip_a f_b", admin="f_a f_tip_a f_b")


def test_get_lead_attachment_or_404(w):
    assert _open_table(w, access.get_lead_attachment_or_404, w.files) == FILES_OPENED
    _everyone_gets_404_for_a_missing_id(w, access.get_lead_attachment_or_404)


def test_get_attachment_or_404(w):
    opened = _open_table(w, lambda user, f: access.get_attachment_or_404(user, f.lead_id, f.id), w.files,
                         row_id=lambda f: f)
    assert opened == FILES_OPENED
    # The address names a lead the person may see, and a file of another lead they may also see: 404.
    wrong_lead = w.leads["l_sib"].id
    mismatched = {"f_a": w.files["f_a"], "f_tip_a": w.files["f_tip_a"]}
    assert _open_table(w, lambda user, f: access.get_attachment_or_404(user, wrong_lead, f.id), mismatched,
                       row_id=lambda f: f) == _table()
    _everyone_gets_404_for_a_missing_id(w, lambda user, missing: access.get_attachment_or_404(
        user, w.leads["l_a"].id, missing))


def test_can_download_originals(w):
    assert {person for person, user in w.people.items() if access.can_download_originals(user)} == \
        {"supervisor", "admin"}


def test_get_original_or_404(w, app):
    assert _open_table(w, access.get_original_or_404, w.files) == _table(supervisor="f_a f_tip_a f_b",
                                                                        admin="f_a f_tip_a f_b")
    _everyone_gets_404_for_a_missing_id(w, access.get_original_or_404)
    # A file received before originals were kept has none to give, even to an admin.
    legacy = {"f_legacy": ffac.make_attachment(lead=w.leads["l_a"], app=app, original=None)}
    assert _open_table(w, access.get_original_or_404, legacy) == _table()


def test_get_lead_question_or_404(w):
    assert _open_table(w, access.get_lead_question_or_404, w.questions) == _table(
        family_a="q_a", family_b="q_b", liaison_a="q_a q_tip_a", backup_a="q_a q_tip_a", liaison_b="q_b",
        supervisor="q_a q_tip_a q_b", admin="q_a q_tip_a q_b")
    _everyone_gets_404_for_a_missing_id(w, access.get_lead_question_or_404)


def test_get_tip_link_or_404(w):
    # A family's tip links are theirs to share: every relative on the case sees them.
    assert _open_table(w, access.get_tip_link_or_404, w.tip_links) == _table(
        family_a="t_a", sibling_a="t_a", family_b="t_b", liaison_a="t_a", backup_a="t_a", liaison_b="t_b",
        supervisor="t_a t_b t_c", admin="t_a t_b t_c")
    _everyone_gets_404_for_a_missing_id(w, access.get_tip_link_or_404)


# --- Appointments, contacts, availability ---------------------------------------------------------------------

def test_appointments_visible_to(w):
    assert _query_table(w, access.appointments_visible_to, Appointment, w.appointments) == _table(
        liaison_a=f"{A_APPOINTMENTS} ap_c_with_a", backup_a=A_APPOINTMENTS, liaison_b="ap_cross ap_b",
        supervisor=ALL_APPOINTMENTS, admin=ALL_APPOINTMENTS)


def test_get_appointment_or_404(w):
    assert _open_table(w, access.get_appointment_or_404, w.appointments) == _table(
        family_a="ap_a ap_a_backup", sibling_a="ap_sib", family_b="ap_b",
        liaison_a=f"{A_APPOINTMENTS} ap_c_with_a", backup_a=A_APPOINTMENTS, liaison_b="ap_cross ap_b",
        supervisor=ALL_APPOINTMENTS, admin=ALL_APPOINTMENTS)
    _everyone_gets_404_for_a_missing_id(w, access.get_appointment_or_404)


def test_get_outreach_or_404(w):
    assert _open_table(w, access.get_outreach_or_404, w.outreach) == _table(
        liaison_a="o_a", backup_a="o_a", liaison_b="o_b", supervisor="o_a o_b o_c", admin="o_a o_b o_c")
    _everyone_gets_404_for_a_missing_id(w, access.get_outreach_or_404)


def test_can_manage_availability_of(w):
    staff = {name: w.people[name] for name in ("liaison_a", "backup_a", "liaison_b", "supervisor",
                                               "inactive_liaison")}
    table = {person: {name for name, of in staff.items() if access.can_manage_availability_of(user, of.id)}
             for person, user in w.people.items()}
    everyone = "liaison_a backup_a liaison_b supervisor inactive_liaison"
    assert table == _table(liaison_a="liaison_a", backup_a="backup_a", liaison_b="liaison_b",
                           supervisor=everyone, admin=everyone)


AVAILABILITY = {"liaison_a": "{}_a", "liaison_b": "{}_b", "supervisor": "{0}_a {0}_b {0}_sup {0}_inactive",
                "admin": "{0}_a {0}_b {0}_sup {0}_inactive"}


def test_get_availability_window_or_404(w):
    assert _open_table(w, access.get_availability_window_or_404, w.windows) == _table(
        **{person: rows.format("w") for person, rows in AVAILABILITY.items()})
    _everyone_gets_404_for_a_missing_id(w, access.get_availability_window_or_404)


def test_get_availability_exception_or_404(w):
    assert _open_table(w, access.get_availability_exception_or_404, w.exceptions) == _table(
        **{person: rows.format("e") for person, rows in AVAILABILITY.items()})
    _everyone_gets_404_for_a_missing_id(w, access.get_availability_exception_or_404)


# --- Admin and texts -----------------------------------------------------------------------------------------

def test_get_staff_account_or_404(w):
    # An admin opens every staff account, an inactive one too (to reactivate it); never a family's account.
    assert _open_table(w, access.get_staff_account_or_404, w.accounts) == _table(
        admin="liaison_a supervisor admin inactive_liaison")
    _everyone_gets_404_for_a_missing_id(w, access.get_staff_account_or_404)


def test_get_resource_or_404(w):
    assert _open_table(w, access.get_resource_or_404, w.resources) == _table(admin="r1")
    _everyone_gets_404_for_a_missing_id(w, access.get_resource_or_404)


def test_get_inbound_sms_or_404(w):
    # An unmatched text belongs to no case yet: every staff member may open it to link it.
    everyone = "in_unmatched in_a in_a_keyword in_b in_c"
    assert _open_table(w, access.get_inbound_sms_or_404, w.inbound) == _table(
        liaison_a="in_unmatched in_a in_a_keyword", backup_a="in_unmatched in_a in_a_keyword",
        liaison_b="in_unmatched in_b", supervisor=everyone, admin=everyone)
    _everyone_gets_404_for_a_missing_id(w, access.get_inbound_sms_or_404)


def test_get_text_picture_or_404(w):
    # A stored picture opens for whoever may open its text; one still being fetched or refused opens for nobody.
    pictures = {f"p_{name}": factories.make_text_picture(inbound=inbound) for name, inbound in w.inbound.items()}
    pictures["p_pending"] = factories.make_text_picture(inbound=w.inbound["in_unmatched"], status="pending",
                                                        position=1)
    pictures["p_rejected"] = factories.make_text_picture(inbound=w.inbound["in_a"], status="rejected", position=1)
    everyone = "p_in_unmatched p_in_a p_in_a_keyword p_in_b p_in_c"
    assert _open_table(w, access.get_text_picture_or_404, pictures) == _table(
        liaison_a="p_in_unmatched p_in_a p_in_a_keyword", backup_a="p_in_unmatched p_in_a p_in_a_keyword",
        liaison_b="p_in_unmatched p_in_b", supervisor=everyone, admin=everyone)
    _everyone_gets_404_for_a_missing_id(w, access.get_text_picture_or_404)


# --- The mutation run (make mutation) -----------------------------------------------------------------------

def test_the_mutation_run_mutates_access_py_against_every_access_test():
    from configparser import ConfigParser
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    config = ConfigParser()
    config.read(root / "setup.cfg")
    assert config.get("mutmut", "only_mutate").split() == ["portal/access.py"]
    selected = set(config.get("mutmut", "pytest_add_cli_args_test_selection").split())
    assert selected == {f"tests/{path.name}" for path in (root / "tests").glob("test_access_*.py")}
