"""Quick exit (GOV.UK's "Exit this page"): on the sign-in page, a family page and a tip page, the button is reached
by keyboard, replaces the page with a neutral site, and Back does not return to the portal. The neutral site is a
local page served by a second test server (QUICK_EXIT_URL points at it): never the internet."""
from __future__ import annotations

import secrets
import threading
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from portal.extensions import db
from portal.models import AuditEvent, TipLink
from portal.services import invitations

from .. import factories
from . import steps

NEUTRAL_PAGE = ("<!doctype html><html lang='en'><head><title>Weather</title></head>"
                "<body><main><h1>Weather today</h1><p>Sunny, 21°C.</p></main></body></html>")


@pytest.fixture
def neutral_site(app, monkeypatch):
    """A neutral site on another port of 127.0.0.1; QUICK_EXIT_URL points at it. Yields (url, referers seen)."""
    referers: list[str | None] = []

    @Request.application
    def weather(request):
        if request.path != "/weather":  # the browser's own /favicon.ico
            return Response("", status=404)
        referers.append(request.headers.get("Referer"))
        return Response(NEUTRAL_PAGE, mimetype="text/html")

    server = make_server("127.0.0.1", 0, weather, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-neutral-site", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/weather"
    monkeypatch.setitem(app.config, "QUICK_EXIT_URL", url)
    try:
        yield url, referers
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def _tip_path() -> str:
    _user, member, case = factories.make_family()
    token = secrets.token_urlsafe(24)
    db.session.add(TipLink(case_id=case.id, token_hash=invitations.token_hash(token),
                           created_by_family_member_id=member.id))
    db.session.commit()
    return f"/t/{token}"


def _tab_to_quick_exit(page) -> None:
    """From the top of the page, Tab until the quick exit has focus: it comes right after the skip link."""
    page.locator("body").focus()
    for _ in range(2):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.hasAttribute('data-quick-exit')"):
            break
    focused = page.locator("a[data-quick-exit]")
    expect(focused).to_be_focused()
    outline = focused.evaluate("el => getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth")
    assert outline.startswith("solid") and not outline.endswith(" 0px"), f"no visible focus ring: {outline}"
    box = focused.bounding_box()
    assert box and box["height"] >= 44 and box["width"] >= 44, f"the button is too small to tap: {box}"


def _leave_by_keyboard(page, neutral: str) -> None:
    _tab_to_quick_exit(page)
    page.keyboard.press("Enter")
    page.wait_for_url(neutral)
    expect(page.locator("h1")).to_have_text("Weather today")


def _wait_for_sign_out(user) -> None:
    """The quick exit's sign-out (a beacon) has reached the server: the audit has the sign-out."""
    deadline = time.monotonic() + 60  # a busy machine: wait for it, however long it takes
    while not db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "auth.logout", AuditEvent.actor_id == user.id)):
        db.session.rollback()  # see the server's commits
        assert time.monotonic() < deadline, "the quick exit did not sign the family member out"
        time.sleep(0.1)


def test_quick_exit_by_keyboard_leaves_no_way_back_on_sign_in_family_and_tip_pages(
        open_phone, page, neutral_site, live_server):
    neutral, referers = neutral_site
    user, _member, case = factories.make_family()
    tip = _tip_path()

    # The sign-in page, on a phone in Spanish: the first page of this browser, so Back leaves the portal.
    visitor = open_phone("es-MX")
    visitor.goto("/login")
    expect(visitor.locator("a[data-quick-exit]")).to_contain_text(steps.es("Leave this page quickly"))
    assert steps.es("Leave this page quickly") != "Leave this page quickly"
    steps.check_page(visitor, "sign-in-quick-exit")
    _leave_by_keyboard(visitor, neutral)
    visitor.go_back()
    assert not visitor.url.startswith(live_server), f"Back returned to the portal: {visitor.url}"

    # A family page, signed in: the case page is replaced, and the family member is signed out, so Back (to the
    # sign-in page this browser came through) shows the sign-in form, never the case.
    steps.sign_in(page, user)
    case_url = page.url
    expect(page.locator("h1")).to_contain_text(case.decedent_name)
    expect(page.locator("a[data-quick-exit]")).to_have_text("Leave this page quickly"
                                                            " (or press the Shift key 3 times)")
    steps.check_page(page, "family-quick-exit")
    _leave_by_keyboard(page, neutral)
    _wait_for_sign_out(user)
    page.go_back()
    assert page.url != case_url
    expect(page.locator("#password")).to_be_visible()
    assert case.decedent_name not in page.content()
    page.goto(case_url)  # even typed in again: the case asks to sign in
    expect(page.locator("#password")).to_be_visible()

    # A tip page, in a browser that never signed in: the button sets no cookie and sends no Referer.
    tipster = open_phone()
    tipster.goto(tip)
    steps.check_page(tipster, "tip-quick-exit")
    _leave_by_keyboard(tipster, neutral)
    tipster.go_back()
    assert not tipster.url.startswith(live_server), f"Back returned to the portal: {tipster.url}"
    assert tipster.context.cookies(live_server) == []
    assert referers and all(ref is None or tip not in ref for ref in referers), referers


def test_shift_three_times_leaves_the_page(page, neutral_site, live_server):
    neutral, _referers = neutral_site
    page.goto("/login")
    page.locator("#email").focus()
    for _ in range(3):
        page.keyboard.press("Shift")
    page.wait_for_url(neutral)
    page.go_back()
    assert not page.url.startswith(live_server), f"Back returned to the portal: {page.url}"


def test_quick_exit_works_without_javascript(new_context, portal_url, neutral_site):
    neutral, referers = neutral_site
    context = new_context(java_script_enabled=False, viewport=steps.PHONE)
    page = context.new_page()
    page.goto(_tip_path())
    page.get_by_role("link", name="Leave this page quickly").click()
    page.wait_for_url(neutral)
    assert referers == [None], "the plain link sent a Referer"
    assert context.cookies(portal_url) == []


def test_staff_pages_have_no_quick_exit(page):
    staff = factories.make_user(role="liaison")
    steps.sign_in(page, staff)
    expect(page.locator("a[data-quick-exit]")).to_have_count(0)
