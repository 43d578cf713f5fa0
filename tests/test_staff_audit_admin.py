"""The audit log (filters, CSV), admin pages (staff accounts, agency settings, resources), CSV safety, digests."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, Notification, Resource, User, utcnow
from portal.services.agency import get_agency
from portal.services.digest import send_digests
from portal.services.exports import neutralize, to_csv

from . import factories
from .conftest import login, sign_in
from .html_pages import form_with_action


def _rows(response):
    assert response.data.startswith(b"\xef\xbb\xbf"), "no BOM: Excel would garble accents"
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


@pytest.mark.parametrize("cell", ["=1+2", "+1+2", "-1+2", "@SUM(A1)", "\t=1", "=HYPERLINK(\"http://x\")"])
def test_a_cell_that_could_be_a_formula_gets_an_apostrophe(cell):
    assert neutralize(cell) == "'" + cell
    assert neutralize("Peña =1") == "Peña =1" and neutralize(-5) == -5 and neutralize(None) == ""


def test_csv_is_utf8_with_a_bom_and_keeps_spanish_names():
    data = to_csv(["Nombre"], [["José Núñez"], ["=cmd|' /C calc'!A0"]])
    assert data.startswith("\ufeff".encode())
    assert list(csv.reader(io.StringIO(data.decode("utf-8-sig")))) == [
        ["Nombre"], ["José Núñez"], ["'=cmd|' /C calc'!A0"]]


@pytest.fixture
def supervisor(client):
    user = factories.make_user(role="supervisor", name="Sgt. Alex Lind")
    sign_in(client, user)
    return user


def test_audit_log_filters_and_exports_with_spanish_names_and_no_formulas(app, client, supervisor):
    spanish = factories.make_user(role="liaison", name="José Núñez", email="jose@test.example")
    evil = factories.make_user(role="liaison", name='=HYPERLINK("http://evil.example","click")')
    case = factories.make_case(liaison=spanish, backup=evil, decedent="Ana Peña")
    for who in (spanish, evil):
        other = app.test_client()
        sign_in(other, who)
        other.get(f"/staff/cases/{case.id}")
    login(app.test_client(), spanish.email, "wrong password for sure")
    page = client.get("/staff/audit?action=case.view").get_data(as_text=True)
    assert "José Núñez" in page and "case.view" in page and "auth.login" not in page.split("<tbody>")[1]
    failed = client.get("/staff/audit?outcome=failed").get_data(as_text=True)
    assert "auth.login" in failed.split("<tbody>")[1]
    only_jose = client.get(f"/staff/audit?actor=jose&target_type=cases&target_id={case.id}")
    body = only_jose.get_data(as_text=True).split("<tbody>")[1]
    assert "José Núñez" in body and "HYPERLINK" not in body

    response = client.get("/staff/audit.csv?action=case.view")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _rows(response)
    assert rows[0][:5] == ["When", "Who", "Email", "Role", "Action"]
    names = {row[1] for row in rows[1:]}
    assert names == {"José Núñez", "'=HYPERLINK(\"http://evil.example\",\"click\")"}
    assert all(row[4] == "case.view" for row in rows[1:])
    assert rows[1][0].endswith(("CST", "CDT"))  # agency time, labelled
    db.session.commit()
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "audit.export"))


def test_liaisons_cannot_read_the_audit_log(client):
    sign_in(client, factories.make_user(role="liaison"))
    assert client.get("/staff/audit").status_code == 404 and client.get("/staff/audit.csv").status_code == 404


@pytest.fixture
def admin(client):
    user = factories.make_user(role="admin", name="Pat Admin")
    sign_in(client, user)
    return user


def _submit(client, page, action, **values):
    form = form_with_action(client.get(page).get_data(as_text=True), action)
    response = client.post(form.action, data=form.data(**values))
    db.session.commit()
    return response


def test_an_admin_creates_a_staff_account_who_can_then_sign_in(app, client, admin):
    response = _submit(client, "/staff/admin/users", "/staff/admin/users", **{
        "new-name": "Officer Marta Gómez", "new-email": "marta@test.example", "new-role": "liaison",
        "new-phone": "(312) 555-0142", "new-password": "a long first password"})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "marta@test.example"))
    assert (user.name, user.role, user.phone, user.active) == ("Officer Marta Gómez", "liaison", "+13125550142", True)
    assert login(app.test_client(), "marta@test.example", "a long first password").status_code == 302
    short = _submit(client, "/staff/admin/users", "/staff/admin/users", **{
        "new-name": "X", "new-email": "x@test.example", "new-role": "liaison", "new-password": "short"})
    assert short.status_code == 422 and 'value="x@test.example"' in short.get_data(as_text=True)
    family = _submit(client, "/staff/admin/users", "/staff/admin/users", **{
        "new-name": "X", "new-email": "y@test.example", "new-role": "family", "new-password": "a long first password"})
    assert family.status_code == 422


def test_deactivating_signs_the_person_out_and_the_last_admin_stays(app, client, admin):
    liaison = factories.make_user(role="liaison")
    their_browser = app.test_client()
    sign_in(their_browser, liaison)
    assert their_browser.get("/staff/").status_code == 200
    _submit(client, f"/staff/admin/users/{liaison.id}", f"/staff/admin/users/{liaison.id}/active")
    assert db.session.get(User, liaison.id).active is False
    assert their_browser.get("/staff/").status_code == 302  # signed out, back to the sign-in page
    _submit(client, f"/staff/admin/users/{liaison.id}", f"/staff/admin/users/{liaison.id}/active")
    assert db.session.get(User, liaison.id).active is True

    refused = _submit(client, f"/staff/admin/users/{admin.id}", f"/staff/admin/users/{admin.id}/role",
                      **{"role-role": "liaison"})
    assert refused.status_code == 422 and "last active administrator" in refused.get_data(as_text=True)
    _submit(client, f"/staff/admin/users/{liaison.id}", f"/staff/admin/users/{liaison.id}/role",
            **{"role-role": "supervisor"})
    assert db.session.get(User, liaison.id).role == "supervisor"
    family_user, _member, _case = factories.make_family()
    assert client.get(f"/staff/admin/users/{family_user.id}").status_code == 404
    actions = {e.action for e in db.session.scalars(select(AuditEvent))}
    assert {"user.deactivate", "user.activate", "user.role_change"} <= actions


def test_agency_settings_change_the_contact_policy_at_once(client, admin):
    liaison = factories.make_user(role="liaison")
    case = factories.make_case(liaison=liaison, opened_at=utcnow() - timedelta(hours=13))
    factories.make_family_member(case=case)
    page = "/staff/admin/agency"
    bad = _submit(client, page, page, timezone="Mars/Olympus")
    assert bad.status_code == 422 and "Unknown time zone" in bad.get_data(as_text=True)
    ok = _submit(client, page, page, name="Condado de Prueba PD", timezone="America/Los_Angeles",
                 first_contact_hours="12", first_contact_warning_hours="6")
    assert ok.status_code == 302
    agency = get_agency()
    assert (agency.name, agency.timezone, agency.first_contact_hours) == \
        ("Condado de Prueba PD", "America/Los_Angeles", 12)
    other = client.application.test_client()
    sign_in(other, liaison)
    assert "No first contact for 13 hours" in other.get("/staff/").get_data(as_text=True)


def test_resources_can_be_added_changed_and_removed(client, admin):
    _submit(client, "/staff/admin/resources", "/staff/admin/resources", **{
        "new-title": "Línea 988", "new-description": "Ayuda gratis", "new-url": "https://988lifeline.org/es",
        "new-language": "es"})
    resource = db.session.scalar(select(Resource))
    assert (resource.title, resource.language) == ("Línea 988", "es")
    bad = _submit(client, f"/staff/admin/resources/{resource.id}", f"/staff/admin/resources/{resource.id}",
                  **{"edit-url": "javascript:alert(1)"})
    assert bad.status_code == 422
    _submit(client, f"/staff/admin/resources/{resource.id}", f"/staff/admin/resources/{resource.id}",
            **{"edit-title": "988 Lifeline"})
    assert db.session.get(Resource, resource.id).title == "988 Lifeline"
    _submit(client, "/staff/admin/resources", f"/staff/admin/resources/{resource.id}/delete")
    assert db.session.scalar(select(Resource)) is None


def test_supervisors_cannot_reach_admin_pages(client, supervisor):
    for url in ("/staff/admin", "/staff/admin/users", "/staff/admin/agency", "/staff/admin/resources"):
        assert client.get(url).status_code == 404, url


def test_the_digest_uses_the_same_flags_and_texts_or_prints(app, db):
    texting = factories.make_user(role="liaison", phone="+13125550111")
    printing = factories.make_user(role="liaison", name="Officer No Phone")
    quiet = factories.make_user(role="liaison", phone="+13125550112")
    not_asked = factories.make_user(role="liaison", phone="+13125550113")
    for user in (texting, printing, quiet):
        user.daily_digest = True
    db.session.commit()
    for owner in (texting, printing, not_asked):
        case = factories.make_case(liaison=owner, number=f"D-{owner.id}", opened_at=utcnow() - timedelta(hours=50))
        factories.make_family_member(case=case, name="Secret Family Name")
    printed: list[str] = []
    counts = send_digests(echo=printed.append)
    db.session.commit()
    assert counts == {"texted": 1, "printed": 1, "nothing_due": 1, "no_phone": 0}
    text = db.session.scalar(select(Notification))
    assert (text.recipient, text.kind) == ("+13125550111", "digest")
    assert "1 family needs attention today (1 overdue)" in text.body and "Secret" not in text.body
    assert printed[0].startswith("Officer No Phone") and f"D-{printing.id}  No first contact for 50 hours" in printed[1]
    assert not any("Secret Family Name" in line for line in printed)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["send-digests", "--print"])
    assert result.exit_code == 0 and "Digests: 0 texted, 2 printed, 1 with nothing due." in result.output
