"""Consent on record and the two-way text thread, walked as staff and a family member without an account live it:
the real Twilio SDK sends into the fake Twilio, and the fake posts the member's texts, signed, to the live portal."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.models import Agency, CaseMessage, ContactConsent, FamilyMember, Notification, Outreach, utcnow
from portal.services import flags as flag_service
from portal.tasks import delivery

from . import factories
from .conftest import csrf_from, sign_in

PHONE = "+13125550177"


@pytest.fixture
def journey(app, client, db, twilio, live_portal, daytime, monkeypatch):
    """A liaison signed in on their case; the fake Twilio talks to the live portal."""
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", twilio.auth_token)
    liaison = factories.make_user(role="liaison", name="Det. Maria Lopez")
    case = factories.make_case(liaison=liaison)
    sign_in(client, liaison)
    return {"fake": twilio, "staff": client, "case": case, "liaison": liaison,
            "inbound": f"{live_portal}/webhooks/twilio/sms"}


def _post(client, url: str, data: dict, page: str):
    payload = {"csrf_token": csrf_from(client.get(page).get_data(as_text=True)), **data}
    return client.post(url, data=payload)


def _deliver(db) -> None:
    db.session.commit()
    delivery.drain()
    db.session.expire_all()


def _bodies(fake, to: str = PHONE) -> list[str]:
    return [m.body for m in fake.messages if m.to == to and m.direction == "outbound-api"]


def _flag_kinds(db, case) -> set[str]:
    agency = db.session.scalar(select(Agency)) or Agency(name="x", timezone="America/Chicago")
    flags, _anchors = flag_service.compute_flags(now=utcnow() + timedelta(days=10), liaison_id=None,
                                                 case_ids=[case.id], agency=agency)
    return {f.kind for f in flags}


def test_consent_first_then_a_two_way_thread_then_stop(db, journey):
    fake, staff, case = journey["fake"], journey["staff"], journey["case"]
    case_url = f"/staff/cases/{case.id}"

    # Staff add a phone with no consent on record; a stage change for the family follows.
    response = _post(staff, f"{case_url}/members", {"member-name": "Rosa Diaz", "member-relationship": "Mother",
                                                    "member-phone": "312-555-0177", "member-language": "en"},
                     case_url)
    assert response.status_code == 302
    member = db.session.scalar(select(FamilyMember).where(FamilyMember.phone == PHONE))
    assert member.user_id is None and member.texts_consent_at is None
    response = _post(staff, f"{case_url}/stage", {"stage-stage": "awaiting_toxicology", "confirm": "send",
                                                  "stage-message": "The lab has the samples."}, case_url)
    assert response.status_code == 302
    _deliver(db)
    assert _bodies(fake) == [  # only the consent request went out
        "Demo County Police Department: Maria would like to text you about your family's case. Reply YES to agree "
        "or STOP to stop."]
    held = db.session.scalar(select(Notification).where(Notification.kind == "stage_change"))
    assert held.status == "awaiting_consent"
    page = staff.get(case_url).get_data(as_text=True)
    assert "We asked for their yes to texts on" in page and "1 text waits for their yes" in page

    # The member replies YES: consent is on record from their text, and the held update goes out with the STOP line.
    _record, answer = fake.send_text(journey["inbound"], from_=PHONE, body="Yes")
    assert answer.status_code == 200
    _deliver(db)
    member = db.session.get(FamilyMember, member.id)
    assert member.texts_consent_method == "replied_yes" and member.texts_consent_at is not None
    granted = db.session.scalars(select(ContactConsent).where(ContactConsent.family_member_id == member.id)
                                 .order_by(ContactConsent.id)).all()
    assert [(row.event, row.method) for row in granted] == [("requested", "consent_request"),
                                                             ("granted", "replied_yes")]
    assert granted[1].inbound_sms_id is not None
    released = _bodies(fake)[1:]
    assert len(released) == 1 and released[0].endswith("\nReply STOP to stop.")
    assert db.session.get(Notification, held.id).status == "sent"

    # The member texts a lead: it lands in the case thread and the contact log, and "needs reply" is raised.
    lead = "The guy who sold it goes by Dre, his number is 312-555-0199"
    fake.send_text(journey["inbound"], from_=PHONE, body=lead)
    db.session.expire_all()
    message = db.session.scalar(select(CaseMessage).where(CaseMessage.sender == "family"))
    assert (message.case_id, message.family_member_id, message.channel, message.body) == \
        (case.id, member.id, "sms", lead)
    logged = db.session.scalar(select(Outreach).where(Outreach.source_type == "inbound_sms"))
    assert (logged.case_id, logged.family_member_id, logged.direction) == (case.id, member.id, "inbound")
    thread_url = f"{case_url}/conversation"
    thread = staff.get(thread_url).get_data(as_text=True)
    assert lead in thread and "The family is waiting for a reply." in thread
    assert "message_unanswered" in _flag_kinds(db, case)

    # The liaison replies by text: the fake receives it, the thread shows its author and "Delivered".
    reply = "Thank you, Rosa. I will look into Dre today and call you tomorrow."
    response = _post(staff, thread_url, {"body": reply, "text_to": str(member.id)}, thread_url)
    assert response.status_code == 302
    _deliver(db)
    assert _bodies(fake)[-1] == f"Demo County Police Department, Maria: {reply}"
    sent = next(m for m in fake.messages if m.body.endswith(reply))
    assert fake.send_status(sent, "delivered").status_code == 204
    thread = staff.get(thread_url).get_data(as_text=True)
    assert reply in thread and "Det. Maria Lopez" in thread and "Text to Rosa Diaz: Delivered" in thread
    assert "The family is waiting for a reply." not in thread
    assert "message_unanswered" not in _flag_kinds(db, case)

    # The member texts STOP: nothing more is sent, and staff see when they stopped.
    fake.send_text(journey["inbound"], from_=PHONE, body="STOP")
    _deliver(db)
    before = len(_bodies(fake))
    assert "no more texts" in _bodies(fake)[-1]  # the one opt-out confirmation
    _post(staff, thread_url, {"body": "Are you there?", "text_to": str(member.id)}, thread_url)
    _post(staff, f"{case_url}/stage", {"stage-stage": "investigating", "confirm": "send",
                                       "stage-message": "Detectives have the case."}, case_url)
    _deliver(db)
    assert len(_bodies(fake)) == before
    member = db.session.get(FamilyMember, member.id)
    page = staff.get(case_url).get_data(as_text=True)
    assert member.sms_opted_out_at is not None and "They replied STOP on" in page
    stop = db.session.scalars(select(ContactConsent).where(ContactConsent.family_member_id == member.id)
                              .order_by(ContactConsent.id)).all()[-1]
    assert (stop.event, stop.method) == ("revoked", "replied_stop")


def test_a_yes_on_a_logged_call_is_consent_linked_to_that_call(db, journey):
    fake, staff, case = journey["fake"], journey["staff"], journey["case"]
    member = factories.make_family_member(case=case, phone=PHONE, texts_consent_at=None)
    thread_url = f"/staff/cases/{case.id}/conversation"
    _post(staff, thread_url, {"body": "Hello from the liaison.", "text_to": str(member.id)}, thread_url)
    _deliver(db)
    assert len(_bodies(fake)) == 1 and "Reply YES" in _bodies(fake)[0]
    response = _post(staff, f"/staff/cases/{case.id}/contacts", {
        "member": str(member.id), "channel": "phone", "direction": "outbound", "outcome": "reached",
        "texts_consent": "y"}, f"/staff/cases/{case.id}/contacts/new")
    assert response.status_code == 302
    _deliver(db)
    row = db.session.scalars(select(ContactConsent).where(ContactConsent.event == "granted")).one()
    call = db.session.scalar(select(Outreach).where(Outreach.channel == "phone"))
    assert (row.method, row.outreach_id, row.recorded_by_id) == ("said_yes_on_call", call.id, journey["liaison"].id)
    assert _bodies(fake)[-1].startswith("Demo County Police Department, Maria: Hello from the liaison.")
    assert _bodies(fake)[-1].endswith("Reply STOP to stop.")


def test_help_answers_with_the_agency_name_and_phone_even_without_consent(db, journey):
    fake, case = journey["fake"], journey["case"]
    agency = db.session.scalar(select(Agency))
    if agency is None:
        agency = Agency(name="Demo County Police Department", timezone="America/Chicago")
        db.session.add(agency)
    agency.phone = "+13125550100"
    factories.make_family_member(case=case, phone=PHONE, texts_consent_at=None)
    fake.send_text(journey["inbound"], from_=PHONE, body="HELP")
    _deliver(db)
    answer = _bodies(fake)
    assert len(answer) == 1 and "Demo County Police Department" in answer[0]
    assert "+13125550100" in answer[0] or "(312) 555-0100" in answer[0]


def test_staff_cannot_record_consent_after_a_stop(db, journey):
    staff, case = journey["staff"], journey["case"]
    member = factories.make_family_member(case=case, phone=PHONE, texts_consent_at=None, sms_opted_out_at=utcnow())
    response = _post(staff, f"/staff/members/{member.id}/consent", {"method": "written_form"},
                     f"/staff/cases/{case.id}")
    assert response.status_code == 302
    page = staff.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "Only they can turn texts back on" in page
    assert db.session.get(FamilyMember, member.id).texts_consent_at is None


def test_a_number_on_two_cases_waits_unmatched_and_the_reply_names_no_case(db, journey):
    fake = journey["fake"]
    first = factories.make_family_member(case=journey["case"], phone=PHONE, name="Rosa Diaz")
    other = factories.make_family_member(case=factories.make_case(decedent="Tomás Reyes"), phone=PHONE,
                                         name="Ana Reyes")
    for body in ("Is this about my son?", "Hello?"):
        fake.send_text(journey["inbound"], from_=PHONE, body=body)
    _deliver(db)
    assert db.session.scalar(select(CaseMessage)) is None  # no case gets it: staff place it from the inbox
    replies = _bodies(fake)
    assert len(replies) == 1  # one receipt a day, however many texts
    for secret in (journey["case"].case_number, journey["case"].decedent_name, "Tomás", first.name, other.name):
        assert secret not in replies[0]
    inbox = journey["staff"].get("/staff/texts/unmatched").get_data(as_text=True)
    assert "Is this about my son?" in inbox and "Hello?" in inbox and "This number is on more than one case" in inbox
