"""Case management routes: open a case, change its stage (with a preview), hand it over, close it, hold it."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from .. import access, audit
from ..auth.forms import EmptyForm
from ..errors import ServiceError
from ..extensions import db
from ..models import Case
from ..services import cases as cm
from ..services import retention
from ..web.errors import flash_error, show_error
from . import bp
from .forms import CloseCaseForm, LegalHoldForm, OpenCaseForm, ReassignForm, StageChangeForm
from .routes import _reassign_form, _stage_form, case_page, staff_user_or_404


def _open_form(form=None):
    form = form or OpenCaseForm()
    people = cm.assignable_staff()
    form.liaison.choices = [(u.id, u.name) for u in people]
    form.backup.choices = [(0, _("No backup"))] + [(u.id, u.name) for u in people]
    if not form.is_submitted() and current_user.role in cm.ASSIGNABLE_ROLES:
        form.liaison.data = current_user.id
    return form


@bp.route("/cases/new", methods=["GET", "POST"], endpoint="open_case")
def new_case():
    """Open a case: number, person who died, date of death, liaison and backup."""
    form = _open_form()
    if form.validate_on_submit():
        try:
            case = cm.open_case(case_number=form.case_number.data, decedent_name=form.decedent_name.data,
                                date_of_death=form.date_of_death.data,
                                liaison=staff_user_or_404(form.liaison.data),
                                backup_liaison=staff_user_or_404(form.backup.data), opened_by=current_user)
        except ServiceError as exc:
            show_error(form, exc)
        else:
            flash(_("Case %(number)s is open. Add the family next.", number=case.case_number), "success")
            if access.can_view_case(current_user, case):
                return redirect(url_for("staff.case", case_id=case.id, _anchor="family-heading"))
            return redirect(url_for("staff.dashboard"))
    status = 422 if form.is_submitted() else 200
    return render_template("staff/case_new.html", form=form), status


def _preview(case, *, action: str, form, stage_to: str):
    audit.record("case.view", case, actor=current_user, page=f"{action}_preview")
    try:
        preview = cm.preview_stage_change(case, stage_to=stage_to, message=form.message.data or "")
    except ServiceError as exc:
        show_error(form, exc)
        return case_page(case, status=422, **{f"{action}_form": form})
    return render_template("staff/stage_preview.html", case=case, preview=preview, form=form, action=action)


@bp.route("/cases/<int:case_id>/stage/preview", methods=["POST"])
def preview_stage(case_id: int):
    """Show what the family will see and the exact texts, before anything is saved."""
    case = access.get_case_or_404(current_user, case_id)
    form = _stage_form(case, StageChangeForm(prefix="stage"))
    if case.is_closed or not form.validate_on_submit():
        return case_page(case, stage_form=form, status=422)
    return _preview(case, action="stage", form=form, stage_to=form.stage.data)


@bp.route("/cases/<int:case_id>/stage", methods=["POST"])
def change_stage(case_id: int):
    """Save the stage change, the family's update and the texts (after the preview)."""
    case = access.get_case_or_404(current_user, case_id)
    form = _stage_form(case, StageChangeForm(prefix="stage"))
    if not form.validate_on_submit():
        return case_page(case, stage_form=form, status=422)
    if request.form.get("confirm") != "send":
        return _preview(case, action="stage", form=form, stage_to=form.stage.data)
    try:
        cm.change_stage(case, stage_to=form.stage.data, message=form.message.data, author=current_user)
    except ServiceError as exc:
        show_error(form, exc)
        return case_page(case, stage_form=form, status=422)
    flash(_("The stage is changed. The family sees the update, and texts are on their way."), "success")
    return redirect(url_for("staff.case", case_id=case.id, _anchor="outbox-heading"))


