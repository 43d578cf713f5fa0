"""Nothing sensitive in logs: marker text and phone numbers typed into the portal never reach a log record.

Everything runs over real HTTP (a werkzeug server on 127.0.0.1), so the server's access log is checked too.
"""
from __future__ import annotations

import logging
import threading

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from portal.logsafety import ScrubbingFormatter, scrub
from portal.models import Notification

from . import factories
from .html_forms import post_forms

MARKER = "ZEBRA-MARKER-4471"
PHONE_TYPED = "312-555-0199"
PHONE_E164 = "+13125550199"
NEEDLES = (MARKER, PHONE_TYPED, PHONE_E164, "3125550199")

LEAD_FORM = "/my/cases/{case_id}/leads/new"
MESSAGE_FORM = "/my/cases/{case_id}/messages"
INBOUND_SMS_WEBHOOK = "/webhooks/twilio/sms"


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)

    def texts(self) -> list[str]:
        out = []
        for record in self.records:
            out.append(record.getMessage())
            if record.exc_info:
                out.append(logging.Formatter().formatException(record.exc_info))
            out.extend(str(v) for k, v in vars(record).items() if k not in logging.LogRecord("", 0, "", 0, "", (),
                                                                                             None).__dict__)
        return out


@pytest.fixture
def all_logs():
    """Every log record of every logger, at DEBUG, while the test runs."""
    handler = _Everything()
    root, portal_logger = logging.getLogger(), logging.getLogger("portal")
    saved = root.level, portal_logger.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    portal_logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        portal_logger.setLevel(saved[1])


