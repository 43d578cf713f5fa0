"""The unmatched-texts inbox: texts from numbers no family member has, which staff link to a family member."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload
from wtforms import SelectField
from wtforms.validators import InputRequired, NumberRange

from .. import access
from ..errors import ServiceError
from ..extensions import db
from ..models import Case, FamilyMember
from ..services.notifications.inbound import link_inbound_sms, numbers_on_several_cases, unmatched_texts
from ..services.notifications.mms import held_media
from ..uploads import send_attachment
from ..web.errors import flash_error
from . import bp


class LinkTextForm(FlaskForm):
    """Choose the family member who sent a text."""

    member_id = SelectField(_l("Who sent this text?"), coerce=int,
                            validators=[InputRequired(_l("Choose the family member who sent this text.")),
                                        NumberRange(min=1, message=_l("Choose the family member who sent this text."))])


def _member_choices() -> list[tuple[int, str]]:
    members = db.session.scalars(
        access.family_members_linkable_by(current_user)
        .join(Case, Case.id == FamilyMember.case_id)
        .options(selectinload(FamilyMember.case))
        .order_by(Case.case_number, FamilyMember.name)
    ).all()
    return [(0, _("Choose a family member"))] + [(m.id, f"{m.name} · {m.case.case_number}") for m in members]


def _inbox_page(forms: dict[int, LinkTextForm] | None = None, status: int = 200):
    texts = unmatched_texts()
    shared = numbers_on_several_cases({text.from_number for text in texts})
    choices = _member_choices()
    forms = forms or {}
    for text in texts:
        form = forms.get(text.id) or LinkTextForm(prefix=f"text{text.id}")
        form.member_id.choices = choices
        forms[text.id] = form
    return render_template("staff/sms_inbox.html", texts=texts, forms=forms, has_choices=len(choices) > 1,
                           shared=shared, media=held_media([t.id for t in texts])), status


@bp.route("/texts/unmatched")
def sms_inbox():
    """Texts from unknown numbers, newest first."""
    return _inbox_page()


@bp.route("/texts/unmatched/<int:inbound_id>/link", methods=["POST"])
def link_sms(inbound_id: int):
    """Link one unmatched text to a family member on a case this staff member may see."""
    inbound = access.get_inbound_sms_or_404(current_user, inbound_id)
    form = LinkTextForm(prefix=f"text{inbound.id}")
    form.member_id.choices = _member_choices()
    if not form.validate_on_submit():
        return _inbox_page({inbound.id: form}, status=422)
    member = access.get_family_member_or_404(current_user, form.member_id.data)
    try:
        link_inbound_sms(inbound, member, staff=current_user)
    except ServiceError as exc:
        flash_error(exc)
        return redirect(url_for("staff.sms_inbox"))
    flash(_("The text is now in %(name)s's conversation.", name=member.name), "success")
    return redirect(url_for("staff.sms_inbox"))


@bp.route("/texts/pictures/<int:media_id>")
def sms_picture(media_id: int):
    """A picture held with a received text (cleaned, as a download that an <img> can show); staff only."""
    return send_attachment(access.get_text_picture_or_404(current_user, media_id))
