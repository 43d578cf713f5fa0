"""The contact policy: every flag rule, on both sides of its threshold, in frozen time."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.services.agency import get_agency
from portal.services.contact import due_for_contact, next_contact_due

from . import factories
from . import staff_factories as sf

# A Wednesday, 09:00 in the agency's zone (America/Chicago, UTC-6 in early March).
T0 = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def frozen(time_machine):
    """frozen(when) stops the clock at `when` and returns the flags due_for_contact sees then."""

    def _at(when, **kwargs):
        time_machine.move_to(when, tick=False)
        return due_for_contact(**kwargs)

    time_machine.move_to(T0, tick=False)
    return _at


def kinds(flags, *, severity=None):
    return sorted(f.kind for f in flags if severity is None or f.level == severity)


@pytest.fixture
def family(db):
    """An open case, opened at T0, with one family member (every 2 weeks, the default)."""
    liaison = factories.make_user(role="liaison")
    case = factories.make_case(liaison=liaison, opened_at=T0)
    member = factories.make_family_member(case=case, name="Rosa Díaz")
    return liaison, case, member


# --- first contact -------------------------------------------------------------------------------------------

def test_first_contact_is_quiet_for_a_day_then_a_warning_then_overdue_at_48_hours(frozen, family):
    assert frozen(T0 + timedelta(hours=24) - MINUTE) == []
    warning = frozen(T0 + timedelta(hours=24))
    assert [(f.kind, f.level) for f in warning] == [("first_contact", "soon")]
    assert frozen(T0 + timedelta(hours=48) - MINUTE)[0].level == "soon"
    overdue = frozen(T0 + timedelta(hours=49))
    assert [(f.kind, f.level) for f in overdue] == [("first_contact", "act_now")]
    assert overdue[0].reason == "No first contact for 49 hours"
    assert overdue[0].since == T0 and overdue[0].member_name == "Rosa Díaz"


@pytest.mark.parametrize("outcome,clears", [
    ("reached", True), ("left_voicemail", True), ("declined", True), ("message_sent", True), ("attended", True),
    ("no_answer", False), ("wrong_number", False), ("message_received", False), ("no_show", False),
])
def test_only_a_real_contact_ends_the_first_contact_flag(frozen, family, outcome, clears):
    _liaison, case, member = family
    sf.make_contact(case=case, member=member, at=T0 + timedelta(hours=30), outcome=outcome)
    assert (kinds(frozen(T0 + timedelta(hours=49))) == []) is clears


def test_an_automatic_text_is_not_a_first_contact(frozen, family):
    _liaison, case, member = family
    sf.make_contact(case=case, member=member, at=T0 + timedelta(hours=1), outcome="message_sent", channel="sms",
                    is_system=True, source_type="sms")
    assert kinds(frozen(T0 + timedelta(hours=49))) == ["first_contact"]


def test_a_contact_logged_in_the_future_of_the_clock_does_not_count_yet(frozen, family):
    _liaison, case, member = family
    sf.make_contact(case=case, member=member, at=T0 + timedelta(hours=50))
    assert kinds(frozen(T0 + timedelta(hours=49))) == ["first_contact"]
    assert kinds(frozen(T0 + timedelta(hours=50))) == []


def test_a_correction_replaces_the_entry_it_corrects(frozen, family):
    _liaison, case, member = family
    wrong = sf.make_contact(case=case, member=member, at=T0 + timedelta(hours=2), outcome="reached")
    assert kinds(frozen(T0 + timedelta(hours=49))) == []
    sf.make_contact(case=case, member=member, at=T0 + timedelta(hours=2), outcome="no_answer", corrects=wrong)
    assert kinds(frozen(T0 + timedelta(hours=49))) == ["first_contact"]


def test_policy_values_come_from_the_agency_settings(frozen, family, db):
    agency = get_agency()
    agency.first_contact_hours, agency.first_contact_warning_hours = 12, 6
    db.session.commit()
    assert kinds(frozen(T0 + timedelta(hours=6) - MINUTE)) == []
    assert [f.level for f in frozen(T0 + timedelta(hours=6))] == ["soon"]
    assert [f.level for f in frozen(T0 + timedelta(hours=12))] == ["act_now"]


# --- cadence -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cadence,days", [("weekly", 7), ("biweekly", 14), ("monthly", 30)])
def test_cadence_flag_comes_exactly_after_the_familys_chosen_interval(frozen, family, db, cadence, days):
    _liaison, case, member = family
    member.cadence = cadence
    db.session.commit()
    last = T0 + timedelta(hours=3)
    sf.make_contact(case=case, member=member, at=last)
    assert frozen(last + timedelta(days=days) - MINUTE) == []
    flags = frozen(last + timedelta(days=days))
    assert [(f.kind, f.member_id, f.since, f.due_at) for f in flags] == \
        [("cadence", member.id, last, last + timedelta(days=days))]
    assert next_contact_due(member, now=last + timedelta(days=1)) == last + timedelta(days=days)


def test_cadence_counts_from_the_latest_contact_with_that_person(frozen, family, db):
    _liaison, case, member = family
    brother = factories.make_family_member(case=case, name="Miguel Díaz")
    sf.make_contact(case=case, member=member, at=T0 + timedelta(hours=1))
    sf.make_contact(case=case, member=member, at=T0 + timedelta(days=10))
    flags = frozen(T0 + timedelta(days=14, hours=1))
    # The mother was called on day 10; her brother never: he is due 14 days after the case opened.
    assert [(f.kind, f.member_id) for f in flags] == [("cadence", brother.id)]
    assert next_contact_due(member) == T0 + timedelta(days=24)
    assert next_contact_due(brother) == T0 + timedelta(days=14)


def test_a_contact_naming_no_one_counts_for_the_whole_family(frozen, family):
    _liaison, case, member = family
    sf.make_contact(case=case, member=None, at=T0 + timedelta(hours=1), channel="visit")
    assert frozen(T0 + timedelta(days=14, hours=1) - MINUTE) == []
    assert kinds(frozen(T0 + timedelta(days=14, hours=1))) == ["cadence"]


def test_only_when_something_changes_never_raises_a_cadence_flag(frozen, family, db):
    _liaison, case, member = family
    member.cadence = "on_change"
    db.session.commit()
    sf.make_contact(case=case, member=member, at=T0 + timedelta(hours=1))
    assert frozen(T0 + timedelta(days=200)) == []
    assert next_contact_due(member) is None


def test_an_unknown_cadence_falls_back_to_the_agency_default(frozen, family, db):
    """The database refuses a cadence outside the vocabulary (CHECK); the rules still fall back to the agency's
    default for one they do not know."""
    from sqlalchemy.exc import IntegrityError

    from portal.contact_rules import cadence_days, next_due

    _liaison, case, member = family
    member.cadence = "legacy"
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert cadence_days("legacy", 10) == 10 and next_due("legacy", T0, 10) == T0 + timedelta(days=10)
    assert cadence_days("weekly", 10) == 7 and cadence_days("on_change", 10) is None
    get_agency().default_cadence_days = 10
    db.session.commit()
    sf.make_contact(case=case, member=member, at=T0)  # biweekly: the agency default does not apply
    assert frozen(T0 + timedelta(days=14) - MINUTE) == []
    assert kinds(frozen(T0 + timedelta(days=14))) == ["cadence"]


def test_do_not_contact_families_are_listed_never_flagged(frozen, family, db):
    _liaison, case, member = family
    member.cadence = "do_not_contact"
    db.session.commit()
    case.stage, case.stage_changed_at = "investigating", T0 + timedelta(days=3)
    db.session.commit()
    flags = frozen(T0 + timedelta(days=90))
    assert [(f.kind, f.level, f.member_id) for f in flags] == [("do_not_contact", "listed", member.id)]
    assert next_contact_due(member) is None


def test_do_not_contact_still_flags_what_the_family_itself_asked_for(frozen, family, db):
    _liaison, case, member = family
    member.cadence = "do_not_contact"
    db.session.commit()
    sf.make_message(case=case, member=member, created_at=T0)
    assert kinds(frozen(T0 + timedelta(days=2))) == ["do_not_contact", "message_unanswered"]


# --- stage change --------------------------------------------------------------------------------------------

def test_stage_change_needs_a_contact_within_two_days(frozen, family, db):
    _liaison, case, member = family
    sf.make_contact(case=case, member=member, at=T0 + timedelta(hours=1))
    changed = T0 + timedelta(days=5)
    case.stage, case.stage_changed_at = "awaiting_toxicology", changed
    db.session.commit()
    assert frozen(changed + timedelta(days=2) - MINUTE) == []
    flags = frozen(changed + timedelta(days=2))
    assert [(f.kind, f.since) for f in flags] == [("stage_change", changed)]
    sf.make_contact(case=case, member=member, at=changed + timedelta(days=2, minutes=1))
    assert frozen(changed + timedelta(days=2, minutes=2)) == []


def test_stage_change_applies_to_families_who_want_contact_only_on_change(frozen, family, db):
    _liaison, case, member = family
    member.cadence = "on_change"
    sf.make_contact(case=case, member=member, at=T0 + timedelta(hours=1))
    case.stage, case.stage_changed_at = "investigating", T0 + timedelta(days=40)
    db.session.commit()
    assert frozen(T0 + timedelta(days=41)) == []
    assert kinds(frozen(T0 + timedelta(days=42))) == ["stage_change"]


def test_closed_cases_need_no_regular_contact(frozen, family, db):
    _liaison, case, member = family
    case.closed_at = T0 + timedelta(hours=1)
    db.session.commit()
    assert frozen(T0 + timedelta(days=60)) == []


# --- leads, messages, texts, callbacks, meetings, no-shows -----------------------------------------------------

def test_a_lead_flags_after_72_hours_unreviewed(frozen, family, db):
    _liaison, case, member = family
    sf.make_contact(case=case, member=member, at=T0)
    lead = sf.make_lead(case=case, member=member, created_at=T0)
    assert frozen(T0 + timedelta(hours=72) - MINUTE) == []
    flags = frozen(T0 + timedelta(hours=72))
    assert [(f.kind, f.ref_id) for f in flags] == [("lead_unreviewed", lead.id)]
    lead.status = "reviewing"
    db.session.commit()
    assert frozen(T0 + timedelta(hours=80)) == []


@pytest.mark.parametrize("sent_local,due_local", [
    # (day, hour) in the agency's zone: Wednesday 09:00 is due Thursday 09:00; Friday 15:00 is due Monday 15:00;
    # a Saturday message counts from Monday, so it is due Tuesday 00:00.
    ((4, 9), (5, 9)),
    ((6, 15), (9, 15)),
    ((7, 11), (10, 0)),
])
def test_a_family_message_flags_after_one_business_day(frozen, family, sent_local, due_local):
    _liaison, case, member = family
    sf.make_contact(case=case, member=member, at=T0 - timedelta(hours=1))

    def chicago(day, hour):  # the week of 8 March 2026 crosses the switch to daylight saving time
        return datetime(2026, 3, day, hour, tzinfo=ZoneInfo("America/Chicago")).astimezone(UTC)

    sent, due = chicago(*sent_local), chicago(*due_local)
    sf.make_message(case=case, member=member, created_at=sent)
    assert frozen(due - MINUTE) == []
    flags = frozen(due)
    assert [(f.kind, f.since, f.due_at, f.member_id) for f in flags] == [("message_unanswered", sent, due, member.id)]


def test_a_staff_reply_or_a_later_call_answers_a_family_message(frozen, family):
    liaison, case, member = family
    sf.make_contact(case=case, member=member, at=T0 - timedelta(hours=1))
    sf.make_message(case=case, member=member, created_at=T0)
    sf.make_message(case=case, sender="staff", author=liaison, created_at=T0 + timedelta(hours=2))
    assert frozen(T0 + timedelta(days=1, hours=12)) == []
    later = sf.make_message(case=case, member=member, created_at=T0 + timedelta(days=1, hours=12))
    assert kinds(frozen(T0 + timedelta(days=2, hours=12))) == ["message_unanswered"]
    sf.make_contact(case=case, member=member, at=later.created_at + timedelta(hours=1))
    assert frozen(T0 + timedelta(days=2, hours=12)) == []


def test_an_undelivered_text_flags_until_a_text_gets_through_or_the_number_changes(frozen, family, db):
    _liaison, case, member = family
    sf.make_contact(case=case, member=member, at=T0)
    text = sf.make_text(member=member, status="sending", created_at=T0 + timedelta(hours=1))
    assert frozen(T0 + timedelta(hours=2)) == []
    text.status, text.updated_at = "undelivered", T0 + timedelta(hours=2)
    db.session.commit()
    flags = frozen(T0 + timedelta(hours=3))
    assert [(f.kind, f.member_id, f.since) for f in flags] == [("text_undelivered", member.id, T0 + timedelta(hours=2))]
    sf.make_text(member=member, status="delivered", created_at=T0 + timedelta(hours=4))
    assert frozen(T0 + timedelta(hours=5)) == []
    sf.make_text(member=member, status="failed", created_at=T0 + timedelta(hours=6))
    assert kinds(frozen(T0 + timedelta(hours=7))) == ["text_undelivered"]
    member.phone = "+13125550177"
    db.session.commit()
    assert frozen(T0 + timedelta(hours=7)) == []


def test_a_number_marked_wrong_flags_until_someone_reaches_the_person(frozen, family, db):
    _liaison, case, member = family
    sf.make_contact(case=case, member=member, at=T0)
    member.phone_flagged_at = T0 + timedelta(hours=5)
    db.session.commit()
    assert frozen(T0 + timedelta(hours=5) - MINUTE) == []
    assert kinds(frozen(T0 + timedelta(hours=5))) == ["text_undelivered"]
    sf.make_contact(case=case, member=member, at=T0 + timedelta(hours=6))
    assert frozen(T0 + timedelta(hours=7)) == []


def test_a_callback_request_flags_after_one_business_day_unconfirmed(frozen, family, db):
    _liaison, case, member = family
    sf.make_contact(case=case, member=member, at=T0 - timedelta(hours=1))
    appt = sf.make_appointment(case=case, member=member, kind="callback", status="requested", created_at=T0,
                               callback_window="Weekday evenings")
    assert frozen(T0 + timedelta(days=1) - MINUTE) == []
    assert [(f.kind, f.ref_id) for f in frozen(T0 + timedelta(days=1))] == [("callback_unconfirmed", appt.id)]
    appt.status = "confirmed"
    db.session.commit()
    assert frozen(T0 + timedelta(days=2)) == []


def test_a_meeting_request_after_a_declination_flags_until_someone_contacts_the_family(frozen, family, db):
    _liaison, case, member = family
    sf.make_contact(case=case, member=member, at=T0)
    asked = T0 + timedelta(days=3)
    sf.make_case_update(case=case, kind="meeting_request", created_at=asked, family_visible=False)
    assert frozen(asked - MINUTE) == []
    assert [(f.kind, f.since) for f in frozen(asked)] == [("meeting_request", asked)]
    sf.make_contact(case=case, member=member, at=asked + timedelta(hours=3))
    assert frozen(asked + timedelta(hours=4)) == []


def test_a_missed_appointment_flags_until_the_next_contact(frozen, family):
    _liaison, case, member = family
    sf.make_contact(case=case, member=member, at=T0)
    start = T0 + timedelta(days=2)
    sf.make_appointment(case=case, member=member, status="no_show", starts_at=start)
    assert frozen(start - MINUTE) == []
    assert kinds(frozen(start + MINUTE)) == ["no_show"]
    sf.make_contact(case=case, member=member, at=start + timedelta(hours=1))
    assert frozen(start + timedelta(hours=2)) == []


# --- order, scope and cost -------------------------------------------------------------------------------------

def test_flags_are_sorted_by_severity_then_age(frozen, db):
    liaison = factories.make_user(role="liaison")
    older = factories.make_case(liaison=liaison, opened_at=T0 - timedelta(hours=60), number="OLD")
    newer = factories.make_case(liaison=liaison, opened_at=T0 - timedelta(hours=50), number="NEW")
    warning = factories.make_case(liaison=liaison, opened_at=T0 - timedelta(hours=30), number="WARN")
    for case in (older, newer, warning):
        factories.make_family_member(case=case)
    flags = frozen(T0)
    assert [(f.case_number, f.level) for f in flags] == [("OLD", "act_now"), ("NEW", "act_now"), ("WARN", "soon")]


def test_liaison_and_case_filters_limit_the_flags(frozen, db):
    a, b = factories.make_user(role="liaison"), factories.make_user(role="liaison")
    case_a = factories.make_case(liaison=a, opened_at=T0 - timedelta(days=3), number="A")
    case_b = factories.make_case(liaison=b, backup=a, opened_at=T0 - timedelta(days=3), number="B")
    case_c = factories.make_case(liaison=b, opened_at=T0 - timedelta(days=3), number="C")
    assert [f.case_number for f in frozen(T0, liaison=a)] == ["A", "B"]
    assert [f.case_number for f in frozen(T0, liaison=b.id)] == ["B", "C"]
    assert [f.case_number for f in frozen(T0, case_ids=[case_c.id])] == ["C"]
    assert frozen(T0, case_ids=[]) == []
    assert {f.case_id for f in frozen(T0)} == {case_a.id, case_b.id, case_c.id}


def _fill(n, liaison):
    for _i in range(n):
        case = factories.make_case(liaison=liaison, opened_at=T0 - timedelta(days=20))
        member = factories.make_family_member(case=case)
        sf.make_contact(case=case, member=member, at=T0 - timedelta(days=19))
        sf.make_lead(case=case, created_at=T0 - timedelta(days=5))
        sf.make_message(case=case, member=member, created_at=T0 - timedelta(days=4))
        sf.make_text(member=member, status="failed", created_at=T0 - timedelta(days=2))
        sf.make_appointment(case=case, member=member, kind="callback", status="requested",
                            created_at=T0 - timedelta(days=4))
        sf.make_case_update(case=case, kind="meeting_request", created_at=T0 - timedelta(days=1))


def test_the_number_of_queries_does_not_grow_with_the_number_of_families(frozen, db, app):
    from sqlalchemy import event

    liaison = factories.make_user(role="liaison")
    get_agency()
    db.session.commit()
    counts = []
    for n in (2, 12):
        _fill(n - (counts and 2 or 0), liaison)
        statements = []

        def count(*_args, statements=statements):
            statements.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            db.session.expire_all()
            flags = frozen(T0)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert {f.kind for f in flags} == {"cadence", "lead_unreviewed", "message_unanswered", "text_undelivered",
                                           "callback_unconfirmed", "meeting_request"}
        assert len({f.case_id for f in flags}) == n
        counts.append(len(statements))
    assert counts[0] == counts[1] and counts[0] <= 12, counts


# --- every contact rule against every cadence --------------------------------------------------------------------

ALL_CADENCES = ["weekly", "biweekly", "monthly", "on_change", "do_not_contact"]


@pytest.mark.parametrize("cadence", ALL_CADENCES)
def test_first_contact_applies_to_every_cadence_except_do_not_contact(frozen, family, db, cadence):
    _liaison, _case, member = family
    member.cadence = cadence
    db.session.commit()
    assert frozen(T0 + timedelta(hours=48) - MINUTE)[0].kind in ("first_contact", "do_not_contact")
    flags = frozen(T0 + timedelta(hours=48))
    expected = ["do_not_contact"] if cadence == "do_not_contact" else ["first_contact"]
    assert kinds(flags) == expected
    assert [f.level for f in flags] == (["listed"] if cadence == "do_not_contact" else ["act_now"])


@pytest.mark.parametrize("cadence", ALL_CADENCES)
def test_stage_change_applies_to_every_cadence_except_do_not_contact(frozen, family, db, cadence):
    _liaison, case, member = family
    member.cadence = cadence
    sf.make_contact(case=case, member=member, at=T0 + timedelta(hours=1))
    changed = T0 + timedelta(days=3)
    case.stage, case.stage_changed_at = "investigating", changed
    db.session.commit()
    before = [k for k in kinds(frozen(changed + timedelta(days=2) - MINUTE)) if k != "do_not_contact"]
    after = [k for k in kinds(frozen(changed + timedelta(days=2))) if k != "do_not_contact"]
    assert before == []
    assert after == ([] if cadence == "do_not_contact" else ["stage_change"])


@pytest.mark.parametrize("make,kind", [
    (lambda case, member: sf.make_lead(case=case, created_at=T0), "lead_unreviewed"),
    (lambda case, member: sf.make_message(case=case, member=member, created_at=T0), "message_unanswered"),
    (lambda case, member: sf.make_text(member=member, status="failed", created_at=T0), "text_undelivered"),
    (lambda case, member: sf.make_appointment(case=case, member=member, kind="callback", status="requested",
                                              created_at=T0), "callback_unconfirmed"),
    (lambda case, member: sf.make_case_update(case=case, kind="meeting_request", created_at=T0), "meeting_request"),
    (lambda case, member: sf.make_appointment(case=case, member=member, status="no_show", starts_at=T0), "no_show"),
])
def test_flags_about_what_the_family_asked_or_sent_stay_for_do_not_contact(frozen, family, db, make, kind):
    _liaison, case, member = family
    member.cadence = "do_not_contact"
    db.session.commit()
    sf.make_contact(case=case, member=member, at=T0 - timedelta(hours=1))
    make(case, member)
    assert kind in kinds(frozen(T0 + timedelta(days=6)))
