"""The family's secure conversation with its liaison team."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..errors import ServiceError
from ..extensions import db
from ..services import conversation
from ..web.errors import show_error
from . import bp
from .forms import MessageForm
from .routes import case_and_member


@bp.route("/my/cases/<int:case_id>/messages", methods=["GET", "POST"])
def messages(case_id: int):
    """Read the conversation and write to the liaison team."""
    case, member = case_and_member(case_id)
    form = MessageForm()
    if form.validate_on_submit():
        try:
            conversation.post_family_message(case=case, member=member, body=form.body.data, actor=current_user)
        except ServiceError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("Your message was sent. Your liaison team will answer here."), "success")
            return redirect(url_for("family.messages", case_id=case.id, _anchor="latest"))
    status = 422 if request.method == "POST" else 200
    return render_template("family/messages.html", case=case, member=member, form=form,
                           messages=conversation.messages_for(case)), status
