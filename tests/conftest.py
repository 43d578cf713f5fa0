"""Fixtures: app, db, client, login_as(role), and helpers for forms with CSRF tokens."""
from __future__ import annotations

import os
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, text, update

from config import _normalize_db_url
from portal import create_app
from portal.extensions import db as _db

from . import factories

# the texts fixtures (daytime, fake_twilio, twilio, live_portal) and the email ones (smtp_server, smtp)
pytest_plugins = ["tests.sms_helpers", "tests.email_helpers"]

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def test_database_url(tmp_path_factory) -> str:
    """PostgreSQL when TEST_DATABASE_URL is set, else a SQLite file (threads and workers need a real file)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return _normalize_db_url(url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


test_database_url.__test__ = False  # not a test, despite its name


class IsolatedClient(FlaskClient):
    """Each request gets its own app context (its own g and database session), as in production.

    Without this, a request would reuse the test's app context, and with it g (Flask-Login's cached user,
    the CSRF token) and the test's session: bugs would hide and tests would fail for the wrong reasons.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """One app for the session, on a freshly created schema."""
    uploads = tmp_path_factory.mktemp("uploads")
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": test_database_url(tmp_path_factory),
                                 "UPLOAD_DIR": str(uploads)})
    app.test_client_class = IsolatedClient
    with app.app_context():
        _db.drop_all()
        _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


def _wipe(engine) -> None:
    tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture(autouse=True)
def db(app):
    """The database, empty at the start of every test; yields the Flask-SQLAlchemy object."""
    with app.app_context():
        app.extensions["sms_client"].clear()
        app.extensions["email_client"].clear()
        yield _db
        _db.session.remove()
        _wipe(_db.engine)


@pytest.fixture(autouse=True)
def shared_extensions(app):
    """The suite's rate limiter and Talisman settings, put back after each test.

    Both are single objects that every create_app() binds anew: a test that builds another app (create_app() with
    no arguments is the development config, rate limits on) would otherwise leave the limiter on for the tests
    that follow it, and the 11th sign-in from 127.0.0.1 within a minute would answer 429.
    """
    from portal.extensions import limiter, talisman

    saved_talisman, saved_enabled = dict(vars(talisman)), limiter.enabled
    yield
    vars(talisman).clear()
    vars(talisman).update(saved_talisman)
    limiter.enabled = saved_enabled


@pytest.fixture
def client(app):
    """A test client (a browser with its own cookies)."""
    return app.test_client()


@pytest.fixture
def sms(app):
    """The memory SMS client: .sent lists every text handed to the provider."""
    return app.extensions["sms_client"]


def csrf_from(html: str) -> str:
    """The CSRF token in a rendered page."""
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def login(client, email: str, password: str = factories.PASSWORD, **kwargs):
    """Sign in through the real form (the password step only); returns the response."""
    token = csrf_from(client.get("/login", **kwargs).get_data(as_text=True))
    return client.post("/login", data={"csrf_token": token, "email": email, "password": password}, **kwargs)


def sign_in(client, user, password: str = factories.PASSWORD):
    """Sign a user in completely (every step their role needs); use this, not login(), outside login tests.

    Staff: the password step, then the authenticator code (enrolling first if the user has no authenticator).
    """
    response = login(client, user.email, password)
    assert response.status_code == 302, response.get_data(as_text=True)
    if response.headers["Location"].startswith("/mfa"):
        response = complete_mfa(client, user)
    return response


def totp_now(user) -> str:
    """The user's current authenticator code, as their phone would show it."""
    import pyotp

    from portal.models import User

    secret = _db.session.scalar(select(User.totp_secret).where(User.id == user.id))
    assert secret, f"{user.email} has no authenticator secret"
    return pyotp.TOTP(secret).now()


def complete_mfa(client, user):
    """The second sign-in step for a staff member whose password was accepted: enrol if needed, type the code."""
    from portal.models import User

    # A test may sign the same person in twice within 30 seconds; a real phone would show the next code.
    _db.session.execute(update(User).where(User.id == user.id).values(totp_last_step=None))
    _db.session.commit()
    page = client.get("/mfa", follow_redirects=True)
    assert page.status_code == 200, page.get_data(as_text=True)
    url = page.request.path
    response = client.post(url, data={"csrf_token": csrf_from(page.get_data(as_text=True)), "code": totp_now(user)})
    if url == "/mfa/setup":  # enrolment shows the recovery codes once, then the person continues
        assert response.status_code == 200, response.get_data(as_text=True)
        return client.get("/")
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def post_form(client, url: str, data: dict | None = None, *, token_page: str, **kwargs):
    """POST with the CSRF token taken from token_page (any page that renders a form for this session)."""
    page = client.get(token_page)
    assert page.status_code == 200, f"{token_page} answered {page.status_code}"
    payload = {"csrf_token": csrf_from(page.get_data(as_text=True))}
    payload.update(data or {})
    return client.post(url, data=payload, **kwargs)


@pytest.fixture
def login_as(app, client):
    """login_as(role, **kwargs) creates a user of that role, signs the client in and returns the user."""

    def _login_as(role: str, **kwargs):
        user = factories.make_user(role=role, **kwargs)
        sign_in(client, user)
        return user

    return _login_as


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    """The Spanish catalog compiled to .mo (git-ignored), so a plain `pytest` serves Spanish pages too."""
    from .i18n_support import compile_catalogs

    return compile_catalogs()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """The random order's seed at the end, beside the failures (the -q in pytest.ini hides pytest-randomly's header)."""
    seed = getattr(config.option, "randomly_seed", None)
    if config.pluginmanager.hasplugin("randomly") and config.getoption("randomly_reorganize", True) \
            and seed is not None:
        terminalreporter.write_line(f"Using --randomly-seed={seed}: `pytest -p randomly --randomly-seed={seed}` "
                                    "runs the same order again")
