"""Email, the second channel on the one outbox: the same notice journey runs by email through a real local SMTP
server (aiosmtpd), in the member's language, with the link and no case details unless they chose them; a
permanent refusal fails the row and flags the address for staff; a temporary one is retried; no consent, no email."""
from __future__ import annotations

import io
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.models import FamilyMember, Notification, Outreach, utcnow
from portal.providers.email import ConsoleEmailClient, EmailContent
from portal.services.notifications.email import content_of, queue_family_notice, why_no_email
from portal.tasks import delivery

from . import factories
from .conftest import csrf_from, post_form, sign_in

pytestmark = pytest.mark.usefixtures("daytime")

SECRET = "The lab found fentanyl. Please call me."


@pytest.fixture
def setup(app):
    liaison = factories.make_user(role="liaison", name="Officer Sam Okafor")
    case = factories.make_case(liaison=liaison, decedent="Kayla Price")
    staff = app.test_client()
    sign_in(staff, liaison)
    return {"case": case, "liaison": liaison, "staff": staff}


def _member(case, *, language="en", address="rosa@family.example", consent=True, **fields):
    user = factories.make_user(role="family", language=language)
    return factories.make_family_member(case=case, user=user, name="Rosa Example", language=language, email=address,
                                        email_consent_at=utcnow() if consent else None, **fields)


def _message(staff, case, body=SECRET):
    url = f"/staff/cases/{case.id}/conversation"
    response = staff.post(url, data={"csrf_token": csrf_from(staff.get(url).get_data(as_text=True)), "body": body})
    assert response.status_code == 302, response.get_data(as_text=True)


def _parts(message) -> tuple[str, str]:
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html


def _emails(db) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).where(Notification.channel == "email")
                                   .order_by(Notification.id)))


@pytest.mark.parametrize("language, hello, generic, subject, footer", [
    ("en", "Hello Rosa Example,", "There is an update from Demo County Police Department. Read it here:",
     "There is an update from Demo County Police Department", "you agreed to hear from"),
    ("es", "Hola, Rosa Example:",
     "Hay novedades de Demo County Police Department sobre su caso. Véalas en este enlace:",
     "Hay novedades de Demo County Police Department", "aceptó que Demo County Police Department le escriba"),
])
def test_a_staff_message_reaches_a_consenting_member_by_email_in_their_language_without_details(
        db, setup, smtp, caplog, language, hello, generic, subject, footer):
    caplog.set_level(logging.DEBUG)
    case = setup["case"]
    member = _member(case, language=language)
    _message(setup["staff"], case)
    [row] = _emails(db)
    assert (row.recipient, row.kind, row.language, row.status) == ("rosa@family.example", "staff_message",
                                                                   language, "queued")
    assert delivery.drain().sent >= 1  # the worker delivers it (the member's text too)
    [received] = smtp.to("rosa@family.example")
    text, html = _parts(received)
    link = f"http://localhost/my/cases/{case.id}/messages"
    assert hello in text and generic in text and link in text and footer in text
    assert f'<html lang="{language}">' in html and f'href="{link}"' in html and hello in html
    assert received["Subject"] == subject  # the generic subject, no details
    for detail in ("fentanyl", "Kayla", "Okafor", case.case_number):
        assert detail not in text and detail not in html and detail not in received["Subject"]
    [row] = _emails(db)
    assert row.status == "sent" and received["Message-ID"] == f"<{row.provider_sid}>"
    entry = db.session.scalar(select(Outreach).where(Outreach.source_id == row.id, Outreach.channel == "email"))
    assert entry is not None and entry.family_member_id == member.id and entry.outcome == "message_sent"
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))  # not the server
    assert "rosa@family.example" not in logged and "Read it here" not in logged and link not in logged


def test_a_member_who_chose_details_gets_them_in_the_email_of_a_stage_change(db, setup, smtp):
    case = setup["case"]
    _member(case, language="es", detailed_texts=True)
    response = post_form(setup["staff"], f"/staff/cases/{case.id}/stage",
                         {"stage-stage": "investigating", "stage-message": SECRET, "confirm": "send"},
                         token_page=f"/staff/cases/{case.id}")
    assert response.status_code == 302, response.get_data(as_text=True)
    delivery.drain()
    [received] = smtp.to("rosa@family.example")
    text, html = _parts(received)
    # Flask-Mailman folds a long encoded subject after "Subject:", which Python's parser reads as a leading space.
    assert received["Subject"].strip() == "Demo County Police Department: el caso pasó a una nueva etapa"
    assert "el caso pasa a una nueva etapa: Los detectives" in text and f"http://localhost/my/cases/{case.id}" in html
    assert "fentanyl" not in text  # the staff's words stay on the portal, behind sign-in


