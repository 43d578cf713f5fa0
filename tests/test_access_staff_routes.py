"""Every staff route: liaison B gets 404 for each of liaison A's records; each role's pages render with real data."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from portal.models import AuditEvent, utcnow

from . import factories
from . import staff_factories as sf
from .conftest import csrf_from, sign_in

SUPERVISOR_ONLY = {"staff.reports", "staff.report_csv", "staff.audit_log", "staff.audit_csv",
                   "staff.lead_attachment_original",  # a file's untouched original
                   "staff.legal_holds"}  # the list of cases on legal hold
ADMIN_ONLY = {"staff.security_accounts"}  # sign-in security (unlock, MFA reset): admins only, 404 for others


def _admin_only(endpoint: str) -> bool:
    return endpoint.startswith("staff.admin") or endpoint in ADMIN_ONLY


@pytest.fixture
def world(app):
    """Liaison A's caseload with one of everything; liaison B, a supervisor and an admin."""
    a = factories.make_user(role="liaison", name="Liaison A")
    b = factories.make_user(role="liaison", name="Liaison B")
    supervisor = factories.make_user(role="supervisor")
    admin = factories.make_user(role="admin")
    case = factories.make_case(liaison=a, number="A-0001", decedent="Secret Decedent")
    family_user, member, _ = factories.make_family(case=case, name="Ana Peña")
    outreach = factories.make_outreach(case=case, member=member, staff=a)
    lead = sf.make_lead(case=case, member=member, details="The supplier is called Flaco")
    stored = "a0" * 20  # stored names are 40 random hex digits
    Path(app.config["UPLOAD_DIR"], stored).write_bytes(b"\xff\xd8\xff fake jpeg")
    attachment = sf.make_attachment(lead=lead, stored_name=stored, original_name="phone.jpg",
                                    original=b"\xff\xd8\xff fake jpeg with its EXIF")
    question = sf.make_question(lead=lead, answer="His cousin", answered_at=utcnow())
    appointment = sf.make_appointment(case=case, member=member, liaison=a,
                                      starts_at=utcnow() - timedelta(hours=2), ends_at=utcnow() - timedelta(hours=1))
    sf.make_appointment(case=case, member=member, kind="callback", status="requested", callback_window="Evenings")
    window = sf.make_window(liaison=a)
    exception = sf.make_exception(liaison=a)
    resource = sf.make_resource()
    inbound = factories.make_inbound_sms(member=member, body="Flaco was there")  # a text in A's conversation
    factories.make_case(liaison=b, number="B-0001")
    ids = {"case_id": case.id, "member_id": member.id, "outreach_id": outreach.id, "lead_id": lead.id,
           "attachment_id": attachment.id, "question_id": question.id, "appointment_id": appointment.id,
           "window_id": window.id, "exception_id": exception.id, "resource_id": resource.id, "user_id": a.id,
           "update_id": factories.make_update(case=case).id, "inbound_id": inbound.id,
           "media_id": factories.make_text_picture(inbound=inbound).id}
    return {"a": a, "b": b, "supervisor": supervisor, "admin": admin, "family": family_user, "ids": ids,
            "case": case}


def _staff_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("staff."):
            yield rule


def _build(rule, ids):
    values = {}
    for name, conv in rule._converters.items():
        if isinstance(conv, IntegerConverter):
            assert name in ids, f"add {name} to the world fixture's ids"
            values[name] = ids[name]
        else:
            values[name] = "compliance"
    return rule.build(values)[1]


def test_liaison_b_gets_404_for_every_route_with_liaison_as_records(app, client, world):
    sign_in(client, world["b"])
    token = csrf_from(client.get("/staff/").get_data(as_text=True))
    checked = []
    for rule in _staff_rules(app):
        if not any(isinstance(c, IntegerConverter) for c in rule._converters.values()):
            continue
        url = _build(rule, world["ids"])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.get(url) if method == "GET" else client.open(url, method=method,
                                                                             data={"csrf_token": token})
            assert response.status_code == 404, f"{method} {url} answered {response.status_code}"
            body = response.get_data(as_text=True)
            assert "Secret Decedent" not in body and "Flaco" not in body
            checked.append(f"{method} {rule.rule}")
    assert len(checked) >= 25, checked


@pytest.mark.parametrize("role", ["a", "supervisor", "admin"])
def test_every_staff_page_renders_for_those_allowed_and_is_404_for_others(app, client, world, role):
    user = world[role]
    sign_in(client, user)
    seen = 0
    for rule in _staff_rules(app):
        if "GET" not in rule.methods:
            continue
        url = _build(rule, world["ids"])
        allowed = True
        if _admin_only(rule.endpoint):
            allowed = user.role == "admin"
        elif rule.endpoint in SUPERVISOR_ONLY:
            allowed = user.role in ("supervisor", "admin")
        response = client.get(url)
        assert response.status_code == (200 if allowed else 404), f"{role} GET {url}: {response.status_code}"
        seen += allowed
    assert seen >= 10


def test_supervisor_sees_liaison_as_case_and_each_view_is_audited(app, client, world):
    sign_in(client, world["supervisor"])
    case_id = world["ids"]["case_id"]
    assert client.get(f"/staff/cases/{case_id}").status_code == 200
    assert client.get(f"/staff/leads/{world['ids']['lead_id']}").status_code == 200
    from portal.extensions import db

    events = {(e.action, e.target_type, e.actor_id) for e in db.session.scalars(select(AuditEvent))}
    assert ("case.view", "cases", world["supervisor"].id) in events
    assert ("lead.view", "leads", world["supervisor"].id) in events


def test_family_and_anonymous_visitors_never_reach_staff_pages(app, client, world):
    assert client.get("/staff/").status_code in (302, 401)  # anonymous: to the sign-in page
    assert client.get(f"/staff/attachments/{world['ids']['attachment_id']}").status_code in (302, 401)
    sign_in(client, world["family"])
    for url in ("/staff/", "/staff/leads", f"/staff/attachments/{world['ids']['attachment_id']}", "/staff/reports",
                "/staff/audit", "/staff/admin/users"):
        assert client.get(url).status_code == 404, url


CASE_RECORD_IDS = {"case_id", "member_id", "outreach_id", "lead_id", "attachment_id"}


def test_every_staff_page_showing_a_case_or_its_records_writes_an_audit_event(app, client, world):
    from portal.extensions import db

    sign_in(client, world["supervisor"])
    checked = []
    for rule in _staff_rules(app):
        if "GET" not in rule.methods or not CASE_RECORD_IDS & set(rule._converters):
            continue
        db.session.commit()
        last = db.session.scalar(select(func.max(AuditEvent.id))) or 0
        assert client.get(_build(rule, world["ids"])).status_code == 200
        db.session.commit()
        new = db.session.scalars(select(AuditEvent).where(AuditEvent.id > last)).all()
        assert any(e.actor_id == world["supervisor"].id and e.action.endswith((".view", ".download"))
                   for e in new), (rule.rule, [e.action for e in new])
        checked.append(rule.rule)
    assert len(checked) >= 6, checked
