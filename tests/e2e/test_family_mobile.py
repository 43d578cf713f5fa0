"""A family member on a 375-px-wide phone, in a real browser against a real server: the whole first visit."""
from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlalchemy import select
from werkzeug.serving import make_server

from portal.models import Appointment, Lead

from .. import factories
from .. import family_factories as ffac
from .. import family_files as ff

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
WIDTH = 375


@pytest.fixture
def server(app):
    """The app served over HTTP on a free local port, in a thread."""
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def phone_browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM:
        pytest.skip("no Chromium on this machine")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def _fits(page, seen: list[str]) -> None:
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url} is {width}px wide on a {WIDTH}px screen"
    seen.append(page.url)


def _go(page, selector: str) -> None:
    """Click a link or button and wait until the next page has loaded (its CSS included)."""
    with page.expect_navigation(wait_until="load"):
        page.click(selector)


def test_a_family_member_on_a_phone_reads_the_stage_sends_a_lead_books_a_call_and_switches_to_spanish(
        server, phone_browser, db, tmp_path):
    liaison = factories.make_user(role="liaison", name="Officer Dana Rivera", phone="+13125550101")
    case = factories.make_case(liaison=liaison, decedent="Jordan Ellis", stage="awaiting_toxicology")
    user, _member, _ = factories.make_family(case=case)
    ffac.make_every_day_windows(liaison=liaison)
    photos = []
    for n, size in enumerate(((800, 600), (600, 800)), start=1):
        photos.append(tmp_path / f"IMG_{n}.jpg")
        photos[-1].write_bytes(ff.jpeg_with_metadata(size))
    context = phone_browser.new_context(viewport={"width": WIDTH, "height": 740}, is_mobile=True, has_touch=True,
                                  accept_downloads=True)
    page = context.new_page()
    seen: list[str] = []

    page.goto(f"{server}/login")
    page.fill("#email", user.email)
    page.fill("#password", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/my/cases/\d+$"))
    assert "Waiting for lab results" in page.inner_text("#stage-heading")
    assert "Often 6 to 12 weeks." in page.content()
    _fits(page, seen)

    _go(page, ".actions >> text=Share information")
    _fits(page, seen)
    page.fill("#people-0-name", "Ghost")
    page.fill("#supplier", "A man called Ghost, blue Honda")
    page.set_input_files("#files", [str(p) for p in photos])
    page.click("button:has-text('Send to the team')")
    page.wait_for_url(re.compile(r"/thanks$"))
    reference = page.inner_text(".reference").strip()
    assert re.fullmatch(r"L-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{2}", reference)
    _fits(page, seen)
    lead = db.session.scalar(select(Lead))
    assert lead.reference == reference and len(lead.attachments) == 2

    _go(page, "nav >> text=Book a call")
    _fits(page, seen)
    page.locator("label.slot").first.click()
    page.click("button:has-text('Book this time')")
    page.wait_for_url(re.compile(r"/my/appointments/\d+$"))
    _fits(page, seen)
    with page.expect_download() as download:
        page.click("text=Add to my calendar")
    ics = Path(download.value.path()).read_bytes()
    event = next(c for c in Calendar.from_ical(ics).walk() if c.name == "VEVENT")
    appointment = db.session.scalar(select(Appointment))
    assert event.decoded("dtstart") == appointment.starts_at

    for section in ("Messages", "Settings", "Support"):
        _go(page, f"nav >> text={section}")
        _fits(page, seen)
    _go(page, "nav >> text=Settings")
    page.check("input[name=language][value=es]")
    _go(page, "button:has-text('Save settings')")
    for url in seen:
        page.goto(url)
        assert page.evaluate("document.documentElement.lang") == "es", url
        _fits(page, [])
    context.close()
