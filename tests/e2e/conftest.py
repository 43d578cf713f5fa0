"""Browser tests: Debian's chromium driven by pytest-playwright against the portal served on 127.0.0.1.

The server is a real werkzeug HTTP server in a thread, serving the suite's own app on the suite's database
(PostgreSQL when TEST_DATABASE_URL is set, a SQLite file otherwise) with the memory SMS backend, so a test can
write data with the factories and then watch a person use it in the browser.

Without chromium (or npm for axe-core) these tests SKIP with a message saying why; REQUIRE_BROWSER=1 (set by
.ci/run) turns that skip into a failure, so CI cannot pass with the browser tests quietly skipped.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect
from werkzeug.serving import make_server

from . import steps

E2E_DIR = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# The flags this machine's chromium needs as root, and no network chatter it cannot make anyway. Playwright
# gives every launch a fresh, empty temporary profile (its own --user-data-dir), removed when the browser closes.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
INSTALL_HINT = "install it with `apt-get install -y chromium` (Debian), or set CHROMIUM_PATH"
_missing: list[str] = []
CHICAGO = ZoneInfo("America/Chicago")
# The machine is shared and small: give pages time rather than fail on a busy moment (nothing here is timed).
expect.set_options(timeout=15_000)


def browser_required() -> bool:
    """True when skipping the browser tests must count as a failure (CI sets REQUIRE_BROWSER=1)."""
    return os.environ.get("REQUIRE_BROWSER", "").strip().lower() in {"1", "true", "yes"}


def _unavailable(reason: str) -> None:
    if reason not in _missing:
        _missing.append(reason)
    if browser_required():
        pytest.fail(f"browser tests cannot run: {reason} (REQUIRE_BROWSER is set, so this is a failure)",
                    pytrace=False)
    pytest.skip(f"browser test skipped: {reason}")


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "e2e: a real-browser test (chromium + playwright); skipped without chromium")


@pytest.hookimpl(trylast=True)  # after any reordering plugin (pytest-randomly shuffles in its own hook)
def pytest_collection_modifyitems(config, items) -> None:
    """Mark the browser tests, and run them after every other test.

    Last, because pytest-playwright's session-wide Playwright keeps an event loop running from the first browser
    test to the end of the run, and a test elsewhere that starts its own sync_playwright() would then fail
    ("Sync API inside the asyncio loop"). It also gives the fast tests' verdict first.
    """
    browser_tests = set()
    for item in items:
        if E2E_DIR in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)
            browser_tests.add(item.nodeid)
    items.sort(key=lambda item: item.nodeid in browser_tests)  # stable: each group keeps its own order


def _ensure_axe() -> Path | None:
    """axe-core from npm, installed once into tests/e2e/node_modules (pinned by package-lock.json)."""
    if steps.AXE_PATH.exists():
        return steps.AXE_PATH
    npm = shutil.which("npm")
    if npm is None:
        return None
    command = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"]
    subprocess.run(command, cwd=E2E_DIR, check=False, timeout=300)  # noqa: S603  (fixed command, no shell)
    return steps.AXE_PATH if steps.AXE_PATH.exists() else None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's chromium (never a downloaded browser), headless, with this machine's flags."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"chromium not found at {CHROMIUM}; {INSTALL_HINT}")
    if _ensure_axe() is None:
        _unavailable("axe-core is not installed and npm could not install it (cd tests/e2e && npm ci)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def live_server(app):
    """The portal on a free port of 127.0.0.1, for the whole session; stopped at the end."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):  # one run, one set of screenshots (workers would race)
        shutil.rmtree(steps.SCREENSHOT_DIR, ignore_errors=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def base_url(live_server):
    """Relative URLs in page.goto() go to the live server."""
    return live_server


@pytest.fixture
def portal_url(live_server, app):
    """Links the portal builds (invite links in texts) point at the live server during a browser test."""
    previous = app.config["PUBLIC_BASE_URL"]
    app.config["PUBLIC_BASE_URL"] = live_server
    yield live_server
    app.config["PUBLIC_BASE_URL"] = previous


@pytest.fixture
def context(new_context, portal_url):
    """A fresh browser profile per test, at a desk (1280 px wide), pointed at the live server."""
    ctx = new_context(viewport=steps.DESK, locale="en-US")
    ctx.set_default_timeout(15_000)
    return ctx


@pytest.fixture
def open_phone(new_context, portal_url):
    """open_phone(locale="en-US") gives a new person on a phone (375 px wide), with their own cookies."""

    def _open(locale: str = "en-US"):
        ctx = new_context(viewport=steps.PHONE, locale=locale)
        ctx.set_default_timeout(15_000)
        return steps.watch(ctx.new_page())

    return _open


@pytest.fixture
def phone_page(open_phone):
    """A person on a phone whose browser asks for English."""
    return open_phone()


@pytest.fixture
def family_daytime():
    """The clock moved forward to the next noon in Chicago (the demo families' time zone), and ticking on.

    Texts that are not urgent wait for 08:00-21:00 in the family's time zone; without this a journey run in the
    evening would see its text held until the morning. Forward only (never back), so the cookies the portal sets
    do not look expired to the real browser; the server, the test and the authenticator codes share this clock.
    """
    now = datetime.now(UTC)
    noon = now.astimezone(CHICAGO).replace(hour=12, minute=0, second=0, microsecond=0)
    if noon <= now:
        noon += timedelta(days=1)
    with time_machine.travel(noon, tick=True):
        yield noon


@pytest.fixture
def page(context):
    """The page, with its console watched for errors and CSP violations."""
    return steps.watch(context.new_page())


_skipped_browser_tests: list[str] = []


def pytest_runtest_logreport(report) -> None:
    if report.skipped and report.nodeid.startswith("tests/e2e/"):
        _skipped_browser_tests.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus) -> None:
    """With REQUIRE_BROWSER set, a skipped browser test fails the run, whatever made it skip."""
    if browser_required() and _skipped_browser_tests and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


