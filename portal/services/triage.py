"""Lead triage: the queue, statuses, assignment, internal notes, questions to the submitter; every view audited."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import access, audit
from ..errors import ServiceError
from ..extensions import db
from ..models import LEAD_STATUSES, Lead, LeadAttachment, LeadNote, LeadQuestion, User, utcnow
from .notifications.notices import queue_notice
from .notifications.outbox import portal_link


def lead_queue(user: User, *, status: str | None = None, case_id: int | None = None, page: int = 1,
               per_page: int = 50) -> tuple[list[Lead], int]:
    """Leads the staff member may see: new ones first (oldest first), then the rest, newest first."""
    stmt = access.leads_visible_to(user)
    if status in LEAD_STATUSES:
        stmt = stmt.where(Lead.status == status)
    if case_id is not None:
        stmt = stmt.where(Lead.case_id == case_id)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    is_new = sql_case((Lead.status == "new", 0), else_=1)
    new_age = sql_case((Lead.status == "new", Lead.created_at), else_=None)
    leads = db.session.scalars(
        stmt.options(selectinload(Lead.case), selectinload(Lead.assigned_to), selectinload(Lead.attachments))
        .order_by(is_new, new_age.asc(), Lead.created_at.desc(), Lead.id.desc())
        .offset((page - 1) * per_page).limit(per_page)
    ).all()
    return list(leads), total


def view_lead(lead: Lead, *, viewer: User) -> None:
    """Record that a staff member opened the lead; the first staff view moves it from new to reviewing."""
    audit.record("lead.view", lead, actor=viewer, case_id=lead.case_id)
    if lead.status == "new":
        _set_status(lead, "reviewing", by=viewer)


def _set_status(lead: Lead, status: str, *, by: User | None) -> None:
    previous = lead.status
    lead.status = status
    if status != "new" and lead.reviewed_at is None:
        lead.reviewed_at = utcnow()
    audit.record("lead.status", lead, actor=by, status_from=previous, status_to=status)


def set_lead_status(lead: Lead, *, status: str, by: User | None) -> None:
    """Change the staff-side status (the submitter sees a simpler word for it)."""
    if status not in LEAD_STATUSES:
        raise ServiceError(_("Choose a status from the list."), "status")
    if status != lead.status:
        _set_status(lead, status, by=by)


def assign_lead(lead: Lead, *, assignee: User | None, by: User | None) -> None:
    """Give the lead to a staff member who may see its case (or to nobody)."""
    if assignee is not None and (not assignee.is_staff or not assignee.is_active
                                 or not access.can_view_case(assignee, lead.case)):
        raise ServiceError(_("Choose someone who works on this case."), "assignee")
    lead.assigned_to_id = assignee.id if assignee else None
    audit.record("lead.assign", lead, actor=by, assigned_to=lead.assigned_to_id)
    if assignee is not None and lead.status in ("new", "reviewing"):
        _set_status(lead, "assigned", by=by)


def assignable_for(lead: Lead) -> list[User]:
    """Active staff who may see the lead's case."""
    people = db.session.scalars(select(User).where(User.role.in_(("liaison", "supervisor", "admin")),
                                                   User.active.is_(True)).order_by(User.name)).all()
    return [p for p in people if access.can_view_case(p, lead.case)]


def add_lead_note(lead: Lead, *, body: str, author: User | None) -> LeadNote:
    """An internal note on a lead; the submitter never sees it."""
    if not body.strip():
        raise ServiceError(_("Write the note first."), "body")
    note = LeadNote(lead_id=lead.id, author_id=author.id if author else None, body=body.strip())
    db.session.add(note)
    db.session.flush()
    audit.record("lead_note.create", note, actor=author, lead_id=lead.id)
    return note


def ask_question(lead: Lead, *, question: str, asked_by: User | None) -> LeadQuestion:
    """Ask the submitter a question; a family member gets a detail-free text, a tipster sees it with their code."""
    if not question.strip():
        raise ServiceError(_("Write the question first."), "question")
    row = LeadQuestion(lead_id=lead.id, asked_by_id=asked_by.id if asked_by else None, question=question.strip())
    db.session.add(row)
    db.session.flush()
    member = lead.family_member if not lead.is_anonymous else None
    texted = member is not None and queue_notice(
        member, "lead_question", kind="lead_question", link=portal_link("family.lead", lead_id=lead.id)) is not None
    audit.record("lead_question.create", row, actor=asked_by, lead_id=lead.id, texted=texted)
    return row


def acknowledge_answer(question: LeadQuestion, *, by: User | None) -> None:
    """Mark a submitter's answer as read and taken in."""
    if question.answered_at is None:
        raise ServiceError(_("There is no answer to acknowledge yet."))
    if question.acknowledged_at is None:
        question.acknowledged_at = utcnow()
        audit.record("lead_question.acknowledge", question, actor=by, lead_id=question.lead_id)


def record_download(attachment: LeadAttachment, *, actor: User | None) -> None:
    """Audit that a staff member opened a lead's file."""
    audit.record("lead_attachment.download", attachment, actor=actor, lead_id=attachment.lead_id)


def view_original_form(attachment: LeadAttachment, *, viewer: User | None) -> None:
    """Audit that a supervisor or admin opened the page of a file's original (its name and hash, the form)."""
    audit.record("lead_attachment_original.view", attachment, actor=viewer, lead_id=attachment.lead_id)


def record_original_download(attachment: LeadAttachment, *, actor: User | None, reason: str,
                             ok: bool = True) -> None:
    """Audit that a supervisor or admin took a file's untouched original (or tried to, and it did not open).

    The reason may name people, so the audit keeps only that one was given and its length, never its words.
    """
    audit.record("lead_attachment.download_original", attachment, actor=actor, outcome="ok" if ok else "failed",
                 lead_id=attachment.lead_id, reason_given=bool(reason.strip()), reason_length=len(reason.strip()))
