"""Carrier problems are visible: every Twilio error code by name, numbers that cannot get texts, the blocked alarm.

The texts go through the real Twilio SDK into tests/fake_twilio.py, which answers error codes and sends signed
status callbacks (with ErrorCode) to the live portal.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import event, select

from portal.models import FILTERED_ERROR_CODES, AuditEvent, FamilyMember, Notification
from portal.services.agency import get_agency
from portal.services.cases import update_family_member
from portal.services.contact import case_contact_overview
from portal.services.notifications import carrier_codes
from portal.services.notifications.carrier_alarm import _blocked_since
from portal.services.notifications.outbox import queue_family_sms, queue_sms, why_no_text
from portal.tasks import delivery

from . import factories
from .conftest import sign_in
from .html_pages import form_with_action
from .sms_helpers import daytime, fake_twilio, live_portal, twilio  # noqa: F401  (fixtures)

BANNER = "Phone companies are blocking our texts"


@pytest.fixture
def carrier(app, db, twilio, live_portal, monkeypatch, daytime):  # noqa: F811
    """The fake Twilio, calling back to the live portal with signatures it accepts; returns the fake."""
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", twilio.auth_token)
    get_agency()  # the settings row, as every running portal has: reading flags later writes nothing
    db.session.commit()
    return twilio


def _member(db, *, phone: str, liaison=None) -> FamilyMember:
    member = factories.make_family_member(case=factories.make_case(liaison=liaison), phone=phone)
    db.session.commit()
    return member


def _send(db, fake, member: FamilyMember, body: str = "There is an update."):
    """Queue a text for the member, deliver it into the fake; returns the outbox row and what the fake received."""
    message = queue_sms(to=member.phone, body=body, kind="test", urgent=True, case=member.case, family_member=member)
    db.session.commit()
    delivery.drain(ids=[message.id])
    received = next(m for m in fake.messages if m.outbox_id == message.id)
    return message, received


def _reload(db, model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def _home(app, user, endpoint_path: str = "/staff/") -> str:
    client = app.test_client()
    sign_in(client, user)
    response = client.get(endpoint_path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


# -- the table ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", sorted(carrier_codes.CODES))
def test_every_code_in_the_table_has_a_name_plain_words_in_both_languages_and_an_action(app, code):
    entry = carrier_codes.CODES[code]
    assert entry.code == code and code.isdigit() and len(code) == 5
    assert entry.name.strip() and entry.action in carrier_codes.ACTIONS
    with app.test_request_context(), force_locale("en"):
        english = carrier_codes.meaning(code)
    with app.test_request_context(), force_locale("es"):
        spanish = carrier_codes.meaning(code)
    assert english.strip() and spanish.strip() and spanish != english


def test_the_codes_the_brief_names_do_what_it_says():
    actions = {code: carrier_codes.action_for(code) for code in
               ("30003", "30005", "30006", "21211", "21614", "21610", "30007", "30034", "20429")}
    assert actions == {"30003": "not_textable", "30005": "not_textable", "30006": "not_textable",
                       "21211": "not_textable", "21614": "not_textable", "21610": "opted_out",
                       "30007": "filtered", "30034": "filtered", "20429": "retry"}
    assert carrier_codes.action_for("39999") == "retry"  # a Twilio code we do not know: the normal retries
    assert carrier_codes.action_for("config", retryable=False) == "give_up"
    # The alarm's partial index is written for exactly the table's filtered codes.
    assert carrier_codes.FILTERED_CODES == FILTERED_ERROR_CODES


# -- a number that cannot get texts --------------------------------------------------------------------------------

def test_a_30006_callback_marks_the_number_not_textable_flags_the_case_and_no_more_texts_go(app, db, carrier):
    liaison = factories.make_user(role="liaison")
    member = _member(db, phone="+13125550161", liaison=liaison)
    message, received = _send(db, carrier, member)
    waiting = queue_sms(to=member.phone, body="Later news.", kind="test", case=member.case, family_member=member,
                        not_before=delivery.utcnow() + timedelta(hours=3))
    db.session.commit()

    assert carrier.send_status(received, "sent").status_code == 204
    assert carrier.send_status(received, "undelivered", error_code=30006).status_code == 204

    marked = _reload(db, FamilyMember, member.id)
    assert (marked.phone_not_textable_code, marked.phone_not_textable_at is not None) == ("30006", True)
    assert _reload(db, Notification, message.id).error_code == "30006"
    assert db.session.get(Notification, waiting.id).status == "blocked"  # what was waiting will not go either
    with app.test_request_context():
        assert "landline" in why_no_text(marked)
        assert queue_family_sms(marked, "update", kind="update") is None
        [flag] = [f for f in case_contact_overview(marked.case)[0] if f.member_id == member.id]
        assert flag.kind == "not_textable" and "landline" in flag.reason
    page = _home(app, liaison)
    assert "This number cannot get texts (the number is a landline or cannot get texts)" in page
    sent_before = len(carrier.messages)
    delivery.sweep(budget_seconds=5)
    assert len(carrier.messages) == sent_before


def test_the_api_refusing_a_number_marks_it_at_once_without_retries(app, db, carrier):
    member = _member(db, phone="+13125550162")
    carrier.fail(code=21614, times=1)
    message = queue_sms(to=member.phone, body="hi", kind="test", urgent=True, case=member.case, family_member=member)
    db.session.commit()
    assert delivery.deliver_message(message.id) == "failed"
    assert _reload(db, FamilyMember, member.id).phone_not_textable_code == "21614"
    assert db.session.get(Notification, message.id).attempts == 1


def test_staff_changing_the_number_clears_not_textable(app, db, carrier):
    member = _member(db, phone="+13125550163")
    _message, received = _send(db, carrier, member)
    carrier.send_status(received, "undelivered", error_code=30003)
    member = _reload(db, FamilyMember, member.id)
    assert member.phone_not_textable_at is not None
    with app.test_request_context():
        update_family_member(member, name=member.name, relationship=member.relationship_to_decedent,
                             phone="+13125550164", email=member.email, language=member.language,
                             cadence=member.cadence, is_spokesperson=member.is_spokesperson, by=None)
        db.session.commit()
        member = _reload(db, FamilyMember, member.id)
        assert (member.phone_not_textable_at, member.phone_not_textable_code) == (None, None)
        assert why_no_text(member) is None


def test_an_unknown_code_from_the_api_is_retried_like_any_failure(app, db, carrier):
    member = _member(db, phone="+13125550165")
    carrier.fail(code=39999, times=1)
    message = queue_sms(to=member.phone, body="hi", kind="test", urgent=True, case=member.case, family_member=member)
    db.session.commit()
    assert delivery.deliver_message(message.id) == "queued"
    assert _reload(db, FamilyMember, member.id).phone_not_textable_at is None


# -- the agency-wide alarm -----------------------------------------------------------------------------------------

def _blocked(db, fake, n: int, *, code: int = 30007, start: int = 170) -> None:
    for i in range(n):
        member = _member(db, phone=f"+1312555{start + i:04d}")
        _message, received = _send(db, fake, member)
        assert fake.send_status(received, "undelivered", error_code=code).status_code == 204


def test_three_filtered_texts_in_an_hour_raise_the_alarm_for_supervisors_and_admins_only(app, db, carrier):
    supervisor, admin = factories.make_user(role="supervisor"), factories.make_user(role="admin")
    liaison = factories.make_user(role="liaison")
    _blocked(db, carrier, 2)
    assert BANNER not in _home(app, supervisor)  # two are not yet a pattern
    _blocked(db, carrier, 1, code=30034, start=190)
    for page in (_home(app, supervisor), _home(app, admin), _home(app, admin, "/staff/admin")):
        assert ("Phone companies are blocking our texts: 3 texts blocked in the last hour (error 30007, carrier "
                "filtering; error 30034, our number is not registered for texting (A2P 10DLC)). Check our texting "
                "sign-up with Twilio.") in page
    assert BANNER not in _home(app, liaison)


def test_an_acknowledged_alarm_stays_quiet_until_a_new_blocked_text_arrives(app, db, carrier):
    supervisor = factories.make_user(role="supervisor")
    _blocked(db, carrier, 3)
    client = app.test_client()
    sign_in(client, supervisor)
    page = client.get("/staff/").get_data(as_text=True)
    assert BANNER in page
    form = form_with_action(page, "/staff/carrier-alarm/acknowledge")
    assert client.post(form.action, data=form.data()).status_code == 302
    assert BANNER not in client.get("/staff/").get_data(as_text=True)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "carrier_alarm.acknowledge"))
    assert event.actor_id == supervisor.id and event.details["blocked"] == 3
    _blocked(db, carrier, 1, start=180)
    assert "4 texts blocked in the last hour" in client.get("/staff/").get_data(as_text=True)


def test_the_alarm_counts_only_the_last_hour(app, db, carrier, daytime):  # noqa: F811
    supervisor = factories.make_user(role="supervisor")
    _blocked(db, carrier, 3)
    assert BANNER in _home(app, supervisor)
    daytime.shift(timedelta(minutes=61))
    assert BANNER not in _home(app, supervisor)


def test_acknowledging_without_the_csrf_token_changes_nothing(app, db, carrier):
    supervisor = factories.make_user(role="supervisor")
    _blocked(db, carrier, 3)
    client = app.test_client()
    sign_in(client, supervisor)
    assert client.post("/staff/carrier-alarm/acknowledge", data={}).status_code == 400
    assert BANNER in client.get("/staff/").get_data(as_text=True)
    assert _reload(db, type(get_agency()), get_agency().id).carrier_alarm_acknowledged_at is None


def test_the_alarm_reads_the_outbox_through_its_partial_index(app, db):
    statements = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        _blocked_since(delivery.utcnow() - timedelta(hours=1))
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    [(sql, params)] = statements  # one statement
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")  # a tiny table: ask whether the index can serve it
            plan = " ".join(str(r[0]) for r in conn.exec_driver_sql("EXPLAIN " + sql, params))
        else:
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params))
    assert "ix_notifications_carrier_filtered_updated_at" in plan