def test_a_refused_address_fails_the_email_and_flags_it_for_staff(db, setup, smtp):
    case = setup["case"]
    member = _member(case, address="gone@family.example")
    smtp.refuse["gone@family.example"] = "550 5.1.1 No such mailbox here"
    _message(setup["staff"], case)
    delivery.drain()
    [row] = _emails(db)
    assert (row.status, row.error_code, row.attempts) == ("failed", "550", 1)
    assert smtp.to("gone@family.example") == []
    assert db.session.get(FamilyMember, member.id).email_undelivered_at is not None
    page = setup["staff"].get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "Email undelivered" in page and "Email is not getting through for" in page
    assert "Check the email address" in page
    del smtp.refuse["gone@family.example"]  # the mailbox works again: the next email gets through
    _message(setup["staff"], case, body="Another word")
    delivery.drain()
    assert len(smtp.to("gone@family.example")) == 1
    db.session.expire_all()
    assert db.session.get(FamilyMember, member.id).email_undelivered_at is None
    page = setup["staff"].get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "Email undelivered" not in page and "Email is not getting through" not in page


def test_a_new_address_clears_the_flag(db, setup, smtp):
    case = setup["case"]
    member = _member(case, address="gone@family.example", email_undelivered_at=utcnow())
    assert "Email undelivered" in setup["staff"].get(f"/staff/cases/{case.id}").get_data(as_text=True)
    from portal.services.cases import update_family_member

    update_family_member(member, name=member.name, relationship="Parent", phone=member.phone,
                         email="rosa@family.example", language="en", cadence=member.cadence, is_spokesperson=False,
                         by=setup["liaison"])
    db.session.commit()
    page = setup["staff"].get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "Email undelivered" not in page and "Email is not getting through" not in page


def test_a_temporary_refusal_is_retried_and_gets_through_later(db, setup, smtp, daytime):
    case = setup["case"]
    _member(case)
    smtp.refuse["rosa@family.example"] = "451 4.3.0 Mailbox busy, try again later"
    _message(setup["staff"], case)
    result = delivery.drain()
    [row] = _emails(db)
    assert (row.status, row.error_code, row.attempts) == ("queued", "451", 1) and result.retrying == 1
    assert row.next_attempt_at > utcnow()
    assert delivery.drain().sent == 0  # not before its time
    del smtp.refuse["rosa@family.example"]
    daytime.shift(timedelta(hours=2))
    delivery.drain()
    [row] = _emails(db)
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(smtp.to("rosa@family.example")) == 1


def test_a_mail_server_that_is_down_leaves_the_email_queued_and_the_texts_going(db, app, setup, smtp, sms,
                                                                               monkeypatch, smtp_server):
    case = setup["case"]
    _member(case)
    monkeypatch.setitem(app.config, "MAIL_PORT", 1)  # nothing listens there
    _message(setup["staff"], case)
    delivery.drain()
    [row] = _emails(db)
    assert (row.status, row.error_code) == ("queued", "connect")
    assert len(sms.sent) == 1  # the email's trouble does not hold the text back


@pytest.mark.parametrize("fields, why", [
    ({"consent": False}, "has not agreed to email"),
    ({"address": None}, "no email address"),
    ({"email_opted_out_at": utcnow()}, "asked for no more emails"),
])
def test_no_email_without_an_address_and_consent(db, setup, smtp, sms, fields, why):
    case = setup["case"]
    member = _member(case, **fields)
    assert why_no_email(member) == why
    _message(setup["staff"], case)
    delivery.drain()
    assert _emails(db) == [] and smtp.messages == []
    assert len(sms.sent) == 1  # the text goes as before


def test_a_member_who_prefers_email_gets_the_email_and_no_text(db, setup, smtp, sms):
    case = setup["case"]
    _member(case, preferred_channel="email")
    _message(setup["staff"], case)
    delivery.drain()
    assert len(smtp.to("rosa@family.example")) == 1 and sms.sent == []


def test_an_opt_out_after_queueing_blocks_the_email(db, setup, smtp):
    case = setup["case"]
    member = _member(case)
    _message(setup["staff"], case)
    db.session.get(FamilyMember, member.id).email_opted_out_at = utcnow()
    db.session.commit()
    delivery.drain()
    [row] = _emails(db)
    assert row.status == "blocked" and smtp.messages == []


def test_the_stored_email_holds_every_part_and_the_notice_helper_returns_the_text(db, setup):
    case = setup["case"]
    member = _member(case)
    text = queue_family_notice(member, "update", kind="update", link="http://localhost/my/cases/1")
    db.session.commit()
    [row] = _emails(db)
    content = content_of(row.body)
    assert text is not None and text.channel == "sms"
    assert content.subject == "There is an update from Demo County Police Department"
    assert "http://localhost/my/cases/1" in content.text and 'href="http://localhost/my/cases/1"' in content.html


def test_the_console_client_prints_no_address_and_no_link():
    stream = io.StringIO()
    ConsoleEmailClient(stream).send(to="rosa@family.example", outbox_id=7, content=EmailContent(
        subject="Hi", text="Read it here: http://localhost/invite/abcdefghijklmnopqrstuvwxyz", html="<p>x</p>"))
    printed = stream.getvalue()
    assert "r•••@family.example" in printed and "rosa@" not in printed and "abcdefghijklmnop" not in printed


