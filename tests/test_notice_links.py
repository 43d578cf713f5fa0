"""One-time links: a member without an account reads one update or message from a text, signed in as nobody.

Done when (issue 14): a one-time link opens its one item once per device session, answers 404 for any other id
and after expiry, and signs nobody in.
"""
from __future__ import annotations

import hashlib
import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, CaseMessage, NoticeLink, Notification, utcnow
from portal.services import cases, conversation
from portal.services.notifications.links import issue_link, link_for

from . import factories
from .sms_helpers import daytime  # noqa: F401  (fixture)

LINK = re.compile(r"http://localhost/n/([A-Za-z0-9_-]+)$")
SAID = "The lab results came back. Please call me when you can."
EARLIER = "An earlier message the family also has."


@pytest.fixture
def world(db, daytime):  # noqa: F811
    liaison = factories.make_user(role="liaison", name="Officer Sam Okafor")
    case = factories.make_case(liaison=liaison, decedent="Kayla Price")
    member = factories.make_family_member(case=case, phone="+13125550171")  # no account, generic texts
    return {"liaison": liaison, "case": case, "member": member}


def _token_in_text(member) -> str:
    body = db_text(member).body
    match = LINK.search(body)
    assert match, body
    return match.group(1)


def db_text(member) -> Notification:
    from portal.extensions import db

    return db.session.scalars(select(Notification).where(Notification.family_member_id == member.id)
                              .order_by(Notification.id.desc())).first()


def _staff_message(db, world, body: str = SAID) -> CaseMessage:
    message = conversation.post_staff_message(case=world["case"], author=world["liaison"], body=body)
    db.session.commit()
    return message


def test_the_text_to_a_member_without_an_account_carries_a_one_time_link_and_no_sign_in(db, world):
    _staff_message(db, world)
    text = db_text(world["member"])
    assert text.body.startswith("There is an update from ") and "Read it here: " in text.body
    assert "sign in" not in text.body.lower()
    token = _token_in_text(world["member"])
    row = db.session.scalar(select(NoticeLink))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()  # only the hash is kept
    assert token not in repr([getattr(row, c.key) for c in NoticeLink.__table__.columns])
    assert row.expires_at - row.created_at == timedelta(days=7) and row.item_kind == "message"


def test_a_member_with_an_account_gets_the_sign_in_link_and_no_one_time_link(db, world):
    user = factories.make_user(role="family")
    member = factories.make_family_member(case=world["case"], user=user, phone="+13125550172")
    _staff_message(db, world)
    body = db_text(member).body
    assert "Sign in to read it: " in body and body.endswith(f"http://localhost/my/cases/{world['case'].id}/messages")
    assert "/n/" not in body
    assert db.session.scalar(select(NoticeLink.id).where(NoticeLink.family_member_id == member.id)) is None


def test_a_link_opens_its_one_message_in_the_first_session_only_and_signs_nobody_in(app, client, db, world):
    _staff_message(db, world, EARLIER)
    _staff_message(db, world)
    token = _token_in_text(world["member"])
    first = client.get(f"/n/{token}")
    page = first.get_data(as_text=True)
    assert first.status_code == 200
    assert SAID in page and "Officer Sam Okafor" in page and EARLIER not in page and "Kayla Price" not in page
    assert "Waiting for lab results" not in page  # the case is still at its first step
    assert first.headers["Cache-Control"] == "no-store" and first.headers["Referrer-Policy"] == "no-referrer"
    assert "quick-exit" in page
    assert client.get(f"/n/{token}").status_code == 200  # a reload in the same browser session
    with client.session_transaction() as session:
        assert "_user_id" not in session and "_id" not in session
    home = client.get("/my")
    assert home.status_code == 302 and home.headers["Location"].startswith("/login")
    other = app.test_client()  # another phone, or the same one with its cookies cleared
    refused = other.get(f"/n/{token}")
    assert refused.status_code == 404 and SAID not in refused.get_data(as_text=True)
    assert refused.headers["Cache-Control"] == "no-store" and refused.headers["Referrer-Policy"] == "no-referrer"
    assert client.get(f"/n/{token}").status_code == 200  # the first session keeps it


