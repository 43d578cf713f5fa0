"""Anonymous tips: a revocable link, no trace of the tipster anywhere, code and passphrase to check back."""
from __future__ import annotations

import hashlib
import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db as _db
from portal.extensions import limiter
from portal.models import AuditEvent, Lead, LeadAttachment, LeadQuestion, TipLink

from . import factories
from . import family_factories as ffac
from . import family_files as ff
from .conftest import IsolatedClient, csrf_from, sign_in
from .family_helpers import hidden

TIPSTER_IP = "203.0.113.77"
TIPSTER_UA = "TipsterPhone/9.9 (Linux; Android 14; UniqueUA-5f3a2b)"


def _tipster(app):
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": TIPSTER_IP, "HTTP_USER_AGENT": TIPSTER_UA})
    return client


@pytest.fixture
def link(client):
    """A family member makes a tip link through the portal; returns (path, case)."""
    user, _member, case = factories.make_family(liaison=factories.make_user(role="liaison"))
    sign_in(client, user)
    page = client.get(f"/my/cases/{case.id}/tip-links").get_data(as_text=True)
    created = client.post(f"/my/cases/{case.id}/tip-links", data={"csrf_token": csrf_from(page)})
    assert created.status_code == 200
    url = re.search(r'id="tip-link-value">([^<]+)<', created.get_data(as_text=True)).group(1)
    return url.replace("http://localhost", ""), case


def _send_tip(tipster, path, *, files=None, **fields):
    form_token = hidden(tipster.get(path).get_data(as_text=True), "form_token")
    data = {"form_token": form_token, "details": "I saw who sold it", **fields}
    if files:
        data["files"] = files
    return tipster.post(path, data=data, content_type="multipart/form-data"), form_token


def _codes(html: str) -> tuple[str, str]:
    code = re.search(r'id="tip-code">([^<]+)<', html).group(1)
    passphrase = re.search(r'id="tip-passphrase">([^<]+)<', html).group(1)
    return code, passphrase


def _every_stored_value(db) -> str:
    chunks = []
    for table in _db.metadata.sorted_tables:
        for row in db.session.execute(table.select()).all():
            chunks.extend(str(value) for value in row)
    return "\n".join(chunks)


def test_only_the_links_hash_is_stored_and_the_link_is_shown_once(client, db, link):
    path, case = link
    token = path.rsplit("/", 1)[1]
    stored = db.session.scalar(select(TipLink).where(TipLink.case_id == case.id))
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in _every_stored_value(db)
    assert token not in client.get(f"/my/cases/{case.id}/tip-links").get_data(as_text=True)


def test_an_anonymous_tip_leaves_no_ip_or_user_agent_in_any_table_or_log(app, db, link, caplog):
    path, case = link
    caplog.set_level(logging.DEBUG)
    tipster = _tipster(app)
    first = tipster.get(path)
    assert first.status_code == 200 and case.decedent_name in first.get_data(as_text=True)
    response, _token = _send_tip(tipster, path, supplier="Ghost, blue Honda",
                                 files=[ff.upload(ff.jpeg_with_metadata(), "Jake's iPhone photo.jpg", "image/jpeg")])
    assert response.status_code == 200
    code, passphrase = _codes(response.get_data(as_text=True))
    lead = db.session.scalar(select(Lead))
    ffac.make_question(lead=lead, question="Which street?")
    status = tipster.post("/tip", data={"code": code, "passphrase": passphrase})
    question_id = db.session.scalar(select(LeadQuestion.id))
    answer = tipster.post("/tip/answer", data={"access": hidden(status.get_data(as_text=True), "access"),
                                               "question_id": question_id, "answer": "Elm Street"})
    assert answer.status_code == 200
    for r in (first, response, status, answer):
        assert "Set-Cookie" not in r.headers, "a tip page set a cookie"
    forbidden = [TIPSTER_IP, TIPSTER_UA, "UniqueUA-5f3a2b", hashlib.sha256(TIPSTER_IP.encode()).hexdigest(),
                 hashlib.sha256(TIPSTER_UA.encode()).hexdigest()]
    everything = _every_stored_value(db)
    assert "Elm Street" in everything and lead.tip_code in everything  # the scan does see the tip's rows
    for needle in forbidden:
        assert needle not in everything, f"{needle!r} is stored"
    for record in caplog.records:
        text = record.getMessage() + repr(record.__dict__)
        for needle in forbidden:
            assert needle not in text, f"{needle!r} was logged by {record.name}"
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.in_(
        ("lead.submit", "tip.lookup", "lead_question.answer")))).all()
    assert {e.action for e in events} == {"lead.submit", "tip.lookup", "lead_question.answer"}
    assert all(e.ip is None and e.actor_id is None for e in events)
    assert lead.is_anonymous and lead.submitted_by_id is None and lead.family_member_id is None
    # The file's name could name the tipster ("Jake's iPhone"): it is replaced.
    assert db.session.scalar(select(LeadAttachment.original_name)) == "file-1.jpg"


