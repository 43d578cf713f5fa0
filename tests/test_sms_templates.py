"""The texts themselves: one GSM-7 segment where possible, sender named, no case details unless chosen.

Run with `-s` (or `-rP`) to see the segment table:  .venv/bin/pytest -s tests/test_sms_templates.py
"""
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.display import appointment_when
from portal.models import Notification
from portal.providers.sms.segments import segment_count
from portal.services.notifications.outbox import queue_family_sms, render_sms

from . import factories

AGENCY = "Demo County Police Department"
LINK = "https://portal.example.gov/my"
WHEN = "Tue, Mar 3, 10:00 AM"
COMMON = {"agency_name": AGENCY, "link": LINK}

# (template, context, may take two segments: only detailed texts that carry the member's own words)
CASES = [
    ("update", {}, False),
    ("update", {"detailed": True, "summary": "The lab results came back. Your liaison will call you today."},
     True),
    ("invite", {"link": "https://portal.example.gov/invite/" + "x" * 43}, True),
    ("opt_out_confirmation", {}, False),
    ("opt_in_confirmation", {}, False),
    ("help", {"agency_phone": "+13125550100"}, False),
    ("help", {}, False),
    ("appointment_reminder_24h", {"when": WHEN, "mode": "phone"}, False),
    ("appointment_reminder_24h", {"detailed": True, "when": WHEN, "mode": "video",
                                  "liaison_name": "Officer Dana Rivera"}, False),
    ("appointment_reminder_1h", {"time": "10:00 AM", "mode": "phone"}, False),
    ("consent_request", {"liaison_name": "Dana"}, False),
    ("consent_request", {"liaison_name": ""}, False),
    ("consent_confirmation", {}, False),
    ("notice_batch", {}, False),
    ("unmatched_receipt", {}, False),
    ("appointment_reminder_1h", {"detailed": True, "time": "10:00 AM", "mode": "in_person",
                                 "liaison_name": "Officer Dana Rivera"}, False),
]


def test_every_text_template_fits_its_segments_and_names_the_sender(app):
    print(f"\n{'template':<28} {'variant':<9} {'encoding':<8} {'length':>6} {'segments':>8}")
    for name, context, may_be_longer in CASES:
        body = render_sms(name, "en", **{**COMMON, **context})
        encoding, units, segments = segment_count(body)
        print(f"{name:<28} {'detailed' if context.get('detailed') else 'generic':<9} {encoding:<8} {units:>6} "
              f"{segments:>8}")
        assert encoding == "GSM-7", f"{name}: {body!r}"
        assert segments <= (2 if may_be_longer else 1), f"{name} takes {segments} segments: {body!r}"
        assert AGENCY in body, f"{name} does not name the sender"
        assert "{" not in body and "%" not in body, f"{name} left a placeholder: {body!r}"


CONSENT_TEXTS = ("consent_request", "consent_confirmation", "notice_batch", "unmatched_receipt")


def test_the_consent_texts_fit_one_gsm_segment_in_spanish_too(app):
    for name, context, _ in CASES:
        if name in CONSENT_TEXTS:
            body = render_sms(name, "es", **{**COMMON, **context})
            assert segment_count(body)[::2] == ("GSM-7", 1), f"{name}: {body!r}"


@pytest.mark.parametrize("language", ["en", "es"])
def test_texts_render_in_the_members_language_without_errors(app, language):
    for name, context, _ in CASES:
        assert AGENCY in render_sms(name, language, **{**COMMON, **context})


def test_update_shows_case_details_only_to_members_who_chose_detailed_texts(db, daytime):
    case = factories.make_case()
    plain = factories.make_family_member(case=case, phone="+13125550161")
    detailed = factories.make_family_member(case=case, phone="+13125550162", detailed_texts=True)
    summary = "Toxicology results are in."
    for member in (plain, detailed):
        queue_family_sms(member, "update", kind="update", summary=summary, detailed=True)  # callers cannot force it
    db.session.commit()
    bodies = {m.family_member_id: m.body for m in db.session.scalars(select(Notification))}
    assert summary not in bodies[plain.id]
    assert bodies[plain.id].startswith("There is an update from ") and "Read it here: " in bodies[plain.id]
    assert summary in bodies[detailed.id]


# The generic line of every text that can carry a one-time link (issue 14: nobody without an account is told to
# "sign in"), and the context each needs.
GENERIC = [("update", {}), ("stage_change", {"stage": "investigating"}), ("handover", {"liaison_name": "Dana"}),
           ("staff_message", {"author_name": "Dana", "decedent_name": "Kayla"}),
           ("appointment_booked", {"liaison_name": "Dana", "when": WHEN}),
           ("appointment_cancelled", {"liaison_name": "Dana", "when": WHEN}),
           ("appointment_rescheduled", {"liaison_name": "Dana", "when": WHEN}), ("lead_question", {})]


@pytest.mark.parametrize("language", ["en", "es"])
def test_only_a_member_with_an_account_is_told_to_sign_in(db, language):
    from portal.services.notifications.outbox import render_family_sms

    case = factories.make_case()
    without = factories.make_family_member(case=case, phone="+13125550164", language=language)
    with_account = factories.make_family_member(case=case, user=factories.make_user(role="family"),
                                                phone="+13125550165", language=language)
    link = "https://portal.example.gov/n/" + "x" * 43
    for name, context in GENERIC:
        told = render_family_sms(without, name, link=link, **context)
        assert "sign in" not in told.lower() and "entre al portal" not in told.lower(), f"{name}: {told!r}"
        assert told.endswith(link) and segment_count(told)[0] == "GSM-7", f"{name}: {told!r}"
        assert segment_count(told)[2] == 1, f"{name}: {told!r}"
        signs_in = render_family_sms(with_account, name, link=LINK, **context)
        assert ("Sign in to read it: " if language == "en" else "Entre al portal") in signs_in, f"{name}: {signs_in!r}"


def test_a_second_generic_update_waits_with_the_first_instead_of_texting_twice(db, daytime):
    from portal.services.notifications.notices import queue_notice

    member = factories.make_family_member(case=factories.make_case())
    first = queue_notice(member, "update", kind="update", link=LINK)
    second = queue_notice(member, "update", kind="update", link=LINK)
    db.session.commit()
    assert first.id == second.id
    assert len(db.session.scalars(select(Notification)).all()) == 1


def test_appointment_times_are_written_in_the_members_language_and_fit_gsm7(app):
    from portal.models import Appointment

    appointment = Appointment(starts_at=datetime(2026, 3, 3, 16, 0, tzinfo=UTC))
    when_en, time_en = appointment_when(appointment.starts_at, "en", "America/Chicago")
    when_es, time_es = appointment_when(appointment.starts_at, "es", "America/Chicago")
    assert "Tue" in when_en and "10:00" in time_en
    assert "mar" in when_es and "10:00" in time_es
    body = render_sms("appointment_reminder_24h", "en", agency_name=AGENCY, link=LINK, when=when_en, mode="phone")
    assert segment_count(body)[0] == "GSM-7"  # babel's narrow no-break space before "AM" was replaced


def test_texts_are_signed_with_the_agency_name_from_the_agency_settings(db, daytime):
    from portal.services.agency import get_agency

    get_agency().name = "Riverside County Sheriff"  # what an admin typed in Agency settings, not AGENCY_NAME
    db.session.commit()
    member = factories.make_family_member(case=factories.make_case())
    text = queue_family_sms(member, "update", kind="update")
    assert text.body.startswith("There is an update from Riverside County Sheriff. ")
    assert render_sms("opt_out_confirmation", "en").startswith("Riverside County Sheriff: ")
