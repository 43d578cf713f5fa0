"""The page checks themselves: they must fail on a page that is inaccessible, too wide or broken."""
from __future__ import annotations

import pytest

from . import steps

BAD_PAGE = """<!doctype html>
<html><head><title>A bad page</title></head>
<body><main>
  <h1>A bad page</h1>
  <input type="text" name="who">
  <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
  <p style="color:#bbb;background:#fff">Grey on white, too faint to read.</p>
  <div style="width:900px">Wider than a phone.</div>
  <script>throw new Error("broken script");</script>
</main></body></html>"""

GOOD_PAGE = """<!doctype html>
<html lang="en"><head><title>A plain page</title></head>
<body><main><h1>A plain page</h1><p>Short words, dark text.</p></main></body></html>"""


def _serve(page, html: str) -> None:
    # Served from the portal's own address, so the page is checked exactly like a portal page.
    page.route("**/__check__", lambda route: route.fulfill(status=200, content_type="text/html", body=html))
    page.goto("/__check__")


def test_check_page_reports_every_problem_readably(page):
    _serve(page, BAD_PAGE)
    with pytest.raises(AssertionError) as failure:
        steps.check_page(page, "bad-page", log=False)
    report = str(failure.value)
    for rule in ("html-has-lang", "label", "image-alt", "color-contrast"):
        assert f"- {rule} (" in report, f"axe did not report {rule}:\n{report}"
    assert "at 375 px" in report and "at 1280 px" in report
    assert "'bad-page' scrolls sideways at 375 px" in report
    assert "'bad-page' scrolls sideways at 1280 px" not in report
    assert "uncaught: " in report and "broken script" in report
    assert "at input" in report  # each element is named, with what to fix


def test_check_page_passes_a_plain_page_and_keeps_screenshots(page):
    _serve(page, GOOD_PAGE)
    steps.check_page(page, "plain-page", log=False)
    folder = steps.SCREENSHOT_DIR / "test_check_page_passes_a_plain_page_and_keeps_screenshots-chromium"
    shots = sorted(p.name for p in folder.glob("*-plain-page-*"))
    assert shots == ["01-plain-page-1280.jpg", "01-plain-page-375.jpg"]
    assert steps.image_width(folder / "01-plain-page-375.jpg") == 375
    assert steps.image_width(folder / "01-plain-page-1280.jpg") == 1280


def test_check_page_reports_a_content_security_policy_violation(page):
    # The portal's CSP stays on while axe runs; a script it blocks shows up as a failure, not silence.
    html = GOOD_PAGE.replace("</main>", "<script>document.title = 'inline';</script></main>")
    page.route("**/__csp__", lambda route: route.fulfill(
        status=200, content_type="text/html", body=html, headers={"Content-Security-Policy": "script-src 'self'"}))
    page.goto("/__csp__")
    with pytest.raises(AssertionError) as failure:
        steps.check_page(page, "csp-page", log=False)
    assert "Content Security Policy" in str(failure.value)
    assert "violations" not in str(failure.value)  # axe itself ran fine under the policy
