"""Reusable steps for the browser journeys: sign in, accept an invite, switch language, check a page.

check_page() is run on every page a journey visits: axe-core (WCAG 2.x A/AA up to 2.2, plus best practice)
must find 0 violations at 375 px and at 1280 px, the page must not scroll sideways at either width, the console
must hold no errors (a CSP violation is one), and a full-page screenshot is saved at each width.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import weakref
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
from flask import current_app
from flask_babel import force_locale, gettext
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from portal.extensions import db
from portal.models import Notification, User

from .. import factories
from ..conftest import totp_now

ROOT = Path(__file__).resolve().parents[2]
AXE_PATH = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOT_DIR = ROOT / "test-artifacts" / "screenshots"
DOCS_DIR = ROOT / "docs"
PHONE = {"width": 375, "height": 812}
DESK = {"width": 1280, "height": 800}
WIDTHS = (PHONE, DESK)
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice")
AXE_LOG: list[str] = []  # one line per page check, printed at the end of the run by conftest
_console: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_shots: dict[str, int] = {}
# Chromium logs a failed sub-resource without its address; the response listener below names it instead.
_IGNORED_CONSOLE = re.compile(r"^Failed to load resource")


def axe_version() -> str:
    """The installed axe-core version (from its package.json)."""
    package = AXE_PATH.parent / "package.json"
    return json.loads(package.read_text())["version"] if package.exists() else "?"


def watch(page: Page) -> Page:
    """Prepare a new page: load axe-core into every document and record console errors."""
    # An init script goes in through the DevTools protocol, not a <script> tag, so the portal's CSP
    # (script-src 'self') stays fully on while axe runs; nothing here bypasses it.
    page.add_init_script(path=str(AXE_PATH))
    errors: list[str] = []
    _console[page] = errors
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.on("response", lambda r: errors.append(f"{r.status} for {r.url}")
            if r.status >= 400 and r.request.resource_type != "document" else None)
    # A request cut short because the person moved on to the next page (net::ERR_ABORTED) is not a failure.
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url} ({r.failure})")
            if "ERR_ABORTED" not in (r.failure or "") else None)
    return page


def _test_folder() -> str:
    current = os.environ.get("PYTEST_CURRENT_TEST", "journey").split(" ")[0]
    name = current.split("::")[-1]
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "journey"


def run_axe(page: Page) -> dict:
    """axe-core's verdict on the page as it is now: violations in full, counts of the rest."""
    if page.evaluate("() => typeof window.axe") == "undefined":
        raise AssertionError("axe-core is not loaded: create pages with the fixtures or call steps.watch(page) "
                             "before the first navigation")
    return page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                                resultTypes: ['violations']});
            return {passes: r.passes.length, incomplete: r.incomplete.map(i => i.id),
                    violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                        url: v.helpUrl, nodes: v.nodes.map(n => ({target: n.target.join(' '),
                        html: n.html.slice(0, 200), summary: n.failureSummary}))}))};
        }""",
        list(AXE_TAGS),
    )


def image_width(path: Path) -> int:
    """The width in pixels of a picture file."""
    with Image.open(path) as image:
        return image.width


def format_violations(name: str, width: int, violations: list[dict]) -> str:
    """Violations as a person reads them: rule, impact, what to do, and each element with its fix."""
    lines = [f"axe-core found {len(violations)} violation(s) on '{name}' at {width} px:"]
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}  <{v['url']}>")
        for node in v["nodes"]:
            lines.append(f"    at {node['target']}: {node['html']}")
            lines.extend(f"      {line}" for line in (node["summary"] or "").splitlines())
    return "\n".join(lines)


def check_page(page: Page, name: str, *, docs: dict[int, str] | None = None, docs_height: int | None = None,
               log: bool = True) -> None:
    """axe with 0 violations, no sideways scroll, no console errors, and screenshots at 375 and 1280 px.

    docs maps a width to a file name under docs/ (the README's pictures); they are rewritten only when
    UPDATE_DOCS_SCREENSHOTS=1, so an ordinary run leaves the committed pictures alone; docs_height cuts such a
    picture to the top of the page (what a newcomer sees first). log=False keeps a
    check of a page that is not the portal's (the checks' own tests) out of the end-of-run summary.
    """
    page.wait_for_load_state("load")
    original = page.viewport_size
    folder = SCREENSHOT_DIR / _test_folder()
    if str(folder) not in _shots:  # first picture of this test: drop the ones an earlier run left
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    number = _shots[str(folder)] = _shots.get(str(folder), 0) + 1
    failures: list[str] = []
    try:
        # The page's own width last: nothing to restore afterwards (one layout less).
        for size in sorted(WIDTHS, key=lambda w: w == original):
            width = size["width"]
            page.set_viewport_size(size)
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            scroll_width, inner = page.evaluate(
                "() => [document.documentElement.scrollWidth, window.innerWidth]")
            if scroll_width > inner:
                failures.append(f"'{name}' scrolls sideways at {width} px: content is {scroll_width} px wide")
            result = run_axe(page)
            count = len(result["violations"])
            review = f" ({', '.join(result['incomplete'])})" if result["incomplete"] else ""
            if log:
                AXE_LOG.append(f"{_test_folder()}: {name} @ {width}px: {result['passes']} rules passed, "
                               f"{len(result['incomplete'])} to review{review}, {count} violations")
            if count:
                failures.append(format_violations(name, width, result["violations"]))
            # JPEG: half the time of a PNG for a long page, and these are for people to look at.
            shot = folder / f"{number:02d}-{name}-{width}.jpg"
            page.screenshot(path=str(shot), full_page=True, type="jpeg", quality=80)
            if docs and width in docs and os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
                DOCS_DIR.mkdir(exist_ok=True)
                clip = {"x": 0, "y": 0, "width": width, "height": docs_height} if docs_height else None
                page.screenshot(path=str(DOCS_DIR / docs[width]), full_page=True, type="png", clip=clip)
    finally:
        if original and page.viewport_size != original:
            page.set_viewport_size(original)
    errors = [e for e in _console.get(page, []) if not _IGNORED_CONSOLE.search(e)]
    if errors:
        failures.append(f"console errors on '{name}': " + "; ".join(errors))
        _console[page].clear()
    assert not failures, "\n\n".join(failures)


def check_skip_link(page: Page) -> None:
    """The first Tab shows the "Skip to main content" link on screen, and Enter jumps past the header."""
    page.locator("body").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.getAttribute('href')") == "#main", \
        "the first Tab does not reach the skip link"
    box = page.locator(".skip-link").bounding_box()
    viewport = page.viewport_size
    assert box and 0 <= box["x"] < viewport["width"] and 0 <= box["y"] < viewport["height"], \
        "the focused skip link is not on screen"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))


# --- people -------------------------------------------------------------------------------------------------

def sign_in(page: Page, user, password: str = factories.PASSWORD, *, check: bool = False) -> None:
    """Sign a person in through the real form, with every step their role needs, and wait for their start page.

    Staff give a code from their authenticator app: on a first sign-in they set one up from the key the page
    shows (as a person types it into the app) and see their recovery codes; later the app's current code.
    check=True runs check_page() on the sign-in page and on each of those extra pages.
    """
    page.goto("/login")
    if check:
        check_page(page, "sign-in")
    page.locator("#email").fill(user.email)
    page.locator("#password").fill(password)
    page.locator("main form:not(.language-form) button[type=submit]").click()
    signed_in = page.locator("form[action$='/logout']")
    expect(signed_in.or_(page.locator("#code"))).to_be_visible()
    if signed_in.is_visible():
        return
    if urlsplit(page.url).path == "/mfa/setup":
        expect(page.locator("h1")).to_have_text("Set up your authenticator")
        if check:
            check_page(page, "mfa-setup")
        key = page.locator("#totp-key").inner_text().replace(" ", "")
        page.locator("#code").fill(pyotp.TOTP(key).now())
        page.get_by_role("button", name="Confirm and continue").click()
        expect(page.locator("h1")).to_have_text("Save your recovery codes")
        expect(page.locator(".recovery-codes li")).to_have_count(10)
        if check:
            check_page(page, "recovery-codes")
        page.get_by_role("button", name="I saved them. Continue").click()
    else:
        expect(page.locator("h1")).to_have_text("Enter your code")
        if check:
            check_page(page, "mfa-code")
        page.locator("#code").fill(authenticator_code(user))
        page.get_by_role("button", name="Continue", exact=True).click()
    expect(signed_in).to_be_visible()


def authenticator_code(user) -> str:
    """The code the staff member's authenticator app shows now (each code works once, so a second sign-in
    within the same 30 seconds is let through as a real phone would show the next code)."""
    db.session.execute(update(User).where(User.id == user.id).values(totp_last_step=None))
    db.session.commit()
    return totp_now(user)


def sign_out(page: Page) -> None:
    """Press Sign out in the header and wait for the sign-in page."""
    page.locator("form[action$='/logout'] button").click()
    expect(page.locator("#password")).to_be_visible()


def accept_invite(page: Page, link: str, *, email: str, password: str = factories.PASSWORD) -> None:
    """Open an invite link and set up the account: email, a password, the password again."""
    page.goto(link)
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("#confirm").fill(password)
    page.locator("main form:not(.language-form) button[type=submit]").click()


def switch_language(page: Page, language: str) -> None:
    """Press the language button in the footer and wait until the page is in that language."""
    page.locator(f"form.language-form button[name=language][value={language}]").click()
    expect(page.locator("html")).to_have_attribute("lang", language)


def es(message: str, **values) -> str:
    """What the Spanish catalog says for an English message (the English itself until it is translated).

    Journeys assert Spanish pages with it, so they follow the catalog as the translator fills it in; a few
    assertions on words already translated (see the journeys) prove that the pages really are in Spanish.
    """
    with current_app.test_request_context(), force_locale("es"):
        return gettext(message, **values)


def base(page: Page) -> str:
    """The scheme and host of the page, e.g. http://127.0.0.1:41234."""
    parts = urlsplit(page.url)
    return f"{parts.scheme}://{parts.netloc}"


# --- data the journeys read -------------------------------------------------------------------------------

LINK_RE = re.compile(r"https?://\S+")


def latest_text_to(phone: str) -> Notification:
    """The newest text written to the outbox for a phone number (delivered or not)."""
    db.session.expire_all()
    message = db.session.scalars(select(Notification).where(Notification.recipient == phone)
                                 .order_by(Notification.id.desc()).limit(1)).first()
    assert message is not None, "no text was queued for this number"
    return message


def link_in(body: str) -> str:
    """The first link in a text."""
    match = LINK_RE.search(body)
    assert match, "the text has no link"
    return match.group(0)
