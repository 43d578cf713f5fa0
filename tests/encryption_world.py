"""A small world in which every encrypted column holds a marker, and ways to read the database raw (no models)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import MetaData, select

from portal.extensions import db
from portal.models import User
from tests import factories

MARKER = "Qx9secretmarker"


@dataclass
class World:
    """What was written, to look for afterwards."""

    staff: User
    totp_secret: str
    values: dict[str, str]  # "table.column" -> a text that went into it


def build_world(client) -> World:
    """A family lead, an anonymous tip, a staff note and question with the tipster's answer, a portal message each
    way, an inbound text, a text in the outbox, a liaison's notes of a call, a callback request with its reason and
    window, a liaison's time off, an internal case update and a staff member enrolled in TOTP through the real pages;
    every text holds MARKER (the TOTP secret is random: the test looks for the secret itself)."""
    from datetime import date

    from portal.services import appointments, availability, cases, contact, conversation, leads, triage
    from portal.services.leads import LeadContent
    from portal.services.notifications.inbound import receive_inbound_sms
    from portal.services.notifications.outbox import queue_sms
    from tests.conftest import sign_in

    liaison = factories.make_user(role="liaison", phone="+13125550101")
    family_user, member, case = factories.make_family(liaison=liaison, phone="+13125550150")
    values = {
        "leads.details": f"details {MARKER} family",
        "leads.people": f"Ghost {MARKER}",
        "leads.last_48_hours": f"went out {MARKER}",
        "leads.supplier": f"supplier {MARKER}",
        "leads.phone_and_accounts": f"phone {MARKER}",
        "tip.details": f"tip {MARKER} call me at 312-555-0199",
        "lead_notes.body": f"note {MARKER}",
        "lead_questions.question": f"question {MARKER}",
        "lead_questions.answer": f"answer {MARKER}",
        "case_messages.body": f"family message {MARKER}",
        "case_messages.staff": f"staff reply {MARKER}",
        "inbound_sms.body": f"inbound text {MARKER}",
        "notifications.body": f"outbox text {MARKER}",
        "outreach.notes": f"call notes {MARKER}: her cousin gave 312-555-0143",
        "appointments.reason": f"callback reason {MARKER}",
        "appointments.callback_window": f"after six, ask for Ana {MARKER}",
        "availability_exceptions.reason": f"time off {MARKER}",
        "case_updates.body": f"case update {MARKER}",
    }
    content = LeadContent(people=[{"name": values["leads.people"], "phone": "+13125550177", "social": "@ghost",
                                   "relation": "friend", "knows": "sold to him"}],
                          last_48_hours=values["leads.last_48_hours"], supplier=values["leads.supplier"],
                          phone_and_accounts=values["leads.phone_and_accounts"], details=values["leads.details"])
    lead, _ = leads.submit_lead(case=case, content=content, files=[], key="k-family", member=member, user=family_user)
    link, _token = leads.create_tip_link(case=case, member=member, actor=family_user)
    tip, _ = leads.submit_lead(case=case, content=LeadContent(details=values["tip.details"]), files=[], key="k-tip",
                               tip_link=link, passphrase="ABCD-EFGH-JKLM-NPQR")
    triage.add_lead_note(tip, body=values["lead_notes.body"], author=liaison)
    question = triage.ask_question(tip, question=values["lead_questions.question"], asked_by=liaison)
    leads.answer_question(question=question, answer=values["lead_questions.answer"], actor=None, anonymous=True)
    conversation.post_family_message(case=case, member=member, body=values["case_messages.body"], actor=family_user)
    conversation.post_staff_message(case=case, author=liaison, body=values["case_messages.staff"])
    receive_inbound_sms(message_sid="SM" + "1" * 32, from_number=member.phone, to_number="+13125550000",
                        body=values["inbound_sms.body"])
    queue_sms(to=member.phone, body=values["notifications.body"], kind="test", case=case, family_member=member)
    contact.log_outreach(case=case, staff=liaison, channel="phone", direction="outbound", outcome="reached",
                         member=member, notes=values["outreach.notes"])
    appointments.request_callback(case=case, member=member, window="weekday_evening", mode="phone",
                                  reason=values["appointments.reason"],
                                  other_times=values["appointments.callback_window"], actor=family_user)
    availability.add_exception(liaison=liaison, day=date(2026, 12, 24), reason=values["availability_exceptions.reason"],
                               by=liaison)
    cases.add_update(case, body=values["case_updates.body"], family_visible=False, author=liaison, kind="note")
    db.session.commit()
    sign_in(client, liaison)  # staff: enrols in TOTP through the setup page (it makes the secret) on the way
    db.session.expire_all()
    staff = db.session.get(User, liaison.id)
    assert staff.mfa_enrolled_at is not None and staff.totp_secret
    return World(staff=staff, totp_secret=staff.totp_secret, values=values)


def raw_rows() -> dict[str, list[dict]]:
    """Every row of every table as the database holds it (reflected: no model types, nothing decrypted)."""
    metadata = MetaData()
    with db.engine.connect() as conn:
        metadata.reflect(bind=conn)
        return {name: [dict(row._mapping) for row in conn.execute(select(table))]
                for name, table in metadata.tables.items()}


def raw_text() -> str:
    """Every value of every row of every table as text, one per line: what a stolen copy of the database shows."""
    return "\n".join(str(value) for rows in raw_rows().values() for row in rows for value in row.values())
