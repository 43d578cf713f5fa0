"""What a family member sees: their case in plain words, the contact history, a meeting request, resources."""
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from .. import access
from ..auth.forms import EmptyForm
from ..extensions import db
from ..models import Case, CaseUpdate, FamilyMember, Outreach, Resource, utcnow
from ..services import appointments
from ..services.agency import remember_viewer_timezone
from ..services.cases import add_update
from ..services.contact import contact_history, next_contact_due
from . import bp

SECTIONS = {"leads": "family.leads", "book": "family.booking", "messages": "family.messages",
            "settings": "family.preferences", "tips": "family.tip_links"}


@bp.before_request
@login_required
def _family_only():
    """Only family members use these pages; anyone else is told they do not exist."""
    access.require_role(current_user, "family")


def my_cases() -> list[Case]:
    """The cases the signed-in family member belongs to, newest first."""
    return list(db.session.scalars(access.cases_visible_to(current_user).order_by(Case.opened_at.desc())))


def case_and_member(case_id: int, *options) -> tuple[Case, FamilyMember]:
    """The case (404 unless it is the user's) and the user's own family-member record on it, in one query."""
    case, member = access.get_own_case_or_404(current_user, case_id, *options)
    remember_viewer_timezone(member.timezone, user=current_user)
    return case, member


@bp.route("/my")
def home():
    """The family member's cases; straight to the case when there is only one."""
    cases = my_cases()
    if len(cases) == 1:
        return redirect(url_for("family.case", case_id=cases[0].id))
    return render_template("family/home.html", cases=cases, section=None)


@bp.route("/my/go/<section>")
def section(section: str):
    """A menu entry: the section of the only case, or a choice of case when there are several."""
    if section not in SECTIONS:
        abort(404)
    cases = my_cases()
    if len(cases) == 1:
        return redirect(url_for(SECTIONS[section], case_id=cases[0].id))
    return render_template("family/home.html", cases=cases, section=SECTIONS[section])


def _my_meeting_request(case: Case):
    """SQL condition: an update that is the user's meeting request about the current stage."""
    return and_(CaseUpdate.kind == "meeting_request", CaseUpdate.author_id == current_user.id,
                CaseUpdate.created_at >= case.stage_changed_at)


def _meeting_request(case: Case):
    """The user's meeting request about the current stage, if they already sent one."""
    return db.session.scalar(select(CaseUpdate).where(CaseUpdate.case_id == case.id, _my_meeting_request(case))
                             .order_by(CaseUpdate.created_at.desc()).limit(1))


@bp.route("/my/cases/<int:case_id>")
def case(case_id: int):
    """The case in plain words: stage, what comes next, updates, liaison, contact history, next contact."""
    case, member = case_and_member(case_id, joinedload(Case.liaison), joinedload(Case.backup_liaison))
    # The family-visible updates and the user's own meeting request (internal), in one query.
    mine = _my_meeting_request(case)
    rows = db.session.execute(
        select(CaseUpdate, mine.label("is_my_request"))
        .where(CaseUpdate.case_id == case.id, or_(CaseUpdate.family_visible.is_(True), mine))
        .options(joinedload(CaseUpdate.about_user)).order_by(CaseUpdate.created_at.desc())
    ).all()
    updates = [u for u, _mine in rows if u.family_visible]
    meeting_request = next((u for u, is_mine in rows if is_mine), None)
    next_due = next_contact_due(member)
    contacts = db.session.scalars(contact_history(case.id).options(joinedload(Outreach.staff))).all()
    return render_template(
        "family/case.html", case=case, member=member, updates=updates, contacts=contacts,
        next_due=next_due, next_due_passed=next_due is not None and next_due <= utcnow(),
        next_slot=appointments.next_open_slot(case.liaison_id),
        upcoming=appointments.upcoming_for(member), meeting_request=meeting_request, button_form=EmptyForm(),
    )


@bp.route("/my/cases/<int:case_id>/meeting-request", methods=["POST"])
def request_meeting(case_id: int):
    """Ask for a meeting about the prosecutor's decision; staff see it as a request on the case."""
    case, member = case_and_member(case_id)
    if not EmptyForm().validate_on_submit():
        flash(_("The page was open too long. Please try again."), "error")
        return redirect(url_for("family.case", case_id=case.id))
    if case.stage != "prosecution_declined":
        abort(404)
    if _meeting_request(case) is None:
        add_update(case, kind="meeting_request", family_visible=False, author=current_user,
                   body=f"{member.name} asked for a meeting about the prosecutor's decision.")
    flash(_("Thank you. We told your liaison. They will contact you to set up the meeting."), "success")
    return redirect(url_for("family.case", case_id=case.id, _anchor="decision"))


@bp.route("/my/resources")
def resources():
    """Support services: grief support, the 988 lifeline, victim compensation, counselling."""
    language = str(get_locale() or "en")
    rows = db.session.scalars(
        select(Resource).where(or_(Resource.language.is_(None), Resource.language == language))
        .order_by(Resource.sort_order, Resource.id)
    ).all()
    return render_template("family/resources.html", resources=rows)
