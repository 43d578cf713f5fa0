"""The report charts draw in a real browser (Debian's chromium), from the portal served on 127.0.0.1, under its CSP."""
from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from portal.models import utcnow

from . import factories
from . import staff_factories as sf
from .conftest import sign_in

CHROMIUM = Path("/usr/bin/chromium")
USER_AGENT = "PortalChartTest/1.0"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="chromium is not installed at /usr/bin/chromium (apt-get install -y chromium): chart drawing not checked",
)


@pytest.fixture
def live_server(app):
    """The app on a real HTTP server on 127.0.0.1 (a free port), for the length of one test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _some_history():
    now = utcnow()
    for name, days in (("Ana Peña", 40), ("Ben Brown", 20)):
        liaison = factories.make_user(role="liaison", name=name)
        case = factories.make_case(liaison=liaison, opened_at=now - timedelta(days=days))
        member = factories.make_family_member(case=case, cadence="weekly")
        sf.make_contact(case=case, member=member, at=now - timedelta(days=days - 1))
        sf.make_lead(case=case, created_at=now - timedelta(days=days - 2), reviewed_at=now - timedelta(days=days - 3),
                     status="reviewing")


PAINTED = """(id) => {
  const canvas = document.getElementById(id);
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) painted++; }
  return {drawn: canvas.getAttribute("data-drawn"), painted: painted, width: canvas.width};
}"""


def test_every_report_chart_is_drawn_in_chromium(app, client, live_server):
    from playwright.sync_api import sync_playwright

    _some_history()
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT  # the session is bound to the browser's user agent
    sign_in(client, factories.make_user(role="supervisor"))
    cookie = client.get_cookie("session")
    assert cookie is not None
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            context = browser.new_context(user_agent=USER_AGENT, viewport={"width": 1280, "height": 900})
            context.add_cookies([{"name": "session", "value": cookie.value, "url": live_server}])
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
                    and not msg.location.get("url", "").endswith("/favicon.ico") else None)
            page.goto(f"{live_server}/staff/reports")
            assert page.locator("h1").inner_text() == "Reports"
            page.wait_for_function("document.querySelectorAll('canvas[data-drawn=\"true\"]').length === 4",
                                   timeout=10_000)
            for key in ("compliance", "first_contact", "overdue", "leads"):
                result = page.evaluate(PAINTED, f"chart-{key}")
                assert result["drawn"] == "true" and result["width"] > 0, key
                assert result["painted"] > 500, (key, result)
            # The numbers stay readable beside each chart.
            assert page.locator("table caption").count() == 4
            page.set_viewport_size({"width": 375, "height": 800})
            page.wait_for_function("Array.from(document.querySelectorAll('canvas'))"
                                   ".every(c => c.getBoundingClientRect().right <= window.innerWidth)", timeout=5_000)
            wide = page.evaluate("""() => Array.from(document.querySelectorAll('body *'))
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                .map(e => e.tagName + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))
                .slice(0, 15)""")
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), wide
        finally:
            browser.close()
    assert errors == [], errors
