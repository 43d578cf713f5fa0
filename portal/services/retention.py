"""Retention: what of a closed case is purged when (the agency's periods), the legal hold that stops it, and how
long an idle anonymous tip thread stays open.

Each period counts days from the case's closing (Case.closed_at, set by close_case); a blank period keeps that
kind forever, 0 purges it at the next run. Purging deletes the rows and files that hold contents: leads and tips
with their notes, questions and attachments; files alone; the case conversation; received texts and outbox rows.
The case itself, its timeline and its contact history stay, and the audit keeps the counts, never a word of
content. Nothing here filters on contents in SQL (they are encrypted): only ids, flags and times.

A text Twilio may still hold (its redaction not yet done: tasks/redaction.py) is kept until it is, so the sid
that redacts it is not lost; a text in flight ("sending") is left for the next run.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, and_, delete, func, not_, or_, select, update

from .. import audit, uploads
from ..errors import ServiceError
from ..extensions import db
from ..models import (
    Agency,
    Case,
    CaseMessage,
    InboundSms,
    InboundSmsMedia,
    Lead,
    LeadAttachment,
    LeadNote,
    LeadQuestion,
    NoticeLink,
    Notification,
    User,
    utcnow,
)
from .agency import get_agency

# The agency's setting for each kind (days after closing; None: kept forever).
PERIODS = {
    "leads": "retention_lead_days",
    "tips": "retention_tip_days",
    "files": "retention_file_days",
    "messages": "retention_message_days",
    "texts": "retention_text_days",
}
RETENTION_SETTINGS = (*PERIODS.values(), "tip_thread_idle_days")
MAX_DAYS = 36500  # a hundred years: the longest period an admin may type
# What a report counts, in this order: the rows (and files) that go.
COUNTED = ("leads", "tips", "lead_notes", "lead_questions", "files", "messages", "inbound_texts", "outbox")
HOLD_REASON_MAX = 500


@dataclass
class CasePurge:
    """What is (or was) purged of one case: counts per kind, no contents."""

    case_id: int
    case_number: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def periods(agency: Agency) -> dict[str, int | None]:
    """{kind: days after closing, or None to keep it forever} from the agency's settings."""
    return {kind: getattr(agency, setting) for kind, setting in PERIODS.items()}


def due_kinds(case: Case, policy: dict[str, int | None], now: datetime) -> set[str]:
    """The kinds of this case's contents whose period has run out (none for an open or held case)."""
    if case.closed_at is None or case.held_at is not None:
        return set()
    return {kind for kind, days in policy.items() if days is not None and case.closed_at + timedelta(days=days) <= now}


def _leads(case_id: int, kinds: set[str]) -> Select | None:
    """The ids of the leads (family) and tips (anonymous) of the case that go."""
    if "leads" in kinds and "tips" in kinds:
        return select(Lead.id).where(Lead.case_id == case_id)
    if "leads" in kinds or "tips" in kinds:
        return select(Lead.id).where(Lead.case_id == case_id, Lead.is_anonymous.is_("tips" in kinds))
    return None


def _files(case_id: int, kinds: set[str]) -> Select | None:
    """The attachments that go: every file on the case's leads, or those of the leads and tips that go."""
    if "files" in kinds:
        return select(LeadAttachment).join(Lead, LeadAttachment.lead_id == Lead.id).where(Lead.case_id == case_id)
    leads = _leads(case_id, kinds)
    return None if leads is None else select(LeadAttachment).where(LeadAttachment.lead_id.in_(leads))


def _waiting_at_provider(model):
    """A text whose body Twilio may still hold: kept until its redaction is done or refused."""
    return and_(model.provider_redacted_at.is_(None), model.redact_error.is_(None))


def _inbound(case_id: int) -> Select:
    return select(InboundSms.id).where(InboundSms.case_id == case_id, not_(_waiting_at_provider(InboundSms)))


