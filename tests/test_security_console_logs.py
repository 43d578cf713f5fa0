"""The console SMS backend and the delivery job: no phone number, link or token on the console or in a log line."""
from __future__ import annotations

import io
import logging

import pytest

from portal.providers.sms.local import ConsoleSmsClient, masked_number, redacted_body
from portal.services.invitations import create_invitation
from portal.services.notifications.outbox import queue_sms
from portal.tasks.delivery import drain

from . import factories

PHONE = "+13125550142"
TOKEN = "Q9xv3LmR7tYp2WcZ8kHs4NbF6jDe1Ga5"


def test_a_masked_number_keeps_only_the_country_code_and_last_four_digits():
    assert masked_number(PHONE) == "+1•••••0142"
    assert masked_number("+442071838750") == "+4•••••8750"  # the mask does not tell the number's length
    assert masked_number("123") == "•••••"


@pytest.mark.parametrize("body", [
    f"Open your invite: https://portal.example.gov/invite/{TOKEN} (works 3 days)",
    f"Open www.portal.example.gov/invite/{TOKEN}",
    f"Your code: {TOKEN}",
])
def test_a_redacted_body_has_no_link_and_no_token(body):
    cleaned = redacted_body(body)
    assert TOKEN not in cleaned and "/invite/" not in cleaned
    assert "[link]" in cleaned or "[token]" in cleaned


def test_the_console_prints_a_masked_number_and_no_link(app, db, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    stream = io.StringIO()
    monkeypatch.setitem(app.extensions, "sms_client", ConsoleSmsClient(stream))
    member = factories.make_family_member(case=factories.make_case(), phone=PHONE)
    _invitation, token = create_invitation(member, created_by=None)
    db.session.commit()
    result = drain()
    db.session.commit()
    assert result.sent == 1
    printed = stream.getvalue()
    assert "+1•••••0142" in printed and "[link]" in printed
    for needle in (PHONE, PHONE[2:], token, "/invite/"):
        assert needle not in printed
        assert needle not in caplog.text


class _Crashing:
    """A client with a bug whose exception repeats what it was handed (as library errors often do)."""

    def send(self, *, to, body, outbox_id):
        raise ValueError(f"cannot send {body!r} to {to}")


def test_a_crash_in_delivery_logs_no_number_and_no_body(app, db, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setitem(app.extensions, "sms_client", _Crashing())
    queue_sms(to=PHONE, body=f"Read it here: https://portal.example.gov/u/{TOKEN}", kind="test", urgent=True)
    db.session.commit()
    drain()
    db.session.commit()
    assert "sms delivery crashed" in caplog.text and "ValueError" in caplog.text
    for record in caplog.records:
        text = record.getMessage() + (logging.Formatter().formatException(record.exc_info)
                                      if record.exc_info else "")
        for needle in (PHONE, PHONE[2:], TOKEN, "portal.example.gov"):
            assert needle not in text
