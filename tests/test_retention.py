"""Retention: closed cases' contents are purged when the agency's period runs out, never on legal hold; the dry run
reports counts and changes nothing; the audit keeps the counts, never the contents."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from portal import tasks
from portal.models import (
    AuditEvent,
    Case,
    CaseMessage,
    InboundSms,
    Lead,
    LeadAttachment,
    LeadNote,
    LeadQuestion,
    Notification,
    utcnow,
)
from portal.services import retention
from portal.services.agency import get_agency
from portal.tasks.retention import purge_due

from . import factories, family_factories, staff_factories

MARKER = "MARKER-RETAIN-5T"
PERIOD_SETTINGS = retention.PERIODS.values()
TABLES = (Lead, LeadNote, LeadQuestion, LeadAttachment, CaseMessage, InboundSms, Notification, AuditEvent, Case)


def _policy(db, **days):
    agency = get_agency()
    for setting in PERIOD_SETTINGS:
        setattr(agency, setting, None)
    for setting, value in days.items():
        setattr(agency, setting, value)
    db.session.commit()


def _fill(db, app, case: Case, *, redacted: bool = True) -> dict:
    """A lead with a note, a question and a file, a tip with a question, a conversation and texts, on the case."""
    member = case.family_members[0] if case.family_members else factories.make_family_member(case=case)
    lead = family_factories.make_lead(case=case, member=member, details=MARKER)
    family_factories.make_note(lead=lead, body=MARKER)
    family_factories.make_question(lead=lead, question=MARKER, answer=MARKER, answered_at=utcnow())
    attachment = family_factories.make_attachment(lead=lead, app=app, content=MARKER.encode())
    tip = family_factories.make_lead(case=case, anonymous=True, details=MARKER, tip_code=f"T{case.id:07d}")
    family_factories.make_question(lead=tip, question=MARKER)
    staff_factories.make_message(case=case, member=member, body=MARKER)
    inbound = factories.make_inbound_sms(member=member, body=MARKER)
    staff_factories.make_message(case=case, member=member, body=MARKER).inbound_sms_id = inbound.id
    text = staff_factories.make_text(member=member, status="delivered")
    text.provider_sid = f"SM{case.id:032d}"
    if redacted:
        inbound.provider_redacted_at = text.provider_redacted_at = utcnow()
    db.session.commit()
    return {"file": Path(app.config["UPLOAD_DIR"]) / attachment.stored_name, "lead": lead.id, "tip": tip.id}


def _counts(db, case_id: int) -> dict[str, int]:
    """Rows of each content table on the case (and all audit events)."""
    def on_case(stmt):
        return db.session.scalar(select(func.count()).select_from(stmt.subquery()))

    leads = select(Lead.id).where(Lead.case_id == case_id)
    return {
        "leads": on_case(leads),
        "lead_notes": on_case(select(LeadNote.id).where(LeadNote.lead_id.in_(leads))),
        "lead_questions": on_case(select(LeadQuestion.id).where(LeadQuestion.lead_id.in_(leads))),
        "files": on_case(select(LeadAttachment.id).where(LeadAttachment.lead_id.in_(leads))),
        "messages": on_case(select(CaseMessage.id).where(CaseMessage.case_id == case_id)),
        "inbound": on_case(select(InboundSms.id).where(InboundSms.case_id == case_id)),
        "outbox": on_case(select(Notification.id).where(Notification.case_id == case_id)),
    }


def _everything(db) -> dict[str, int]:
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) for model in TABLES}


def _closed_case(db, *, days_ago: int = 30, **kwargs) -> Case:
    case = factories.make_case(stage="closed", **kwargs)
    case.closed_at = utcnow() - timedelta(days=days_ago)
    db.session.commit()
    return case


def test_a_zero_day_policy_purges_a_closed_demo_case_writes_one_audit_event_and_spares_the_held_one(app, db):
    from portal.demo import seed_demo

    seed_demo()
    db.session.commit()
    closed = db.session.scalar(select(Case).where(Case.case_number == "OD-2025-0120"))
    assert closed.closed_at is not None
    purged = _fill(db, app, closed)
    held = _closed_case(db, days_ago=400)
    kept = _fill(db, app, held)
    retention.set_legal_hold(held, reason="Court order 26-CV-114", by=factories.make_user(role="supervisor"))
    db.session.commit()
    open_cases = {c.id: _counts(db, c.id) for c in db.session.scalars(select(Case).where(Case.closed_at.is_(None)))}
    _policy(db, **dict.fromkeys(PERIOD_SETTINGS, 0))
    before = _everything(db)
    held_before = _counts(db, held.id)
    runner = app.test_cli_runner()

    dry = runner.invoke(args=["retention", "--dry-run"])

    assert dry.exit_code == 0, dry.output
    assert "OD-2025-0120: leads 1, tips 1, lead notes 1, lead questions 2, files 1, messages" in dry.output
    assert held.case_number not in dry.output and MARKER not in dry.output
    assert "nothing was purged" in dry.output and "Kept on legal hold: 1 closed case(s)." in dry.output
    db.session.expire_all()
    assert _everything(db) == before  # the dry run changed nothing
    assert purged["file"].exists()

    result = runner.invoke(args=["retention"])

    assert result.exit_code == 0, result.output
    assert "OD-2025-0120" in result.output and MARKER not in result.output
    db.session.expire_all()
    assert set(_counts(db, closed.id).values()) == {0}
    assert not purged["file"].exists()
    assert db.session.get(Case, closed.id) is not None  # the case, its timeline and contact history stay
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "retention.purge")).all()
    assert len(events) == 1
    assert (events[0].target_type, events[0].target_id) == ("cases", str(closed.id))
    assert events[0].details["leads"] == 1 and events[0].details["tips"] == 1 and events[0].details["files"] == 1
    assert MARKER not in str(events[0].details)
    assert _counts(db, held.id) == held_before and kept["file"].exists()  # on legal hold: untouched
    assert {c: _counts(db, c) for c in open_cases} == open_cases  # open cases: untouched
    assert runner.invoke(args=["retention"]).output.startswith("Nothing is due")  # done once


def test_nothing_is_purged_by_default_or_before_the_period_runs_out(app, db):
    case = _closed_case(db, days_ago=20)
    _fill(db, app, case)
    before = _counts(db, case.id)
    assert retention.plan() == [] and purge_due() == []  # every period blank: kept forever
    _policy(db, retention_lead_days=30)
    assert purge_due() == []
    db.session.expire_all()
    assert _counts(db, case.id) == before
    [done] = purge_due(now=utcnow() + timedelta(days=11))
    assert done.counts["leads"] == 1 and done.counts["tips"] == 0
    db.session.expire_all()
    after = _counts(db, case.id)
    assert after["leads"] == 1  # the tip stays: its own period is blank
    assert after["messages"] == before["messages"] and after["outbox"] == before["outbox"]


def test_each_kind_has_its_own_period_and_a_kept_message_loses_only_its_link_to_a_purged_text(app, db):
    case = _closed_case(db)
    ids = _fill(db, app, case)
    _policy(db, retention_file_days=0, retention_text_days=0)
    tasks.purge_expired_contents.call_local()  # the daily periodic job
    db.session.expire_all()
    after = _counts(db, case.id)
    assert after["files"] == 0 and not ids["file"].exists()
    assert after["leads"] == 2 and after["lead_notes"] == 1  # the lead, the tip and their notes stay
    assert after["inbound"] == 0 and after["outbox"] == 0
    assert after["messages"] == 2
    assert all(m.inbound_sms_id is None for m in db.session.scalars(select(CaseMessage)
                                                                    .where(CaseMessage.case_id == case.id)))


def test_a_text_twilio_still_holds_is_kept_until_its_redaction_is_done(app, db):
    case = _closed_case(db)
    _fill(db, app, case, redacted=False)
    _policy(db, retention_text_days=0)
    purge_due()
    db.session.expire_all()
    assert _counts(db, case.id)["inbound"] == 1 and _counts(db, case.id)["outbox"] == 1
    for model in (InboundSms, Notification):
        for row in db.session.scalars(select(model).where(model.case_id == case.id)):
            row.provider_redacted_at = utcnow()
    db.session.commit()
    purge_due()
    db.session.expire_all()
    assert _counts(db, case.id)["inbound"] == 0 and _counts(db, case.id)["outbox"] == 0


def test_a_hold_set_after_the_plan_still_wins(app, db):
    case = _closed_case(db)
    _fill(db, app, case)
    _policy(db, retention_lead_days=0)
    plans = retention.plan()
    assert [p.case_id for p in plans] == [case.id]
    retention.set_legal_hold(case, reason="Appeal pending", by=factories.make_user(role="admin"))
    db.session.commit()
    assert purge_due(plans) == []
    db.session.expire_all()
    assert _counts(db, case.id)["leads"] == 2


def test_an_open_case_is_never_purged(app, db):
    case = factories.make_case(stage="investigating")
    _fill(db, app, case)
    _policy(db, **dict.fromkeys(PERIOD_SETTINGS, 0))
    assert purge_due() == []
    db.session.expire_all()
    assert _counts(db, case.id)["leads"] == 2


def test_the_retention_job_runs_daily_and_the_redaction_job_every_minute_as_a_worker_would(app, db, monkeypatch):
    import threading
    from datetime import datetime

    schedules = tasks.huey._registry._periodic_tasks
    assert tasks.purge_expired_contents.task_class in schedules
    daily = tasks.purge_expired_contents.task_class()
    assert [(h, m) for h in range(24) for m in range(60) if daily.validate_datetime(datetime(2026, 3, 3, h, m))] \
        == [(8, 30)]
    minutely = tasks.redact_provider_copies.task_class()
    assert tasks.redact_provider_copies.task_class in schedules
    assert all(minutely.validate_datetime(datetime(2026, 3, 3, 9, minute)) for minute in (0, 1, 37, 59))
    case = _closed_case(db)
    _fill(db, app, case)
    _policy(db, retention_message_days=0)
    monkeypatch.setitem(tasks._state, "app", app)
    runner = threading.Thread(target=tasks.purge_expired_contents.call_local)  # a huey thread: no app context
    runner.start()
    runner.join()
    db.session.expire_all()
    assert _counts(db, case.id)["messages"] == 0 and _counts(db, case.id)["leads"] == 2
