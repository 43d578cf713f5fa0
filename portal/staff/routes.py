"""The staff side: the case list, a case, family members and invitations."""
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import access, audit
from ..auth.forms import EmptyForm
from ..extensions import db
from ..models import Case, CaseUpdate, Outreach
from ..services import cases as case_service
from ..services import invitations
from . import bp
from .forms import FamilyMemberForm, UpdateForm


@bp.before_request
@login_required
def _staff_only():
    """Staff pages do not exist for anyone else."""
    access.require_staff(current_user)


@bp.route("/")
def dashboard():
    """The cases this staff member may see."""
    # One statement however many cases (selectinload would add one per 500 cases).
    cases = db.session.scalars(
        access.cases_visible_to(current_user)
        .options(joinedload(Case.liaison), joinedload(Case.family_members))
        .order_by(Case.opened_at.desc())
    ).unique().all()
    return render_template("staff/dashboard.html", cases=cases)


def _case_page(case: Case, *, member_form=None, update_form=None, status: int = 200):
    updates = db.session.scalars(
        select(CaseUpdate).where(CaseUpdate.case_id == case.id).options(joinedload(CaseUpdate.author))
        .order_by(CaseUpdate.created_at.desc())
    ).all()
    contacts = db.session.scalars(
        select(Outreach).where(Outreach.case_id == case.id).options(joinedload(Outreach.staff))
        .order_by(Outreach.occurred_at.desc())
    ).all()
    return render_template(
        "staff/case.html", case=case, updates=updates, contacts=contacts,
        member_form=member_form or FamilyMemberForm(prefix="member"),
        update_form=update_form or UpdateForm(prefix="update"), button_form=EmptyForm(),
    ), status


@bp.route("/cases/<int:case_id>")
def case(case_id: int):
    """One case, everything staff need; each view is audited."""
    case = access.get_case_or_404(current_user, case_id)
    audit.record("case.view", case)
    page = _case_page(case)  # rendered before the commit, which would expire every loaded row and reload them
    db.session.commit()
    return page


@bp.route("/cases/<int:case_id>/members", methods=["POST"])
def add_member(case_id: int):
    """Add a family member; a bad field keeps everything typed."""
    case = access.get_case_or_404(current_user, case_id)
    form = FamilyMemberForm(prefix="member")
    if not form.validate_on_submit():
        return _case_page(case, member_form=form, status=422)
    member = case_service.add_family_member(
        case, name=form.name.data, relationship=form.relationship.data or "", phone=form.phone.data or None,
        email=form.email.data or None, language=form.language.data, is_spokesperson=form.is_spokesperson.data,
    )
    db.session.commit()
    flash(_("%(name)s was added. You can now send an invite.", name=member.name), "success")
    return redirect(url_for("staff.case", case_id=case.id, _anchor=f"member-{member.id}"))


@bp.route("/members/<int:member_id>/invite", methods=["POST"])
def invite_member(member_id: int):
    """Create an invite link for a family member and text it to them."""
    member = access.get_family_member_or_404(current_user, member_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        flash(_("The page was open too long. Please try again."), "error")
        return redirect(url_for("staff.case", case_id=member.case_id))
    _invitation, token = invitations.create_invitation(member, created_by=current_user)
    db.session.commit()
    link = invitations.invite_url(token)
    return render_template("staff/invite_sent.html", member=member, link=link, texted=bool(member.phone))


@bp.route("/cases/<int:case_id>/updates", methods=["POST"])
def add_update(case_id: int):
    """Add a family-visible update or an internal note."""
    case = access.get_case_or_404(current_user, case_id)
    form = UpdateForm(prefix="update")
    if not form.validate_on_submit():
        return _case_page(case, update_form=form, status=422)
    family_visible = form.visibility.data == "family"
    case_service.add_update(case, body=form.body.data, family_visible=family_visible, author=current_user,
                            kind="update" if family_visible else "note")
    db.session.commit()
    flash(_("Shown to the family.") if family_visible else _("Internal note saved."), "success")
    return redirect(url_for("staff.case", case_id=case.id))


