"""Lead triage routes: the queue, one lead, notes, questions, assignment, and files behind an access check."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import access, uploads
from ..errors import ServiceError
from ..extensions import db
from ..models import LEAD_STATUSES, LeadNote, LeadQuestion, utcnow
from ..services import triage
from ..web.errors import flash_error, show_error
from . import bp
from .forms_work import LeadAssignForm, LeadNoteForm, LeadQuestionForm, LeadStatusForm, OriginalDownloadForm
from .routes import _int_arg, staff_user_or_404


@bp.route("/leads")
def lead_queue():
    """The lead queue: new first with their age, then the rest."""
    page = max(_int_arg("page") or 1, 1)
    status = request.args.get("status") or None
    case_id = _int_arg("case")
    leads, total = triage.lead_queue(current_user, status=status, case_id=case_id, page=page)
    return render_template("staff/leads.html", leads=leads, total=total, status=status, case_id=case_id,
                           page=page, pages=max((total + 49) // 50, 1), now=utcnow(), statuses=LEAD_STATUSES)


def _lead_page(lead, *, status: int = 200, **forms):
    notes = db.session.scalars(select(LeadNote).where(LeadNote.lead_id == lead.id)
                               .options(selectinload(LeadNote.author)).order_by(LeadNote.created_at)).all()
    questions = db.session.scalars(select(LeadQuestion).where(LeadQuestion.lead_id == lead.id)
                                   .order_by(LeadQuestion.asked_at)).all()
    status_form = forms.get("status_form") or LeadStatusForm(prefix="status", status=lead.status)
    assign_form = forms.get("assign_form") or LeadAssignForm(prefix="assign", assignee=lead.assigned_to_id or 0)
    assign_form.assignee.choices = [(0, _("Nobody"))] + [(u.id, u.name) for u in triage.assignable_for(lead)]
    return render_template(
        "staff/lead.html", lead=lead, notes=notes, questions=questions, now=utcnow(),
        can_download_originals=access.can_download_originals(current_user),
        status_form=status_form, assign_form=assign_form,
        note_form=forms.get("note_form") or LeadNoteForm(prefix="note"),
        question_form=forms.get("question_form") or LeadQuestionForm(prefix="question"),
    ), status


@bp.route("/leads/<int:lead_id>")
def lead(lead_id: int):
    """One lead, everything the submitter wrote (escaped); every view is audited."""
    lead = access.get_lead_or_404(current_user, lead_id)
    triage.view_lead(lead, viewer=current_user)
    return _lead_page(lead)


@bp.route("/leads/<int:lead_id>/status", methods=["POST"])
def lead_status(lead_id: int):
    """Change a lead's status."""
    lead = access.get_lead_or_404(current_user, lead_id)
    form = LeadStatusForm(prefix="status")
    if not form.validate_on_submit():
        return _lead_page(lead, status_form=form, status=422)
    triage.set_lead_status(lead, status=form.status.data, by=current_user)
    flash(_("Status saved."), "success")
    return redirect(url_for("staff.lead", lead_id=lead.id))


@bp.route("/leads/<int:lead_id>/assign", methods=["POST"])
def lead_assign(lead_id: int):
    """Assign a lead to a staff member who works on its case."""
    lead = access.get_lead_or_404(current_user, lead_id)
    form = LeadAssignForm(prefix="assign")
    form.assignee.choices = [(0, "")] + [(u.id, u.name) for u in triage.assignable_for(lead)]
    if not form.validate_on_submit():
        return _lead_page(lead, assign_form=form, status=422)
    try:
        triage.assign_lead(lead, assignee=staff_user_or_404(form.assignee.data), by=current_user)
    except ServiceError as exc:
        show_error(form, exc)
        return _lead_page(lead, assign_form=form, status=422)
    flash(_("Assigned."), "success")
    return redirect(url_for("staff.lead", lead_id=lead.id))


@bp.route("/leads/<int:lead_id>/notes", methods=["POST"])
def lead_note(lead_id: int):
    """Add an internal note to a lead."""
    lead = access.get_lead_or_404(current_user, lead_id)
    form = LeadNoteForm(prefix="note")
    if not form.validate_on_submit():
        return _lead_page(lead, note_form=form, status=422)
    triage.add_lead_note(lead, body=form.body.data, author=current_user)
    flash(_("Internal note saved."), "success")
    return redirect(url_for("staff.lead", lead_id=lead.id, _anchor="notes-heading"))


@bp.route("/leads/<int:lead_id>/questions", methods=["POST"])
def lead_question(lead_id: int):
    """Ask the person who sent the lead a question."""
    lead = access.get_lead_or_404(current_user, lead_id)
    form = LeadQuestionForm(prefix="question")
    if not form.validate_on_submit():
        return _lead_page(lead, question_form=form, status=422)
    triage.ask_question(lead, question=form.question.data, asked_by=current_user)
    flash(_("Question sent. The answer will show here."), "success")
    return redirect(url_for("staff.lead", lead_id=lead.id, _anchor="questions-heading"))


@bp.route("/lead-questions/<int:question_id>/acknowledge", methods=["POST"])
def acknowledge_answer(question_id: int):
    """Mark an answer as read."""
    question = access.get_lead_question_or_404(current_user, question_id)
    # CSRFProtect has already checked the token of this POST.
    try:
        triage.acknowledge_answer(question, by=current_user)
    except ServiceError as exc:
        flash_error(exc)
        return redirect(url_for("staff.lead", lead_id=question.lead_id))
    flash(_("Answer acknowledged."), "success")
    return redirect(url_for("staff.lead", lead_id=question.lead_id, _anchor="questions-heading"))


@bp.route("/attachments/<int:attachment_id>")
def lead_attachment(attachment_id: int):
    """A lead's file, for staff who may see the case: always a download, never rendered; audited."""
    attachment = access.get_lead_attachment_or_404(current_user, attachment_id)
    response = uploads.send_attachment(attachment)  # a missing file answers 404 before anything is audited
    triage.record_download(attachment, actor=current_user)
    return response


@bp.route("/attachments/<int:attachment_id>/original", methods=["GET", "POST"])
def lead_attachment_original(attachment_id: int):
    """A file's untouched original, for supervisors and admins, with a reason: a download, audited."""
    attachment = access.get_original_or_404(current_user, attachment_id)
    form = OriginalDownloadForm()
    if request.method == "GET":
        triage.view_original_form(attachment, viewer=current_user)
    if not form.validate_on_submit():
        return render_template("staff/lead_original.html", attachment=attachment, lead=attachment.lead,
                               form=form), 422 if request.method == "POST" else 200
    try:
        data = uploads.open_original(attachment)
    except ServiceError as exc:
        triage.record_original_download(attachment, actor=current_user, reason=form.reason.data, ok=False)
        flash_error(exc)
        return redirect(url_for("staff.lead", lead_id=attachment.lead_id))
    triage.record_original_download(attachment, actor=current_user, reason=form.reason.data)
    return uploads.send_original(attachment, data)