def _edit(staff, member, **changes):
    url = f"/staff/members/{member.id}/edit"
    data = {"edit-name": member.name, "edit-relationship": "Parent", "edit-phone": member.phone or "",
            "edit-email": member.email or "", "edit-language": member.language, "edit-cadence": member.cadence,
            "edit-preferred_channel": "", **changes}
    return post_form(staff, url, data, token_page=url)


def test_staff_record_a_yes_to_email_and_later_a_no(db, setup):
    case = setup["case"]
    member = _member(case, consent=False)
    page = setup["staff"].get(f"/staff/members/{member.id}/edit").get_data(as_text=True)
    assert "They agreed to get email about the case" in page
    assert _edit(setup["staff"], member, **{"edit-email_consent": "y"}).status_code == 302
    db.session.expire_all()
    member = db.session.get(FamilyMember, member.id)
    assert member.email_consent_at is not None and why_no_email(member) is None
    assert _edit(setup["staff"], member).status_code == 302  # the box left empty: they said no
    db.session.expire_all()
    member = db.session.get(FamilyMember, member.id)
    assert member.email_opted_out_at is not None and why_no_email(member) == "asked for no more emails"


def test_consent_to_email_needs_an_address(db, setup):
    member = _member(setup["case"], address=None, consent=False)
    response = _edit(setup["staff"], member, **{"edit-email_consent": "y"})
    assert response.status_code == 422 and "Add their email address first." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(FamilyMember, member.id).email_consent_at is None


def test_the_stage_preview_says_who_gets_the_email_and_who_gets_it_instead_of_a_text(db, setup):
    case = setup["case"]
    _member(case, preferred_channel="email")
    _member(case, address="ana@family.example")
    response = post_form(setup["staff"], f"/staff/cases/{case.id}/stage/preview",
                         {"stage-stage": "investigating", "stage-message": SECRET},
                         token_page=f"/staff/cases/{case.id}")
    page = response.get_data(as_text=True)
    assert "No text: they get it by email instead." in page
    assert "By email to rosa@family.example, with the same words and link." in page
    assert "By email to ana@family.example, with the same words and link." in page
    assert page.count('class="sms-preview"') == 1  # only Ana is texted too


def test_staff_read_an_email_in_the_case_outbox_as_its_subject_and_words(db, setup):
    case = setup["case"]
    _member(case)
    _message(setup["staff"], case)
    page = setup["staff"].get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "There is an update from Demo County Police Department. Read it here:" in page
    assert "&#34;subject&#34;" not in page and '"subject"' not in page  # not the stored JSON


def test_an_appointment_reminder_goes_by_email_too_in_spanish(db, smtp):
    import time_machine

    from portal.models import Appointment
    from portal.services.reminders import queue_due_reminders

    from .sms_helpers import DAYTIME

    liaison = factories.make_user(role="liaison", name="Officer Dana Rivera")
    member = _member(factories.make_case(liaison=liaison), language="es")
    starts = DAYTIME + timedelta(days=2)
    db.session.add(Appointment(case_id=member.case_id, family_member_id=member.id, liaison_id=liaison.id,
                               starts_at=starts, ends_at=starts + timedelta(minutes=30),
                               created_at=starts - timedelta(days=3), status="booked"))
    db.session.commit()
    with time_machine.travel(starts - timedelta(hours=23), tick=True):
        assert queue_due_reminders() == 1
        db.session.commit()  # the job's own commit
        delivery.drain()
    [received] = smtp.to("rosa@family.example")
    text, html = _parts(received)
    assert received["Subject"].strip() == "Demo County Police Department: recordatorio de su cita"
    assert "jue, 5 mar, 11:00" in text and "Rivera" not in text and 'lang="es"' in html


def test_an_email_still_refused_after_every_retry_fails_and_flags_the_address(db, setup, smtp, daytime):
    from portal.services.notifications import policy

    case = setup["case"]
    member = _member(case)
    smtp.refuse["rosa@family.example"] = "452 4.2.2 Mailbox full"
    _message(setup["staff"], case)
    for _attempt in range(policy.MAX_ATTEMPTS):
        delivery.drain()
        daytime.shift(timedelta(days=1))  # past the longest wait between two attempts
    [row] = _emails(db)
    assert (row.status, row.attempts, row.error_code) == ("failed", policy.MAX_ATTEMPTS, "452")
    assert db.session.get(FamilyMember, member.id).email_undelivered_at is not None


def test_email_undelivered_counts_from_the_first_refusal(app, db, setup, smtp, daytime):
    case = setup["case"]
    member = _member(case, address="gone@family.example")
    smtp.refuse["gone@family.example"] = "550 5.1.1 No such mailbox here"
    _message(setup["staff"], case)
    delivery.drain()
    first = db.session.get(FamilyMember, member.id).email_undelivered_at
    daytime.shift(timedelta(days=3))
    staff = app.test_client()  # the first session has long expired
    sign_in(staff, setup["liaison"])
    _message(staff, case, body="Again")
    delivery.drain()
    db.session.expire_all()
    assert db.session.get(FamilyMember, member.id).email_undelivered_at == first
    assert [r.status for r in _emails(db)] == ["failed", "failed"]
    assert "Email is not getting through for 3 days" in staff.get(f"/staff/cases/{case.id}").get_data(as_text=True)
