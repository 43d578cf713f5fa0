"""Beyond the journeys: every page a family member, a supervisor and an admin can open from their menu passes the
page checks (axe at 375 and 1280 px, no sideways scroll, a clean console), on the demo data."""
from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import User

from . import data, steps


def _links(page, scope) -> list[str]:
    """The portal paths the links in this part of the page point at, in order, once each."""
    hrefs = scope.locator("a[href^='/']").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    return list(dict.fromkeys(h.split("#")[0] for h in hrefs if h != "/"))


def _visit(page, paths: list[str], seen: set[str], who: str) -> None:
    for path in paths:
        if path in seen:
            continue
        seen.add(path)
        response = page.goto(path)
        assert response is not None and response.ok, f"{who}: {path} answered {response and response.status}"
        steps.check_page(page, f"{who}-{path.strip('/').replace('/', '-') or 'home'}")


def test_every_page_in_the_menus_passes_the_checks_for_a_family_a_supervisor_and_an_admin(phone_page, page):
    demo = data.load_demo()
    admin = db.session.scalar(select(User).where(User.email == "admin@demo.example"))

    steps.sign_in(phone_page, demo.family, password=data.PASSWORD)
    family_menu = _links(phone_page, phone_page.get_by_role("navigation", name="Main"))
    assert {"/my", "/my/go/leads", "/my/go/book", "/my/resources", "/account"} <= set(family_menu)
    _visit(phone_page, family_menu, set(), "family")

    seen: set[str] = set()  # a page the supervisor's tour checked is not checked again for the admin
    for person in (demo.supervisor, admin):
        data.enrol_authenticator(person)
        steps.sign_in(page, person, password=data.PASSWORD)
        menu = _links(page, page.get_by_role("navigation", name="Main"))
        assert "/staff/reports" in menu and "/staff/audit" in menu
        _visit(page, menu, seen, person.role)
        if person.role == "admin":
            page.goto("/staff/admin")
            admin_pages = [p for p in _links(page, page.locator("main")) if p.startswith("/staff/admin/")]
            assert admin_pages, "the admin page links to its sections"
            _visit(page, admin_pages, seen, "admin")
        steps.sign_out(page)
    assert len(seen) >= 12
