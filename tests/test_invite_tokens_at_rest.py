"""Done when: no invite token appears in any table (read raw, and with every encrypted value opened with the keys)
or log line after an invite is created through the staff page and its text delivered. The family still gets the
working link; the outbox keeps the text with the token replaced."""
from __future__ import annotations

import logging
import re

from sqlalchemy import select

from portal.crypto import is_encrypted
from portal.extensions import db
from portal.models import Notification
from portal.models.types import encrypted_columns
from portal.providers.sms import SmsError
from portal.tasks.delivery import drain
from tests import factories
from tests.conftest import csrf_from
from tests.encryption_world import raw_rows, raw_text


def _opened_text() -> str:
    """Every value of every table, the encrypted ones opened with the app's keys: what someone with the database
    and the keys could read."""
    kinds = {(t, c): kind for t, c, kind in encrypted_columns(db.metadata)}
    out = []
    for table, rows in raw_rows().items():
        for row in rows:
            for column, value in row.items():
                kind = kinds.get((table, column))
                out.append(str(kind.process_result_value(value, None) if kind and is_encrypted(value) else value))
    return "\n".join(out)


def _invite_through_the_staff_page(client, login_as, phone: str) -> None:
    liaison = login_as("liaison")
    case = factories.make_case(liaison=liaison)
    member = factories.make_family_member(case=case, phone=phone)
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    response = client.post(f"/staff/members/{member.id}/invite", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 200


def test_no_invite_token_is_left_in_any_table_or_log_line_once_the_invite_is_delivered(app, client, login_as, db,
                                                                                       caplog):
    caplog.set_level(logging.DEBUG)  # every logger, every level
    _invite_through_the_staff_page(client, login_as, "+13125550177")
    db.session.remove()
    result = drain()
    assert result.sent == 1

    (sent,) = app.extensions["sms_client"].sent  # what reached the family's phone
    token = re.search(r"/invite/([A-Za-z0-9_-]+)", sent["body"]).group(1)
    assert len(token) >= 32
    assert client.get(f"/invite/{token}").status_code == 200  # the link they got works

    assert token not in raw_text()
    assert token not in _opened_text(), "an outbox row, opened with the keys, still takes over the invite"
    body = db.session.scalar(select(Notification.body).where(Notification.kind == "invite"))
    assert "/invite/[sent]" in body and body.startswith(sent["body"].split("/invite/")[0])
    logged = "\n".join(record.getMessage() for record in caplog.records) + caplog.text
    assert token not in logged


def test_a_text_that_can_never_be_sent_loses_its_token_too(app, client, login_as, db):
    _invite_through_the_staff_page(client, login_as, "+13125550178")
    app.extensions["sms_client"].fail_with = SmsError("not a mobile number", code="21614", retryable=False)
    db.session.remove()
    assert drain().failed == 1
    text = db.session.scalar(select(Notification).where(Notification.kind == "invite"))
    assert text.status == "failed" and "/invite/[sent]" in text.body
    assert re.search(r"/invite/[A-Za-z0-9_-]{8,}", _opened_text()) is None


def test_a_text_waiting_for_a_retry_keeps_its_link(app, client, login_as, db):
    _invite_through_the_staff_page(client, login_as, "+13125550179")
    app.extensions["sms_client"].fail_with = SmsError("provider down", code="503", retryable=True)
    db.session.remove()
    assert drain().retrying == 1
    text = db.session.scalar(select(Notification).where(Notification.kind == "invite"))
    assert text.status == "queued" and re.search(r"/invite/[A-Za-z0-9_-]{32,}", text.body)