def test_any_other_token_answers_404(app, client, db, world):
    _staff_message(db, world, EARLIER)
    older = _token_in_text(world["member"])
    _staff_message(db, world)
    token = _token_in_text(world["member"])
    assert client.get(f"/n/{token}").status_code == 200
    for wrong in (token[:-1] + ("A" if token[-1] != "A" else "B"), token[:-2], token + "x", "x" * 43,
                  str(db.session.scalar(select(NoticeLink.id)))):
        response = client.get(f"/n/{wrong}")
        assert response.status_code == 404, wrong
        assert SAID not in response.get_data(as_text=True)
    elsewhere = app.test_client()
    assert elsewhere.get(f"/n/{older}").status_code == 200  # each link is its own: the older one opens elsewhere
    assert client.get(f"/n/{older}").status_code == 404  # ...and is bound there now


def test_a_link_answers_404_after_it_expires_even_in_its_own_session(client, db, world, daytime):  # noqa: F811
    _staff_message(db, world)
    token = _token_in_text(world["member"])
    assert client.get(f"/n/{token}").status_code == 200
    daytime.shift(timedelta(days=7, minutes=1))
    assert client.get(f"/n/{token}").status_code == 404
    unopened = issue_link(world["member"], db.session.scalar(select(CaseMessage)))
    db.session.commit()
    row = db.session.scalar(select(NoticeLink).order_by(NoticeLink.id.desc()))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(unopened.removeprefix("http://localhost")).status_code == 404


def test_a_stage_change_link_opens_the_update_and_not_an_internal_note(app, client, db, world):
    case = world["case"]
    cases.add_update(case, body="Internal: the detective's private note.", family_visible=False,
                     author=world["liaison"])
    update = cases.change_stage(case, stage_to="awaiting_toxicology", message="We sent the samples to the lab.",
                                author=world["liaison"])
    db.session.commit()
    text = db_text(world["member"])
    assert text.kind == "stage_change" and "sign in" not in text.body.lower()
    page = client.get(f"/n/{_token_in_text(world['member'])}").get_data(as_text=True)
    assert "We sent the samples to the lab." in page and "Waiting for lab results" in page
    assert "private note" not in page
    update.family_visible = False  # staff made it internal since
    db.session.commit()
    assert client.get(f"/n/{_token_in_text(world['member'])}").status_code == 404


def test_a_link_to_a_deleted_message_answers_404(client, db, world):
    message = _staff_message(db, world)
    token = _token_in_text(world["member"])
    db.session.delete(message)
    db.session.commit()
    assert client.get(f"/n/{token}").status_code == 404


def test_the_page_is_in_the_members_language(client, db, world):
    world["member"].language = "es"
    db.session.commit()
    _staff_message(db, world)
    text = db_text(world["member"])
    assert "Hay novedades de " in text.body and "/n/" in text.body
    page = client.get(f"/n/{_token_in_text(world['member'])}").get_data(as_text=True)
    assert 'lang="es"' in page and "Un mensaje de Officer Sam Okafor" in page and SAID in page


def test_every_open_is_audited_with_no_actor_and_no_token_and_no_log_holds_it(app, client, db, world, caplog):
    caplog.set_level(logging.DEBUG)
    _staff_message(db, world)
    token = _token_in_text(world["member"])
    client.get(f"/n/{token}")
    client.get(f"/n/{token}")
    app.test_client().get(f"/n/{token}")
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "notice_link.open")
                                .order_by(AuditEvent.id)).all()
    assert [e.outcome for e in events] == ["ok", "ok", "refused"]
    assert all(e.actor_id is None for e in events)
    assert not any(token in repr(vars(e)) for e in events)
    assert not any(token in record.getMessage() for record in caplog.records)


def test_link_for_keeps_the_portal_link_for_account_holders_and_members_texts_cannot_reach(db, world):
    message = _staff_message(db, world)
    account = factories.make_family_member(case=world["case"], user=factories.make_user(role="family"),
                                           phone="+13125550174")
    no_phone = factories.make_family_member(case=world["case"], phone=None)
    for member in (account, no_phone):
        assert link_for(member, message, "http://localhost/my") == "http://localhost/my"
    detailed = factories.make_family_member(case=world["case"], phone="+13125550173", detailed_texts=True)
    for member in (world["member"], detailed):  # without an account, detailed texts or not, nobody is sent to sign in
        assert link_for(member, message, "http://localhost/my").startswith("http://localhost/n/")