def test_code_and_passphrase_show_the_status_and_staff_questions(app, db, link):
    path, _case = link
    tipster = _tipster(app)
    response, _token = _send_tip(tipster, path)
    code, passphrase = _codes(response.get_data(as_text=True))
    lead = db.session.scalar(select(Lead))
    lead.status = "reviewing"
    db.session.commit()
    ffac.make_question(lead=lead, question="Did he drive a blue car?")
    typed = code.lower().replace("-", " ")  # as someone might copy it from paper
    page = tipster.post("/tip", data={"code": typed, "passphrase": passphrase.lower()})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Being reviewed" in html and "Did he drive a blue car?" in html and "I saw who sold it" not in html


def test_a_wrong_passphrase_is_refused(app, db, link):
    path, _case = link
    tipster = _tipster(app)
    code, _passphrase = _codes(_send_tip(tipster, path)[0].get_data(as_text=True))
    ffac.make_question(lead=db.session.scalar(select(Lead)), question="Secret question?")
    page = tipster.post("/tip", data={"code": code, "passphrase": "AAAA-BBBB-CCCC-DDDD"})
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert "The tip code or the passphrase is not right." in html and "Secret question?" not in html
    failed = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "tip.lookup"))
    assert failed.outcome == "failed" and failed.ip is None


@pytest.fixture
def limited(app):
    """The app with rate limits on (memory storage), sharing the suite's database; limits off again after."""
    from portal import create_app

    limited = create_app("testing", {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                     "UPLOAD_DIR": app.config["UPLOAD_DIR"], "RATELIMIT_ENABLED": True,
                                     "RATELIMIT_STORAGE_URI": "memory://"})
    limited.test_client_class = IsolatedClient
    try:
        yield limited
    finally:
        limiter.enabled = False
        with limited.app_context():
            _db.engine.dispose()


def _from(app, address):
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": address, "HTTP_USER_AGENT": TIPSTER_UA})
    return client


STRANGER_IP = "198.51.100.23"


def _counter_keys() -> str:
    storage = limiter.storage
    return " ".join(str(k) for k in (*getattr(storage, "storage", {}), *getattr(storage, "events", {})))


def test_the_right_tipster_still_gets_in_after_a_strangers_twenty_wrong_guesses(app, limited, db, link):
    path, _case = link
    code, passphrase = _codes(_send_tip(_tipster(app), path)[0].get_data(as_text=True))
    stranger = _from(limited, STRANGER_IP)
    statuses = [stranger.post("/tip", data={"code": code, "passphrase": f"WRONG{i}"}).status_code for i in range(20)]
    assert statuses[:5] == [422] * 5 and set(statuses[5:]) == {429}  # slowed: no more tries from there
    assert stranger.post("/tip", data={"code": code, "passphrase": passphrase}).status_code == 429
    tipster = _tipster(limited)
    page = tipster.post("/tip", data={"code": code, "passphrase": passphrase})
    assert page.status_code == 200 and "Set-Cookie" not in page.headers
    assert f"Your tip {code}" in page.get_data(as_text=True)
    keys = _counter_keys()
    assert keys and STRANGER_IP not in keys and TIPSTER_IP not in keys


def test_a_tipster_who_mistypes_is_slowed_then_let_in(app, limited, db, link):
    import time_machine

    from portal.models import utcnow

    path, _case = link
    code, passphrase = _codes(_send_tip(_tipster(app), path)[0].get_data(as_text=True))
    with time_machine.travel(utcnow(), tick=False) as traveller:
        tipster = _tipster(limited)
        assert [tipster.post("/tip", data={"code": code, "passphrase": f"typo{i}"}).status_code
                for i in range(5)] == [422] * 5
        blocked = tipster.post("/tip", data={"code": code, "passphrase": passphrase})
        assert blocked.status_code == 429 and "Set-Cookie" not in blocked.headers
        assert "too many tries" in blocked.get_data(as_text=True)
        traveller.shift(timedelta(minutes=16))
        assert tipster.post("/tip", data={"code": code, "passphrase": passphrase}).status_code == 200