def _outbox(case_id: int) -> Select:
    at_provider = and_(Notification.provider_sid.is_not(None), _waiting_at_provider(Notification))
    return select(Notification.id).where(Notification.case_id == case_id, Notification.status != "sending",
                                         or_(Notification.channel != "sms", not_(at_provider)))


def _count(stmt: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def count_due(case: Case, kinds: set[str]) -> CasePurge:
    """How many rows and files of each kind a purge of these kinds would remove from the case."""
    counts = dict.fromkeys(COUNTED, 0)
    leads = _leads(case.id, kinds)
    if leads is not None:
        if "leads" in kinds:
            counts["leads"] = _count(select(Lead.id).where(Lead.id.in_(leads), Lead.is_anonymous.is_(False)))
        if "tips" in kinds:
            counts["tips"] = _count(select(Lead.id).where(Lead.id.in_(leads), Lead.is_anonymous.is_(True)))
        counts["lead_notes"] = _count(select(LeadNote.id).where(LeadNote.lead_id.in_(leads)))
        counts["lead_questions"] = _count(select(LeadQuestion.id).where(LeadQuestion.lead_id.in_(leads)))
    files = _files(case.id, kinds)
    if files is not None:
        counts["files"] = _count(files.with_only_columns(LeadAttachment.id))
    if "messages" in kinds:
        counts["messages"] = _count(select(CaseMessage.id).where(CaseMessage.case_id == case.id))
    if "texts" in kinds:
        counts["inbound_texts"] = _count(_inbound(case.id))
        counts["outbox"] = _count(_outbox(case.id))
    return CasePurge(case_id=case.id, case_number=case.case_number, counts=counts)


def plan(now: datetime | None = None) -> list[CasePurge]:
    """What a run now would purge, case by case (closed, not on hold, some period run out, something left)."""
    now = now or utcnow()
    policy = periods(get_agency())
    days = [d for d in policy.values() if d is not None]
    if not days:
        return []
    candidates = db.session.scalars(
        select(Case).where(Case.closed_at.is_not(None), Case.held_at.is_(None),
                           Case.closed_at <= now - timedelta(days=min(days)))
        .order_by(Case.closed_at, Case.id)
    ).all()
    plans = []
    for case in candidates:
        due = count_due(case, due_kinds(case, policy, now))
        if due.total:
            plans.append(due)
    return plans


def held_closed_cases() -> int:
    """How many closed cases are on legal hold (kept whatever the periods say), for the report."""
    return db.session.scalar(select(func.count()).select_from(Case)
                             .where(Case.closed_at.is_not(None), Case.held_at.is_not(None))) or 0


def purge_case(case_id: int, *, now: datetime | None = None) -> CasePurge | None:
    """Purge what is due of one case now (read afresh: a hold set meanwhile wins); one audit event with counts.

    None when nothing was due. Flushes; the caller (the job or the command) commits.
    """
    now = now or utcnow()
    case = db.session.get(Case, case_id, populate_existing=True, with_for_update=True)
    if case is None:
        return None
    kinds = due_kinds(case, periods(get_agency()), now)
    done = count_due(case, kinds)
    if not done.total:
        return None
    files = _files(case.id, kinds)
    if files is not None:
        attachments = db.session.scalars(files).all()
        # A texted picture's row shares its lead attachment's files: it goes with them.
        _delete(delete(InboundSmsMedia).where(InboundSmsMedia.lead_attachment_id.in_([a.id for a in attachments])))
        for attachment in attachments:
            uploads.delete_attachment_files(attachment)
            db.session.delete(attachment)
        db.session.flush()
    leads = _leads(case.id, kinds)
    if leads is not None:
        ids = list(db.session.scalars(leads))
        for model in (LeadNote, LeadQuestion, LeadAttachment):
            _delete(delete(model).where(model.lead_id.in_(ids)))
        _delete(delete(Lead).where(Lead.id.in_(ids)))
    if "messages" in kinds:
        _delete(delete(CaseMessage).where(CaseMessage.case_id == case.id))
        # their one-time links would open nothing now (they hold only hashes, no words)
        _delete(delete(NoticeLink).where(NoticeLink.case_id == case.id, NoticeLink.item_kind == "message"))
    if "texts" in kinds:
        inbound = list(db.session.scalars(_inbound(case.id)))
        _purge_text_pictures(inbound)
        # A kept conversation message no longer points at the received text it came from.
        _delete(update(CaseMessage).where(CaseMessage.inbound_sms_id.in_(inbound)).values(inbound_sms_id=None))
        _delete(delete(InboundSms).where(InboundSms.id.in_(inbound)))
        _delete(delete(Notification).where(Notification.id.in_(list(db.session.scalars(_outbox(case.id))))))
    db.session.flush()
    db.session.expire_all()  # bulk deletes: no loaded row may outlive them
    audit.record("retention.purge", ("cases", case_id), actor=None, kinds=sorted(kinds),
                 **{kind: n for kind, n in done.counts.items() if n})
    return done


def _purge_text_pictures(inbound_ids: list[int]) -> None:
    """Remove the pictures of received texts: their rows, and the files of any still held (not part of a lead)."""
    for row in db.session.scalars(select(InboundSmsMedia).where(InboundSmsMedia.inbound_sms_id.in_(inbound_ids),
                                                                InboundSmsMedia.lead_attachment_id.is_(None))):
        uploads.delete_attachment_files(row)
    _delete(delete(InboundSmsMedia).where(InboundSmsMedia.inbound_sms_id.in_(inbound_ids)))


def _delete(stmt) -> None:
    db.session.execute(stmt.execution_options(synchronize_session=False))


def set_legal_hold(case: Case, *, reason: str, by: User) -> None:
    """Put the case on legal hold: retention never purges it until the hold is lifted."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Say why the case is on hold (for example, a court order or a pending appeal)."),
                           "reason")
    if len(reason) > HOLD_REASON_MAX:
        raise ServiceError(_("Write the reason in %(n)d characters or fewer.", n=HOLD_REASON_MAX), "reason")
    if case.held_at is not None:
        raise ServiceError(_("This case is already on legal hold."), "reason")
    case.held_at, case.held_by_id, case.hold_reason = utcnow(), by.id, reason
    db.session.flush()
    audit.record("case.legal_hold", case, actor=by)


def lift_legal_hold(case: Case, *, by: User) -> None:
    """Lift the case's legal hold: its contents are purged again when their periods run out."""
    if case.held_at is None:
        raise ServiceError(_("This case is not on legal hold."))
    case.held_at, case.held_by_id, case.hold_reason = None, None, None
    db.session.flush()
    audit.record("case.legal_hold_lift", case, actor=by)


def check_periods(values: dict) -> None:
    """Refuse a retention period or tip-thread limit that is not blank or a whole number of days 0..MAX_DAYS."""
    for key in RETENTION_SETTINGS:
        value = values.get(key)
        if value is not None and not 0 <= int(value) <= MAX_DAYS:
            raise ServiceError(_("Choose a number of days from %(low)d to %(high)d, or leave it blank.", low=0,
                                 high=MAX_DAYS), key)


def tip_thread_open(lead: Lead, questions: list[LeadQuestion], *, now: datetime | None = None) -> bool:
    """Whether an anonymous tip's code still takes answers: its last activity (the tip, a question, an answer) is
    more recent than the agency's idle limit (no limit: always open)."""
    # Read only (a tip page never creates the agency row); no row yet means no limit set.
    days = db.session.scalar(select(Agency.tip_thread_idle_days).order_by(Agency.id).limit(1))
    if days is None:
        return True
    times = [lead.created_at, *(q.asked_at for q in questions), *(q.answered_at for q in questions if q.answered_at)]
    return max(times) + timedelta(days=days) > (now or utcnow())
