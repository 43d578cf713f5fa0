"""What a family member sees: their case(s)."""
from flask import redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import access
from ..extensions import db
from ..models import Case, CaseUpdate, Outreach
from . import bp


@bp.before_request
@login_required
def _family_only():
    """Only family members use these pages; anyone else is told they do not exist."""
    access.require_role(current_user, "family")


@bp.route("/my")
def home():
    """The family member's cases; straight to the case when there is only one."""
    cases = db.session.scalars(access.cases_visible_to(current_user).order_by(Case.opened_at.desc())).all()
    if len(cases) == 1:
        return redirect(url_for("family.case", case_id=cases[0].id))
    return render_template("family/home.html", cases=cases)


@bp.route("/my/cases/<int:case_id>")
def case(case_id: int):
    """The case in plain words: stage, what comes next, updates, liaison, contact history."""
    case = access.get_case_or_404(current_user, case_id)
    member = access.family_member_for(current_user, case)
    updates = db.session.scalars(
        select(CaseUpdate).where(CaseUpdate.case_id == case.id, CaseUpdate.family_visible.is_(True))
        .order_by(CaseUpdate.created_at.desc())
    ).all()
    contacts = db.session.scalars(
        select(Outreach).where(Outreach.case_id == case.id).options(joinedload(Outreach.staff))
        .order_by(Outreach.occurred_at.desc())
    ).all()
    return render_template("family/case.html", case=case, member=member, updates=updates, contacts=contacts)
