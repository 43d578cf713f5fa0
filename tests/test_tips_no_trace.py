"""The anonymous tip pages leave no trace in the tipster's browser: no cookie on any answer, no Referer, no cache.

Every tip route is walked on every status it can answer (and unknown addresses under the tip prefixes), by a
fresh tipster and by a staff member who holds a session cookie: no answer carries Set-Cookie, and the staff
member's cookie is neither read (they are nobody there) nor refreshed.
"""
from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from sqlalchemy.exc import OperationalError

from portal import create_app
from portal.extensions import db as _db
from portal.extensions import limiter
from portal.models import TipLink, utcnow
from portal.services import invitations
from portal.services import leads as lead_service

from . import factories
from . import family_factories as ffac
from .conftest import IsolatedClient, sign_in
from .security_world import tip_access_pass, tip_form_token

CROSS_SITE = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}


def _link(case, member) -> tuple[TipLink, str]:
    token = secrets.token_urlsafe(24)
    link = TipLink(case_id=case.id, token_hash=invitations.token_hash(token), created_by_family_member_id=member.id)
    _db.session.add(link)
    _db.session.flush()
    return link, token


@pytest.fixture
def tips(db):
    """A case with a working tip link, a stopped one, and a tip with a staff question."""
    liaison = factories.make_user(role="liaison")
    _user, member, case = factories.make_family(liaison=liaison)
    link, token = _link(case, member)
    stopped, stopped_token = _link(case, member)
    stopped.revoked_at = utcnow()
    nonce = secrets.token_urlsafe(24)
    passphrase = lead_service.tip_passphrase(nonce)
    lead, _created = lead_service.submit_lead(
        case=case, content=lead_service.LeadContent(details="Ask about the blue car."), files=[],
        key=lead_service.submission_key(f"tip:{link.id}", nonce), tip_link=link, passphrase=passphrase)
    db.session.commit()
    question = ffac.make_question(lead=lead, question="Which street?", asked_by=liaison)
    return SimpleNamespace(link=link, token=token, stopped_token=stopped_token, lead=lead, passphrase=passphrase,
                           question=question, liaison=liaison)


@dataclass
class Visit:
    """One request to a tip address and the status it must answer."""

    name: str
    method: str
    path: Callable[[SimpleNamespace], str]
    status: int
    data: Callable[[SimpleNamespace], dict] = field(default=lambda w: {})
    headers: dict = field(default_factory=dict)
    big_body: bool = False  # a body over MAX_CONTENT_LENGTH (413)


def _tip_form(w) -> dict:
    return {"form_token": tip_form_token(w.link), "details": "I saw who sold it", "lang": "en"}


def _lookup(w) -> dict:
    return {"code": w.lead.tip_code, "passphrase": w.passphrase}


def _answer(w) -> dict:
    return {"access": tip_access_pass(w.lead), "question_id": str(w.question.id), "answer": "Elm Street"}


VISITS = [
    # /t/<token>: the tip form
    Visit("form", "GET", lambda w: f"/t/{w.token}", 200),
    Visit("form in Spanish", "GET", lambda w: f"/t/{w.token}?lang=es", 200),
    Visit("tip sent", "POST", lambda w: f"/t/{w.token}", 200, _tip_form),
    Visit("old form", "POST", lambda w: f"/t/{w.token}", 422, lambda w: {"form_token": "old", "details": "x"}),
    Visit("cross-site post", "POST", lambda w: f"/t/{w.token}", 403, _tip_form, CROSS_SITE),
    Visit("NUL byte", "POST", lambda w: f"/t/{w.token}", 400, lambda w: {**_tip_form(w), "details": "a\x00b"}),
    Visit("too big", "POST", lambda w: f"/t/{w.token}", 413, _tip_form, big_body=True),
    Visit("unknown link", "GET", lambda w: "/t/not-a-real-link-token", 404),
    Visit("stopped link", "GET", lambda w: f"/t/{w.stopped_token}", 404),
    Visit("stopped link post", "POST", lambda w: f"/t/{w.stopped_token}", 404, _tip_form),
    Visit("wrong method", "PUT", lambda w: f"/t/{w.token}", 404),
    # /tip: check a tip
    Visit("lookup", "GET", lambda w: "/tip", 200),
    Visit("lookup ok", "POST", lambda w: "/tip", 200, _lookup),
    Visit("wrong passphrase", "POST", lambda w: "/tip", 422, lambda w: {"code": w.lead.tip_code, "passphrase": "x"}),
    Visit("lookup cross-site", "POST", lambda w: "/tip", 403, _lookup, CROSS_SITE),
    Visit("lookup NUL", "GET", lambda w: "/tip?lang=e\x00s", 400),
    Visit("lookup too big", "POST", lambda w: "/tip", 413, _lookup, big_body=True),
    Visit("lookup wrong method", "DELETE", lambda w: "/tip", 404),
    # /tip/answer: answer a staff question
    Visit("answer", "POST", lambda w: "/tip/answer", 200, _answer),
    Visit("answer, pass expired", "POST", lambda w: "/tip/answer", 422, lambda w: {**_answer(w), "access": "x"}),
    Visit("answer, empty", "POST", lambda w: "/tip/answer", 422, lambda w: {**_answer(w), "answer": ""}),
    Visit("answer, no such question", "POST", lambda w: "/tip/answer", 404,
          lambda w: {**_answer(w), "question_id": "999999"}),
    Visit("answer cross-site", "POST", lambda w: "/tip/answer", 403, _answer, CROSS_SITE),
    Visit("answer too big", "POST", lambda w: "/tip/answer", 413, _answer, big_body=True),
    Visit("answer by GET", "GET", lambda w: "/tip/answer", 404),
    # unknown addresses under the tip prefixes (the app's own 404, not the blueprint's)
    Visit("/t/", "GET", lambda w: "/t/", 404),
    Visit("/t/x/y", "GET", lambda w: f"/t/{w.token}/more", 404),
    Visit("/tip/x", "GET", lambda w: "/tip/nothing-here", 404),
    Visit("/tips", "POST", lambda w: "/tips", 404, _lookup),
]