def test_two_hundred_look_ups_over_two_hundred_codes_from_one_address_are_throttled(limited, db, caplog):
    caplog.set_level(logging.DEBUG)
    guesser = _from(limited, STRANGER_IP)
    statuses, answers = [], []
    for i in range(200):
        answer = guesser.post("/tip", data={"code": f"T-{i:04d}-ZZZZ", "passphrase": "any passphrase at all"})
        statuses.append(answer.status_code)
        answers.append(answer)
    assert statuses[:10] == [422] * 10 and set(statuses[10:]) == {429}  # 10 argon2 checks, not 200
    for answer in answers[10:]:
        assert "Set-Cookie" not in answer.headers
    assert "too many tries" in answers[-1].get_data(as_text=True)
    assert "tip" in answers[-1].get_data(as_text=True).lower()
    # Another address has its own count; neither address is in the counter store.
    assert _from(limited, "192.0.2.44").post("/tip", data={"code": "T-2222-2222", "passphrase": "x"}) \
        .status_code == 422
    keys = _counter_keys()
    assert "tip_lookup" in keys and STRANGER_IP not in keys and "192.0.2.44" not in keys
    assert "exceeded" in caplog.text and STRANGER_IP not in caplog.text  # the limiter logs only the keyed hash


def test_tip_look_up_keys_are_keyed_hashes_of_the_address(limited):
    from portal.web.security import address_key

    with limited.test_request_context("/tip", environ_base={"REMOTE_ADDR": STRANGER_IP}):
        key = address_key("tips")
        assert STRANGER_IP not in key and len(key) == 32
        assert key != address_key("tips", "T-1111-1111") != address_key("sign-in")  # one key per purpose
        assert key != hashlib.sha256(STRANGER_IP.encode()).hexdigest()[:32]  # keyed: not a plain hash
        secret = limited.config["SECRET_KEY"]
        limited.config["SECRET_KEY"] = "another secret"
        try:
            assert address_key("tips") != key  # without the app's secret, the key cannot be rebuilt
        finally:
            limited.config["SECRET_KEY"] = secret


def test_the_same_tip_form_sent_twice_makes_one_tip_with_the_same_codes(app, db, link):
    path, _case = link
    tipster = _tipster(app)
    form_token = hidden(tipster.get(path).get_data(as_text=True), "form_token")
    pages = [tipster.post(path, data={"form_token": form_token, "details": "double click"}) for _ in range(2)]
    assert [p.status_code for p in pages] == [200, 200]
    assert _codes(pages[0].get_data(as_text=True)) == _codes(pages[1].get_data(as_text=True))
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 1


def test_a_stopped_link_no_longer_takes_tips_but_kept_tips_stay(app, client, db, link):
    path, case = link
    tipster = _tipster(app)
    _send_tip(tipster, path)
    stored = db.session.scalar(select(TipLink))
    page = client.get(f"/my/cases/{case.id}/tip-links").get_data(as_text=True)
    stop = client.post(f"/my/tip-links/{stored.id}/revoke", data={"csrf_token": csrf_from(page)})
    assert stop.status_code == 302
    gone = tipster.get(path)
    assert gone.status_code == 404 and "This link does not work" in gone.get_data(as_text=True)
    assert tipster.post(path, data={"details": "more"}).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 1


def test_a_post_from_another_site_is_refused(app, db, link):
    path, _case = link
    tipster = _tipster(app)
    form_token = hidden(tipster.get(path).get_data(as_text=True), "form_token")
    response = tipster.post(path, data={"form_token": form_token, "details": "forged"},
                            headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 0


def test_an_expired_form_keeps_the_typed_words(app, db, link):
    path, _case = link
    tipster = _tipster(app)
    response = tipster.post(path, data={"form_token": "forged-or-old", "details": "Words I typed for an hour"})
    assert response.status_code == 422
    assert "Words I typed for an hour" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 0


def test_tip_pages_can_be_read_in_spanish_without_a_cookie(app, link):
    path, _case = link
    page = _tipster(app).get(path + "?lang=es")
    assert '<html lang="es">' in page.get_data(as_text=True) and "Set-Cookie" not in page.headers