def test_an_internal_update_or_a_family_message_gets_no_link(db, world):
    from portal.errors import ServiceError

    note = factories.make_update(case=world["case"], family_visible=False)
    family_words = conversation.post_family_message(case=world["case"], member=world["member"], body="Hi",
                                                    actor=None)
    for item in (note, family_words):
        with pytest.raises(ServiceError):
            issue_link(world["member"], item)


def test_staff_see_the_text_in_the_case_outbox_with_its_one_time_link_hidden(app, db, world):
    from .conftest import sign_in

    _staff_message(db, world)
    token = _token_in_text(world["member"])
    staff = app.test_client()
    sign_in(staff, world["liaison"])
    page = staff.get(f"/staff/cases/{world['case'].id}").get_data(as_text=True)
    assert "There is an update from " in page and "one-time link, hidden" in page
    assert token not in page and "/n/" not in page


def test_wrong_links_from_one_address_are_rate_limited_and_reloads_are_not(app, db, world):
    from portal import create_app
    from portal.extensions import limiter
    from portal.web.security import limits_on

    assert "notice_link" in limits_on(app, "notices.open_notice")
    limited = create_app("testing", {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                     "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
                                     "UPLOAD_DIR": app.config["UPLOAD_DIR"],
                                     "RATE_LIMITS": {"notice_link": "3 per minute"}})
    limited.test_client_class = app.test_client_class
    try:
        _staff_message(db, world)
        token = _token_in_text(world["member"])
        client = limited.test_client()
        assert [client.get(f"/n/{token}").status_code for _ in range(5)] == [200] * 5  # reloads count for nothing
        wrong = [client.get(f"/n/{'x' * 43}").status_code for _ in range(4)]
        assert wrong == [404, 404, 404, 429]
    finally:
        limiter.enabled = False


def test_the_stage_change_preview_shows_the_words_each_member_gets_and_makes_no_link(db, world):
    with_account = factories.make_family_member(case=world["case"], user=factories.make_user(role="family"),
                                                phone="+13125550174")
    preview = cases.preview_stage_change(world["case"], stage_to="investigating", message="Detectives started.")
    texts = {n.member.id: n.text for n in preview.notices}
    assert "Read it here: [one-time link, hidden" in texts[world["member"].id]
    assert "Sign in to read it: " in texts[with_account.id]
    assert db.session.scalar(select(NoticeLink.id)) is None


def test_a_revoked_link_answers_404_in_its_own_session(client, db, world):
    _staff_message(db, world)
    token = _token_in_text(world["member"])
    assert client.get(f"/n/{token}").status_code == 200
    db.session.scalar(select(NoticeLink)).revoked_at = utcnow()
    db.session.commit()
    assert client.get(f"/n/{token}").status_code == 404


def test_with_detailed_texts_a_member_without_an_account_gets_the_words_in_full(db, world):
    world["member"].detailed_texts = True
    db.session.commit()
    _staff_message(db, world)
    text = db_text(world["member"])
    assert text.body == f"Demo County Police Department, Sam: {SAID}"
    assert "sign in" not in text.body.lower()


def test_the_email_and_the_text_carry_links_of_their_own(db, world):
    from portal.services.notifications.email import content_of

    member = world["member"]
    member.email, member.email_consent_at = "rosa@example.org", utcnow()
    db.session.commit()
    _staff_message(db, world)
    texts = db.session.scalars(select(Notification).where(Notification.family_member_id == member.id)
                               .order_by(Notification.channel)).all()
    assert [t.channel for t in texts] == ["email", "sms"]
    email_link = re.search(r"/n/[A-Za-z0-9_-]+", content_of(texts[0].body).text).group(0)
    sms_link = re.search(r"/n/[A-Za-z0-9_-]+", texts[1].body).group(0)
    assert email_link != sms_link
    assert db.session.scalar(select(func.count()).select_from(NoticeLink)) == 2