def _staff_browser(app, w):
    client = app.test_client()
    sign_in(client, w.liaison)
    assert client.get("/staff/").status_code == 200
    cookie = client.get_cookie("session")
    assert cookie is not None
    return client, cookie.value


def _send(client, w, visit: Visit):
    kwargs = {"headers": visit.headers}
    data = visit.data(w)
    if visit.big_body:
        data = {**data, "details": "x" * 4096}
    if data:
        kwargs["data"] = data
    return client.open(visit.path(w), method=visit.method, **kwargs)


def _assert_traceless(response, what: str) -> None:
    assert "Set-Cookie" not in response.headers, f"{what}: Set-Cookie {response.headers.getlist('Set-Cookie')}"
    assert response.headers.get("Referrer-Policy") == "no-referrer", what
    assert response.headers.get("Cache-Control") == "no-store", what
    assert "session" not in response.headers.get("Vary", "").lower() and "cookie" not in \
        response.headers.get("Vary", "").lower(), f"{what}: the session was read"


@pytest.mark.parametrize("visitor", ["tipster", "staff"])
def test_no_tip_answer_sets_a_cookie_whatever_its_status(app, tips, visitor, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2048)
    if visitor == "staff":
        client, before = _staff_browser(app, tips)
    else:
        client = app.test_client()
    seen = {}
    with caplog.at_level(logging.ERROR):
        for visit in VISITS:
            response = _send(client, tips, visit)
            seen[visit.name] = response.status_code
            _assert_traceless(response, f"{visit.method} {visit.name} ({response.status_code})")
    assert seen == {v.name: v.status for v in VISITS}
    # The safety net in PortalFlask.process_response never had to remove a cookie: none was ever set.
    assert not [r for r in caplog.records if "cookie was set on an anonymous tip page" in r.getMessage()]
    if visitor == "tipster":
        assert not list(client._cookies.values()), "the tipster's browser holds a cookie"
    else:
        assert client.get_cookie("session").value == before, "a tip page rewrote the staff member's session"
        assert client.get("/staff/").status_code == 200, "a tip page ended the staff member's session"


def test_a_tip_page_does_not_know_the_signed_in_staff_member(app, tips):
    """The staff member's cookie is not even read on a tip page: the page is the same as for a stranger."""
    client, _before = _staff_browser(app, tips)
    page = client.get("/tip").get_data(as_text=True)
    assert tips.liaison.name not in page and "Sign out" not in page
    assert page == app.test_client().get("/tip").get_data(as_text=True)


@pytest.mark.parametrize("failure, status", [(RuntimeError("a bug in a service"), 500),
                                             (OperationalError("SELECT 1", {}, Exception("gone")), 503)])
@pytest.mark.parametrize("visitor", ["tipster", "staff"])
def test_a_failing_tip_page_sets_no_cookie(app, tips, monkeypatch, failure, status, visitor):
    def broken(*_args, **_kwargs):
        raise failure

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setattr(lead_service, "find_tip", broken)
    monkeypatch.setattr(lead_service, "find_tip_link", broken)
    client, before = _staff_browser(app, tips) if visitor == "staff" else (app.test_client(), None)
    for response in (client.post("/tip", data=_lookup(tips)), client.get(f"/t/{tips.token}")):
        assert response.status_code == status
        _assert_traceless(response, f"{status}")
        assert "Traceback" not in response.get_data(as_text=True)
    if before is not None:
        assert client.get_cookie("session").value == before


def test_rate_limited_tip_pages_set_no_cookie(app, tips):
    limited = create_app("testing", {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                     "UPLOAD_DIR": app.config["UPLOAD_DIR"], "RATELIMIT_ENABLED": True,
                                     "RATE_LIMITS": {"tip_submission": "1 per minute",
                                                     "tip_lookup": "1 per 15 minutes"}})
    limited.test_client_class = IsolatedClient
    try:
        client = limited.test_client()
        wrong = {"code": tips.lead.tip_code, "passphrase": "WRONG"}
        answers = [client.post(f"/t/{tips.token}", data=_tip_form(tips)),
                   client.post(f"/t/{tips.token}", data=_tip_form(tips)),
                   client.post("/tip", data=wrong), client.post("/tip", data=wrong)]
        assert [r.status_code for r in answers] == [200, 429, 422, 429]
        for response in answers:
            _assert_traceless(response, str(response.status_code))
    finally:
        limiter.enabled = False
        with limited.app_context():
            _db.engine.dispose()


def test_other_pages_still_keep_their_session(client):
    """The tip rule is for tip addresses only: the sign-in page still gets its CSRF session."""
    response = client.get("/login")
    assert "session=" in " ".join(response.headers.getlist("Set-Cookie"))
    assert response.headers["Referrer-Policy"] == "same-origin"