@bp.route("/cases/<int:case_id>/close/preview", methods=["POST"])
def preview_close(case_id: int):
    """Show the family's last update and texts before closing."""
    case = access.get_case_or_404(current_user, case_id)
    form = CloseCaseForm(prefix="close")
    if case.is_closed or not form.validate_on_submit():
        return case_page(case, close_form=form, status=422)
    return _preview(case, action="close", form=form, stage_to="closed")


@bp.route("/cases/<int:case_id>/close", methods=["POST"])
def close_case(case_id: int):
    """Close the case with an exit message (after the preview)."""
    case = access.get_case_or_404(current_user, case_id)
    form = CloseCaseForm(prefix="close")
    if not form.validate_on_submit():
        return case_page(case, close_form=form, status=422)
    if request.form.get("confirm") != "send":
        return _preview(case, action="close", form=form, stage_to="closed")
    try:
        cm.close_case(case, exit_message=form.message.data, author=current_user)
    except ServiceError as exc:
        show_error(form, exc)
        return case_page(case, close_form=form, status=422)
    flash(_("The case is closed. The family can still read everything."), "success")
    return redirect(url_for("staff.case", case_id=case.id))


@bp.route("/cases/<int:case_id>/reassign", methods=["POST"])
def reassign(case_id: int):
    """Hand the case over with a note; the new liaison and the family are told."""
    case = access.get_case_or_404(current_user, case_id)
    form = _reassign_form(case, ReassignForm(prefix="handover"))
    if not form.validate_on_submit():
        return case_page(case, reassign_form=form, status=422)
    try:
        cm.reassign_case(case, liaison=staff_user_or_404(form.liaison.data),
                         backup_liaison=staff_user_or_404(form.backup.data), handover_note=form.handover_note.data,
                         family_message=form.family_message.data or "", author=current_user)
    except ServiceError as exc:
        show_error(form, exc)
        return case_page(case, reassign_form=form, status=422)
    flash(_("The case is handed over. The new liaison and the family are told."), "success")
    if access.can_view_case(current_user, case):
        return redirect(url_for("staff.case", case_id=case.id))
    return redirect(url_for("staff.dashboard"))


@bp.route("/holds")
def legal_holds():
    """Every case on legal hold (supervisors and admins), oldest hold first, each with a button to lift it."""
    access.require_supervisor(current_user)
    held = db.session.scalars(access.cases_visible_to(current_user).where(Case.held_at.is_not(None))
                              .options(joinedload(Case.held_by)).order_by(Case.held_at, Case.id)).all()
    return render_template("staff/legal_holds.html", cases=held, button_form=EmptyForm())


@bp.route("/cases/<int:case_id>/hold", methods=["POST"])
def set_legal_hold(case_id: int):
    """Put the case on legal hold (supervisors and admins): nothing of it is purged until the hold is lifted."""
    case = access.get_case_or_404(current_user, case_id)
    access.require_supervisor(current_user)
    form = LegalHoldForm(prefix="hold")
    if not form.validate_on_submit():
        return case_page(case, hold_form=form, status=422)
    try:
        retention.set_legal_hold(case, reason=form.reason.data, by=current_user)
    except ServiceError as exc:
        show_error(form, exc)
        return case_page(case, hold_form=form, status=422)
    flash(_("The case is on legal hold. Nothing of it will be purged until the hold is lifted."), "success")
    return redirect(url_for("staff.case", case_id=case.id, _anchor="hold-heading"))


@bp.route("/cases/<int:case_id>/hold/lift", methods=["POST"])
def lift_legal_hold(case_id: int):
    """Lift the case's legal hold (supervisors and admins): retention applies to it again."""
    case = access.get_case_or_404(current_user, case_id)
    access.require_supervisor(current_user)
    try:
        retention.lift_legal_hold(case, by=current_user)
    except ServiceError as exc:
        flash_error(exc)
    else:
        flash(_("The legal hold is lifted. The agency's retention periods apply to this case again."), "success")
    return redirect(url_for("staff.case", case_id=case.id, _anchor="hold-heading"))