@pytest.fixture
def live_server(app):
    """The app on a real HTTP server on 127.0.0.1 (access log on), for the length of the test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def _browser(base: str, user=None) -> requests.Session:
    """A requests session signed in through the real forms (password, then the TOTP code for staff)."""
    from .conftest import totp_now

    browser = requests.Session()
    if user is not None:
        _submit(browser, base, "/login", {"email": user.email, "password": factories.PASSWORD}, action="/login")
        if user.is_staff:
            _submit(browser, base, "/mfa", {"code": totp_now(user)}, action="/mfa")
    return browser


def _main_form(html, page, action=None):
    """The form posting to action, or else the page's biggest form (not the footer's language switch)."""
    forms = [f for f in post_forms(html, page) if f.action == action or (action is None and f.action != "/language")]
    assert forms, f"{page} has no form posting to {action or 'anywhere'}"
    return max(forms, key=lambda f: len(f.fields))


def _submit(browser, base, page, values, *, action=None):
    form = _main_form(browser.get(base + page, timeout=10).text, page, action)
    response = browser.post(base + form.action, data={**form.values(), **values}, timeout=10)
    assert response.status_code < 500, response.text[:300]
    return response


def _fill_every_text_field(browser, base, page):
    """Type the marker and the phone number into every text box of the biggest form on the page, and send it."""
    form = _main_form(browser.get(base + page, timeout=10).text, page)
    values = {}
    for f in form.fields.values():
        if f.kind in ("text", "textarea", "search", "tel", "url"):
            values[f.name] = f"{MARKER} call {PHONE_TYPED}"
    return browser.post(base + form.action, data={**form.values(), **values}, timeout=10)


def _assert_clean(all_logs):
    texts = all_logs.texts()
    assert texts, "no log record was captured: the check would prove nothing"
    leaks = [t for t in texts if any(n in t for n in NEEDLES)]
    assert not leaks, "sensitive text reached the logs:\n" + "\n".join(leaks[:5])


def test_family_details_typed_by_staff_and_the_texts_sent_never_reach_the_logs(app, db, live_server, all_logs):
    liaison = factories.make_user(role="liaison")
    case = factories.make_case(liaison=liaison)
    browser = _browser(live_server, liaison)
    added = _submit(browser, live_server, f"/staff/cases/{case.id}",
                    {"member-name": f"{MARKER} Relative", "member-relationship": MARKER,
                     "member-phone": PHONE_TYPED, "member-language": "en", "member-texts_consent": "y"},
                    action=f"/staff/cases/{case.id}/members")
    assert MARKER in added.text  # it was saved and shown, so it went through the whole request
    _submit(browser, live_server, f"/staff/cases/{case.id}",
            {"update-body": f"{MARKER}: called {PHONE_TYPED}", "update-visibility": "family"},
            action=f"/staff/cases/{case.id}/updates")
    member_id = int(added.text.split('id="member-')[1].split('"')[0])
    _submit(browser, live_server, f"/staff/cases/{case.id}", {}, action=f"/staff/members/{member_id}/invite")
    from portal.tasks import deliver_message

    for outbox_id in db.session.scalars(select(Notification.id)):
        assert deliver_message(outbox_id) == "sent"
    assert app.extensions["sms_client"].sent[0]["to"] == PHONE_E164
    assert any("GET /staff/cases" in t for t in all_logs.texts()), "the server's access log was not captured"
    _assert_clean(all_logs)


def test_invite_tokens_never_reach_the_access_log(app, db, live_server, all_logs):
    from portal.services import invitations

    _user, _member, case = factories.make_family()
    member = factories.make_family_member(case=case)
    _inv, token = invitations.create_invitation(member, created_by=None, send_text=False)
    db.session.commit()
    assert requests.get(f"{live_server}/invite/{token}", timeout=10).status_code == 200
    texts = all_logs.texts()
    assert any("/invite/" in t for t in texts)
    assert not [t for t in texts if token in t]


def test_an_error_while_handling_sensitive_input_logs_only_a_reference(app, all_logs):
    from portal import create_app

    broken = create_app("testing", {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                    "PROPAGATE_EXCEPTIONS": False})

    @broken.route("/explode", methods=["POST"])
    def explode():
        raise ValueError(f"could not parse phone {PHONE_E164}")

    broken.config["WTF_CSRF_ENABLED"] = False
    assert broken.test_client().post("/explode", data={"x": MARKER}).status_code == 500
    formatted = [ScrubbingFormatter().format(r) for r in all_logs.records if r.name.startswith("portal")]
    assert formatted and not [t for t in formatted if PHONE_E164 in t]


@pytest.mark.parametrize("text, hidden", [
    ("sms to +13125550199 failed", "+13125550199"),
    ("call (312) 555-0199 today", "555-0199"),
    ("call 312.555.0199", "555.0199"),
    ("number 3125550199", "3125550199"),
    ("from +44 20 7946 0958", "7946"),
    ("mail maria.ellis@demo.example", "maria.ellis"),
    ("GET /invite/kR2v9Yx4Lq8mN3pZ7wT1aB5cD6eF0gH2jK4lM6nP8qR HTTP/1.1", "kR2v9Yx4"),
    ("DETAIL:  Failing row contains (7, null, Flaco sells (blue car)\n\nat the park).\n[SQL: INSERT]", "Flaco"),
    ("DETAIL:  Failing row contains (7, null, Flaco at the park).\n\nThe above exception was", "Flaco"),
    ('DETAIL:  Key (tip_code)=(T-4471-2002) already exists.', "T-4471"),
])
def test_the_scrubber_hides_phone_numbers_emails_and_link_tokens(text, hidden):
    assert hidden not in scrub(text)


def test_ordinary_log_lines_pass_through_the_scrubber_unchanged():
    for line in ("text sent: outbox_id=42 duration_ms=118", "unhandled error ref=ab12cd34ef56",
                 "database unavailable, ref=0a1b2c3d4e5f: OperationalError", "2026-11-26 04:12:33,123 INFO"):
        assert scrub(line) == line


def test_every_log_record_is_scrubbed_even_from_other_libraries(app, all_logs):
    logging.getLogger("some.library").warning("retrying request for %s", PHONE_E164)
    logging.getLogger("portal.anything").info(f"inline formatted {PHONE_TYPED}")
    try:
        raise RuntimeError(f"boom {PHONE_E164}")
    except RuntimeError:
        logging.getLogger("portal.tasks").exception("failed")
    messages = [r.getMessage() for r in all_logs.records]
    assert "retrying request for [phone]" in messages and "inline formatted [phone]" in messages
    traceback_text = ScrubbingFormatter().format(all_logs.records[-1])
    assert "boom [phone]" in traceback_text and PHONE_E164 not in traceback_text


def test_sql_statements_and_their_values_are_not_logged(app):
    from portal.extensions import db as _db

    assert _db.engine.echo is False
    assert not logging.getLogger("sqlalchemy.engine").isEnabledFor(logging.INFO)


def test_a_lead_with_names_and_phones_never_reaches_the_logs(app, db, live_server, all_logs):
    user, _member, case = factories.make_family()
    browser = _browser(live_server, user)
    response = _fill_every_text_field(browser, live_server, LEAD_FORM.format(case_id=case.id))
    assert response.status_code < 400
    from portal.models import Lead

    assert db.session.scalar(select(Lead.id)) is not None, "no lead was saved: the check would prove nothing"
    _assert_clean(all_logs)


def test_a_portal_message_never_reaches_the_logs(app, db, live_server, all_logs):
    user, _member, case = factories.make_family()
    browser = _browser(live_server, user)
    response = _fill_every_text_field(browser, live_server, MESSAGE_FORM.format(case_id=case.id))
    assert response.status_code < 400
    from portal.models import CaseMessage

    assert db.session.scalar(select(CaseMessage.id)) is not None, "no message was saved"
    _assert_clean(all_logs)


def test_an_inbound_text_never_reaches_the_logs(app, db, live_server, all_logs, monkeypatch):
    from twilio.request_validator import RequestValidator

    # Twilio signs PUBLIC_BASE_URL + path with the account's auth token (as tests/test_webhooks.py does).
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", "log-test-auth-token")
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", live_server)
    _user, _member, _case = factories.make_family(phone=PHONE_E164)
    url = live_server + INBOUND_SMS_WEBHOOK
    params = {"MessageSid": "SM" + "1" * 32, "From": PHONE_E164, "To": "+13125550100",
              "Body": f"{MARKER} the dealer is at {PHONE_TYPED}"}
    signature = RequestValidator(app.config["TWILIO_AUTH_TOKEN"]).compute_signature(url, params)
    response = requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10)
    assert response.status_code < 400
    from portal.models import InboundSms

    assert db.session.scalar(select(InboundSms.id)) is not None, "the text was not stored"
    _assert_clean(all_logs)


def test_a_database_error_while_saving_a_lead_logs_neither_its_text_nor_its_values(app, db, all_logs, monkeypatch):
    """SQLAlchemy's error text would repeat the values sent (hidden: hide_parameters), and PostgreSQL's own
    details repeat the failing row (scrubbed): the trace is logged under a reference, without the lead."""
    from sqlalchemy import text

    from portal import create_app
    from portal.services import leads as lead_service

    from .conftest import csrf_from, sign_in

    broken = create_app("testing", {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                    "UPLOAD_DIR": app.config["UPLOAD_DIR"], "PROPAGATE_EXCEPTIONS": False})
    broken.test_client_class = app.test_client_class

    def save_badly(**kwargs):  # a bug: a lead without its case (NOT NULL), carrying the typed text
        from portal.extensions import db as _db

        _db.session.execute(text("INSERT INTO leads (reference, details) VALUES ('L-BUG', :details)"),
                            {"details": kwargs["content"].details})

    monkeypatch.setattr(lead_service, "submit_lead", save_badly)
    user, _member, case = factories.make_family()
    client = broken.test_client()
    sign_in(client, user)
    page = client.get(LEAD_FORM.format(case_id=case.id)).get_data(as_text=True)
    response = client.post(LEAD_FORM.format(case_id=case.id),
                           data={"csrf_token": csrf_from(page), "submission_key": "k" * 24,
                                 "details": f"{MARKER} the dealer's number is {PHONE_TYPED}"})
    assert response.status_code == 500 and MARKER not in response.get_data(as_text=True)
    written = [ScrubbingFormatter().format(r) for r in all_logs.records]  # what the app's log handler writes
    assert any("IntegrityError" in t for t in written), f"the error was not logged: {[t[-600:] for t in written]}"
    leaks = [t for t in written if any(n in t for n in NEEDLES)]
    assert not leaks, "the lead reached the logs:\n" + "\n".join(leaks[:3])