WATCHED = ("tests/e2e/", "tests/test_i18n_spanish.py", "tests/test_reading_grade.py")


def _watched_outcomes(terminalreporter) -> list[str]:
    seen: dict[str, str] = {}
    for outcome in ("failed", "error", "skipped", "passed"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if nodeid.startswith(WATCHED) and nodeid not in seen:
                seen[nodeid] = outcome.upper()
    return [f"  {outcome:<7} {nodeid}" for nodeid, outcome in sorted(seen.items())]


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Say plainly what the browser checks did: which pages axe checked, or why the browser tests were skipped."""
    write = terminalreporter.write_line
    outcomes = _watched_outcomes(terminalreporter)
    if outcomes:
        terminalreporter.section("browser journeys, Spanish and plain words")
        for line in outcomes:
            write(line)
    if browser_required() and _skipped_browser_tests:
        terminalreporter.section("browser tests were SKIPPED although REQUIRE_BROWSER is set: the run fails",
                                 sep="!", red=True, bold=True)
        for nodeid in _skipped_browser_tests:
            write(f"  {nodeid}")
    if _missing:
        if browser_required():
            terminalreporter.section("browser tests could NOT RUN (a failure: REQUIRE_BROWSER is set)", sep="!",
                                     red=True, bold=True)
        else:
            terminalreporter.section("browser tests SKIPPED", sep="!", yellow=True, bold=True)
        for reason in _missing:
            write(f"  {reason}")
        if not browser_required():
            write("  Set REQUIRE_BROWSER=1 to make this a failure (.ci/run does).")
    if steps.AXE_LOG:
        terminalreporter.section(f"accessibility: axe-core {steps.axe_version()} ({', '.join(steps.AXE_TAGS)})")
        for entry in steps.AXE_LOG:
            write(f"  {entry}")
        total = sum(1 for entry in steps.AXE_LOG if not entry.endswith(" 0 violations"))
        write(f"  {len(steps.AXE_LOG)} page checks, {total} with violations")
