"""The staff side of a case's conversation with the family, and the list of families waiting for a reply."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms import SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, Length

from .. import access, audit
from ..errors import ServiceError
from ..extensions import db
from ..models import Case, CaseMessage
from ..providers.sms.segments import segment_count
from ..services import conversation
from ..web.errors import show_error
from ..web.forms import strip_filter
from . import bp


class StaffMessageForm(FlaskForm):
    """A message to the family: in the portal, and as a text to each member picked."""

    body = TextAreaField(_l("Message to the family"), validators=[DataRequired(_l("Write your message first.")),
                                                                  Length(max=conversation.MAX_MESSAGE)],
                         filters=[strip_filter])
    text_to = SelectMultipleField(_l("Also send as a text to"), coerce=int, validate_choice=False)


@bp.route("/cases/<int:case_id>/conversation", methods=["GET", "POST"])
def conversation_page(case_id: int):
    """Read and answer the family's messages on one case."""
    case = access.get_case_or_404(current_user, case_id)
    form = StaffMessageForm()
    recipients = conversation.text_recipients(case)
    textable = {member.id for member, why_not in recipients if why_not is None}
    if form.validate_on_submit():
        picked = [member_id for member_id in form.text_to.data or [] if member_id in textable]
        try:
            conversation.post_staff_message(case=case, author=current_user._get_current_object(),
                                            body=form.body.data, text_to=picked)
        except ServiceError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            _enc, _units, segments = segment_count(form.body.data)
            flash(ngettext("Sent in the portal and as a text to %(num)d family member.",
                           "Sent in the portal and as a text to %(num)d family members.", len(picked))
                  + " " + ngettext("The text takes %(num)d segment.", "The text takes %(num)d segments.", segments)
                  if picked else _("Sent in the portal. Family members with an account get a text without details."),
                  "success")
            return redirect(url_for("staff.conversation_page", case_id=case.id, _anchor="latest"))
    if request.method == "GET":
        audit.record("case_message.view", case, actor=current_user)
    messages = conversation.messages_for(case)
    waiting = bool(messages) and messages[-1].sender == "family"
    status = 422 if request.method == "POST" else 200
    return render_template("staff/conversation.html", case=case, form=form, messages=messages,
                           waiting=waiting, recipients=recipients, delivery=conversation.delivery_of(messages),
                           picked=set(form.text_to.data or [])), status


@bp.route("/conversations")
def conversations():
    """Cases with portal messages, those waiting for a reply first."""
    last_at = (select(CaseMessage.case_id, func.max(CaseMessage.created_at).label("last_at"))
               .group_by(CaseMessage.case_id).subquery())
    rows = db.session.execute(
        access.cases_visible_to(current_user).add_columns(last_at.c.last_at)
        .join(last_at, last_at.c.case_id == Case.id).options(selectinload(Case.liaison))
        .order_by(last_at.c.last_at.desc())
    ).all()
    waiting = conversation.cases_waiting_for_reply([case.id for case, _last in rows])
    rows.sort(key=lambda row: row[0].id not in waiting)  # stable: newest first within each group
    return render_template("staff/conversations.html", rows=rows, waiting=waiting)
