"""Leads on the family side: the guided form with files, the receipt, "my leads", answers, files, tip links."""
import logging
import secrets

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from .. import access, uploads
from ..auth.forms import EmptyForm
from ..errors import ServiceError
from ..extensions import db
from ..models import Lead, LeadQuestion, TipLink
from ..services import leads as lead_service
from ..services.notifications.outbox import portal_link
from ..web.boundary import undo_if_not_saved
from ..web.errors import show_error
from ..web.security import rate_limit
from . import bp
from .forms import AnswerForm, LeadForm
from .routes import case_and_member

log = logging.getLogger(__name__)


def _signed_in_user_key() -> str:
    return f"family-user:{current_user.get_id()}"


@bp.route("/my/cases/<int:case_id>/leads")
def leads(case_id: int):
    """The leads this person sent about the case, with a simple status."""
    case, _member = case_and_member(case_id)
    rows = db.session.scalars(
        access.leads_submitted_by(current_user).where(Lead.case_id == case.id).order_by(Lead.created_at.desc())
    ).all()
    open_questions = dict(db.session.execute(
        select(LeadQuestion.lead_id, func.count()).where(LeadQuestion.lead_id.in_([r.id for r in rows]),
                                                         LeadQuestion.answered_at.is_(None))
        .group_by(LeadQuestion.lead_id)).all()) if rows else {}
    return render_template("family/leads.html", case=case, leads=rows, open_questions=open_questions)


def _lead_form_page(case, form, status=200, upload_error=False):
    return render_template("family/lead_form.html", case=case, form=form, accept=uploads.ACCEPT,
                           max_files=uploads.MAX_FILES, upload_error=upload_error), status


@bp.route("/my/cases/<int:case_id>/leads/new", methods=["GET", "POST"])
@rate_limit("lead_submission", key_func=_signed_in_user_key)
def new_lead(case_id: int):
    """The guided lead form; however often it is sent, it makes one lead."""
    case, member = case_and_member(case_id)
    form = LeadForm()
    if request.method == "GET":
        form.submission_key.data = secrets.token_urlsafe(24)
        return _lead_form_page(case, form)
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            flash(_("The page was open too long. Your words are still here: please send again."), "error")
        return _lead_form_page(case, form, 422)
    raw_key = form.submission_key.data or secrets.token_urlsafe(24)
    form.submission_key.data = raw_key
    key = lead_service.submission_key(f"family:{current_user.id}", raw_key)
    existing = lead_service.find_submission(key)
    if existing is not None:  # the same form sent twice: show the first receipt
        return redirect(url_for("family.lead_receipt", lead_id=existing.id))
    files = uploads.chosen_files(request.files.getlist(form.files.name))
    content = form.content()
    if content.is_empty() and not files:
        form.details.errors.append(_("Write what you know, or add a file, then send."))
        return _lead_form_page(case, form, 422)
    try:
        stored = uploads.store_files(files)
    except ServiceError as exc:
        show_error(form, exc)
        return _lead_form_page(case, form, 422, upload_error=True)
    try:
        lead, created = lead_service.submit_lead(case=case, content=content, files=stored, key=key, member=member,
                                                 user=current_user)
    except BaseException:
        uploads.discard(stored)
        raise
    if not created:
        uploads.discard(stored)
    else:
        undo_if_not_saved(lambda: uploads.discard(stored))  # the request's commit failed: no lead owns them
    return redirect(url_for("family.lead_receipt", lead_id=lead.id))


@bp.route("/my/leads/<int:lead_id>/thanks")
def lead_receipt(lead_id: int):
    """The receipt: the lead's reference, and what happens next."""
    lead = access.get_lead_or_404(current_user, lead_id)
    return render_template("family/lead_receipt.html", lead=lead)


@bp.route("/my/leads/<int:lead_id>")
def lead(lead_id: int):
    """One lead as its sender sees it: what they sent, its simple status, questions from staff."""
    lead = access.get_lead_or_404(current_user, lead_id)
    questions = lead_service.questions_for(lead)
    forms = {q.id: AnswerForm(prefix=f"q{q.id}") for q in questions}
    return render_template("family/lead.html", lead=lead, questions=questions, forms=forms)


@bp.route("/my/questions/<int:question_id>/answer", methods=["POST"])
def answer_question(question_id: int):
    """Answer a question from staff about a lead."""
    question = access.get_lead_question_or_404(current_user, question_id)
    lead = db.session.get(Lead, question.lead_id)
    form = AnswerForm(prefix=f"q{question.id}")
    if not form.validate_on_submit():
        questions = lead_service.questions_for(lead)
        forms = {q.id: (form if q.id == question.id else AnswerForm(prefix=f"q{q.id}")) for q in questions}
        return render_template("family/lead.html", lead=lead, questions=questions, forms=forms), 422
    lead_service.answer_question(question=question, answer=form.answer.data, actor=current_user)
    flash(_("Thank you. Your answer was sent."), "success")
    return redirect(url_for("family.lead", lead_id=lead.id, _anchor=f"question-{question.id}"))


@bp.route("/my/leads/<int:lead_id>/files/<int:attachment_id>")
def lead_file(lead_id: int, attachment_id: int):
    """Download a file the person sent with their lead."""
    attachment = access.get_attachment_or_404(current_user, lead_id, attachment_id)
    return uploads.send_attachment(attachment)


@bp.route("/my/cases/<int:case_id>/tip-links", methods=["GET", "POST"])
def tip_links(case_id: int):
    """Links friends can use to leave a tip without giving their name; create one or stop one."""
    case, member = case_and_member(case_id)
    form = EmptyForm()
    new_link = None
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("The page was open too long. Please try again."), "error")
            return redirect(url_for("family.tip_links", case_id=case.id))
        _link, token = lead_service.create_tip_link(case=case, member=member, actor=current_user)
        new_link = portal_link("tips.leave_tip", token=token)
    links = db.session.scalars(select(TipLink).where(TipLink.case_id == case.id)
                               .order_by(TipLink.revoked_at.is_not(None), TipLink.created_at.desc())).all()
    return render_template("family/tip_links.html", case=case, member=member, links=links, new_link=new_link,
                           form=form)


@bp.route("/my/tip-links/<int:tip_link_id>/revoke", methods=["POST"])
def revoke_tip_link(tip_link_id: int):
    """Stop a tip link from working."""
    link = access.get_tip_link_or_404(current_user, tip_link_id)
    if not EmptyForm().validate_on_submit():
        flash(_("The page was open too long. Please try again."), "error")
        return redirect(url_for("family.tip_links", case_id=link.case_id))
    lead_service.revoke_tip_link(link=link, actor=current_user)
    flash(_("The link no longer works. Tips already sent are kept."), "success")
    return redirect(url_for("family.tip_links", case_id=link.case_id))
