"""The latest real contact kept on cases and family members by the database, whoever writes outreach."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import aliased

from portal.contact_rules import counts_as_contact
from portal.models import Case, FamilyMember, Outreach, utcnow
from portal.services.contact import log_outreach

from . import factories
from . import staff_factories as sf

T0 = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def kept(db, case: Case, *members: FamilyMember):
    """(case latest, case whole-family latest, each member's latest) as the database keeps them."""
    db.session.expire_all()
    row = db.session.execute(select(Case.last_contact_at, Case.last_family_contact_at).where(Case.id == case.id)).one()
    return (row[0], row[1], *[db.session.scalar(select(FamilyMember.last_contact_at).where(FamilyMember.id == m.id))
                              for m in members])


def computed(db, case: Case, *members: FamilyMember):
    """The same three, computed from outreach with counts_as_contact(): the rule the flags are written with."""
    def latest(*where):
        rule = counts_as_contact(Outreach, aliased(Outreach))
        return db.session.scalar(select(func.max(Outreach.occurred_at)).where(*where, rule))

    return (latest(Outreach.case_id == case.id),
            latest(Outreach.case_id == case.id, Outreach.family_member_id.is_(None)),
            *[latest(Outreach.family_member_id == m.id) for m in members])


def test_every_kind_of_entry_keeps_the_latest_real_contact_and_only_that(db):
    case = factories.make_case(opened_at=T0)
    mother, brother = factories.make_family_member(case=case), factories.make_family_member(case=case)
    assert kept(db, case, mother, brother) == (None, None, None, None)
    sf.make_contact(case=case, member=mother, at=T0 + HOUR)
    assert kept(db, case, mother, brother) == (T0 + HOUR, None, T0 + HOUR, None)
    sf.make_contact(case=case, member=brother, at=T0 + 2 * HOUR, outcome="no_answer")  # an attempt
    sf.make_contact(case=case, member=brother, at=T0 + 3 * HOUR, channel="sms", outcome="message_sent",
                    is_system=True, source_type="sms")  # an automatic text
    assert kept(db, case, mother, brother) == (T0 + HOUR, None, T0 + HOUR, None)
    visit = sf.make_contact(case=case, member=None, at=T0 + 4 * HOUR, channel="visit")  # the whole family
    assert kept(db, case, mother, brother) == (T0 + 4 * HOUR, T0 + 4 * HOUR, T0 + HOUR, None)
    assert kept(db, case, mother, brother) == computed(db, case, mother, brother)
    # A correction replaces what it corrects: the visit was really a call to the brother that nobody answered.
    sf.make_contact(case=case, member=brother, at=T0 + 4 * HOUR, outcome="no_answer", corrects=visit)
    assert kept(db, case, mother, brother) == (T0 + HOUR, None, T0 + HOUR, None)
    assert kept(db, case, mother, brother) == computed(db, case, mother, brother)


def test_a_correction_naming_someone_else_recomputes_both_people(db):
    case = factories.make_case(opened_at=T0)
    mother, brother = factories.make_family_member(case=case), factories.make_family_member(case=case)
    staff = factories.make_user(role="liaison")
    call = log_outreach(case=case, staff=staff, channel="phone", direction="outbound", outcome="reached",
                        member=mother, occurred_at=T0 + HOUR, now=T0 + 2 * HOUR)
    db.session.commit()
    log_outreach(case=case, staff=staff, channel="phone", direction="outbound", outcome="reached", member=brother,
                 occurred_at=T0 + HOUR, corrects=call, now=T0 + 2 * HOUR)
    db.session.commit()
    assert kept(db, case, mother, brother) == (T0 + HOUR, None, None, T0 + HOUR)


def test_rows_written_in_bulk_keep_it_too(db):
    case = factories.make_case(opened_at=T0)
    member = factories.make_family_member(case=case)
    db.session.execute(insert(Outreach), [
        dict(case_id=case.id, family_member_id=member.id, channel="phone", direction="outbound", outcome="reached",
             occurred_at=T0 + n * HOUR, notes="", is_system=False, created_at=utcnow()) for n in range(1, 6)])
    db.session.commit()
    assert kept(db, case, member) == (T0 + 5 * HOUR, None, T0 + 5 * HOUR)


def test_a_contact_ahead_of_the_clock_is_kept_but_not_counted_before_its_time(db, time_machine):
    from portal.services.contact import next_contact_due

    case = factories.make_case(opened_at=T0)
    member = factories.make_family_member(case=case)
    sf.make_contact(case=case, member=member, at=T0 + HOUR)
    sf.make_contact(case=case, member=member, at=T0 + 10 * HOUR)
    assert kept(db, case, member) == (T0 + 10 * HOUR, None, T0 + 10 * HOUR)
    time_machine.move_to(T0 + 5 * HOUR, tick=False)
    assert next_contact_due(member) == T0 + HOUR + timedelta(days=14)  # the later one has not happened yet
    time_machine.move_to(T0 + 10 * HOUR, tick=False)
    assert next_contact_due(member) == T0 + 10 * HOUR + timedelta(days=14)
