"""Incoming texts: STOP/START/HELP change consent; other texts join the case conversation or the unmatched inbox."""
import itertools

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from portal.models import Agency, CaseMessage, FamilyMember, InboundSms, Notification, Outreach, utcnow
from portal.services.notifications.outbox import queue_family_sms, queue_sms
from portal.tasks import delivery as outbox

from . import factories
from .fake_twilio import AUTH_TOKEN

PUBLIC = "https://portal.example.gov"
_sids = itertools.count(1)


@pytest.fixture
def text_in(app, client, monkeypatch):
    """text_in(from_number, body, sid=None) posts a signed incoming text, as Twilio would."""
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", PUBLIC)

    def post(from_number, body, sid=None):
        params = {"MessageSid": sid or f"SM{next(_sids):032d}", "From": from_number, "To": "+13125550000",
                  "Body": body, "NumMedia": "0"}
        signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + "/webhooks/twilio/sms", params)
        response = client.post("/webhooks/twilio/sms", data=params, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200, response.status_code
        return response

    return post


@pytest.fixture
def inline(app, monkeypatch):
    """Deliver each text right after its transaction commits."""
    monkeypatch.setitem(app.config, "SMS_DELIVERY", "inline")


def _member(**fields):
    return factories.make_family_member(case=factories.make_case(), **fields)


def _fresh(db, model, ident):
    db.session.expire_all()  # the request changed the row in its own session
    return db.session.get(model, ident)


def _count(db, model, *where):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_after_stop_only_the_one_confirmation_goes_to_that_number_until_start(db, twilio, text_in, inline, daytime):
    member = _member(phone="+13125550140")
    number = member.phone

    def to_number():
        return [m for m in twilio.messages if m.to == number]

    queue_family_sms(member, "update", kind="update")
    db.session.commit()
    assert len(to_number()) == 1  # texts flow before STOP

    waiting = queue_sms(to=number, body="queued before the STOP", kind="update", case=member.case,
                        family_member=member, not_before=utcnow().replace(year=2027))  # deferred, not yet sent
    db.session.commit()
    text_in(number, "STOP")
    assert [m.body for m in to_number()[1:]] == [
        f"{db.session.get(Agency, 1).name}: you will get no more texts from us. Reply START to get them again."]

    # Everything anyone tries afterwards stays at home.
    assert queue_family_sms(_fresh(db, FamilyMember, member.id), "update", kind="update") is None
    direct = queue_sms(to=number, body="direct", kind="reminder", urgent=True, case=member.case)
    db.session.commit()
    text_in(number, "STOP")  # a second STOP: no second confirmation
    text_in(number, "HELP")  # no help reply to an opted-out number
    text_in(number, "stop texting me")
    outbox.sweep()
    assert len(to_number()) == 2
    assert _fresh(db, Notification, direct.id).status == "blocked"
    assert _fresh(db, Notification, waiting.id).status == "blocked"

    text_in(number, "START")
    assert "texts are on again" in to_number()[-1].body
    queue_family_sms(_fresh(db, FamilyMember, member.id), "update", kind="update")
    db.session.commit()
    assert len(to_number()) == 4  # texts flow again after START
    assert _count(db, Notification, Notification.kind == "opt_out_confirmation") == 1


@pytest.mark.parametrize("body", ["STOPALL", "unsubscribe", "Cancel", "end", "QUIT", "revoke", "OPTOUT",
                                  "Please stop texting me", "No me envíes más mensajes"])
def test_every_opt_out_word_opts_out_with_one_confirmation(db, sms, text_in, inline, body):
    member = _member(phone="+13125550141")
    text_in(member.phone, body)
    assert _fresh(db, FamilyMember, member.id).sms_opted_out_at is not None
    assert [t["body"].split(": ", 1)[1] for t in sms.sent] == [
        "you will get no more texts from us. Reply START to get them again."]


@pytest.mark.parametrize("body", ["START", "yes", "UNSTOP"])
def test_start_yes_and_unstop_opt_back_in(db, sms, text_in, inline, body):
    member = _member(phone="+13125550142", sms_opted_out_at=utcnow())
    text_in(member.phone, body)
    assert _fresh(db, FamilyMember, member.id).sms_opted_out_at is None
    assert len(sms.sent) == 1 and "texts are on again" in sms.sent[0]["body"]
    assert _count(db, CaseMessage) == 0


def test_yes_from_someone_who_never_opted_out_is_a_reply_in_the_conversation(db, sms, text_in, inline):
    member = _member(phone="+13125550143")
    text_in(member.phone, "Yes")
    assert sms.sent == []
    assert db.session.scalar(select(CaseMessage.body)) == "Yes"


@pytest.mark.parametrize("word", ["HELP", "info"])
def test_help_replies_with_the_agencys_contact(db, sms, text_in, inline, word):
    from portal.services.agency import get_agency

    get_agency().phone = "+13125550100"
    db.session.commit()
    member = _member(phone="+13125550144")
    text_in(member.phone, word)
    [reply] = sms.sent
    assert reply["to"] == member.phone and "+13125550100" in reply["body"] and "STOP" in reply["body"]
    assert _fresh(db, FamilyMember, member.id).sms_opted_out_at is None


def test_a_family_members_text_joins_the_case_conversation_and_contact_history(db, sms, text_in):
    member = _member(phone="+13125550145")
    text_in(member.phone, "Did the detective get the phone records?")
    inbound = db.session.scalar(select(InboundSms))
    message = db.session.scalar(select(CaseMessage))
    entry = db.session.scalar(select(Outreach))
    assert (inbound.handling, inbound.family_member_id, inbound.case_id) == ("conversation", member.id, member.case_id)
    assert (message.case_id, message.sender, message.channel, message.family_member_id, message.inbound_sms_id) == \
        (member.case_id, "family", "sms", member.id, inbound.id)
    assert message.body == "Did the detective get the phone records?"
    assert (entry.direction, entry.channel, entry.outcome, entry.is_system, entry.source_type, entry.source_id) == \
        ("inbound", "sms", "message_received", True, "inbound_sms", inbound.id)
    assert sms.sent == []


def test_the_same_message_sid_twice_is_handled_once(db, sms, text_in, inline):
    member = _member(phone="+13125550146")
    text_in(member.phone, "Hello", sid="SM" + "9" * 32)
    text_in(member.phone, "Hello", sid="SM" + "9" * 32)
    text_in(member.phone, "STOP", sid="SM" + "8" * 32)
    text_in(member.phone, "STOP", sid="SM" + "8" * 32)
    assert _count(db, InboundSms) == 2 and _count(db, CaseMessage) == 1 and _count(db, Outreach) == 2
    assert len(sms.sent) == 1  # one confirmation (and its outreach entry above)


def test_a_text_from_an_unknown_number_waits_in_the_unmatched_inbox(db, sms, text_in):
    text_in("+13125550999", "Hi, this is Rosa's sister")
    inbound = db.session.scalar(select(InboundSms))
    assert (inbound.handling, inbound.family_member_id) == ("unmatched", None)
    assert _count(db, CaseMessage) == 0 and _count(db, Outreach) == 0


def test_an_unknown_number_gets_one_stop_confirmation_and_nothing_after(db, sms, text_in, inline):
    text_in("+13125550998", "STOP")
    text_in("+13125550998", "STOP")
    text_in("+13125550998", "HELP")
    assert len(sms.sent) == 1 and "no more texts" in sms.sent[0]["body"]
    text_in("+13125550998", "START")
    text_in("+13125550998", "HELP")
    assert len(sms.sent) == 2 and "STOP" in sms.sent[1]["body"]


def test_a_number_on_two_cases_always_waits_in_the_unmatched_inbox(db, sms, text_in, daytime):
    """A number on several cases is never guessed, even after we texted one of them: staff place the text."""
    shared = "+13125550147"
    first = _member(phone=shared, name="First Relative")
    second = _member(phone=shared, name="Second Relative")
    assert first.case_id != second.case_id
    text_in(shared, "Who is this?")
    queue_family_sms(second, "update", kind="update")
    db.session.commit()
    outbox.drain()
    text_in(shared, "Thanks for the update")
    assert db.session.scalars(select(InboundSms.handling)).all() == ["unmatched", "unmatched"]
    assert db.session.scalar(select(CaseMessage)) is None


def test_a_shared_number_on_one_case_lands_in_that_case(db, sms, text_in, daytime):
    shared = "+13125550146"
    first = _member(phone=shared, name="First Relative")
    second = factories.make_family_member(case=first.case, phone=shared, name="Second Relative")
    text_in(shared, "We both read these")
    reply = db.session.scalar(select(CaseMessage))
    assert reply.case_id == first.case_id == second.case_id


def test_a_stranger_gets_the_reply_in_the_language_they_wrote_in(db, sms, text_in, inline):
    text_in("+13125550997", "AYUDA")
    text_in("+13125550996", "No me envíes más mensajes")
    text_in("+13125550995", "HELP")
    languages = dict(db.session.execute(select(Notification.recipient, Notification.language)).all())
    assert languages == {"+13125550997": "es", "+13125550996": "es", "+13125550995": "en"}
