"""The staff side: who needs contact (home), the case list, a case, family members and invitations."""
from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import access, audit
from ..auth.forms import EmptyForm
from ..errors import ServiceError
from ..extensions import db
from ..models import STAGES, Case, CaseUpdate, Notification, Outreach, User, utcnow
from ..models.types import db_int
from ..services import cases as case_service
from ..services import contact, invitations
from ..services.cases import assignable_staff, update_family_member
from ..services.notifications import carrier_alarm as carrier_alarm_service
from ..services.notifications import consent
from ..services.notifications.carrier_alarm import carrier_alarm
from ..services.notifications.outbox import why_no_text
from ..web.errors import show_error
from . import bp
from .forms import (
    CloseCaseForm,
    EditFamilyMemberForm,
    FamilyMemberForm,
    LegalHoldForm,
    ReassignForm,
    StageChangeForm,
    UpdateForm,
)

PAGE_SIZE = 50
# The home page reads and shows one bounded page, for a liaison and for a supervisor's whole agency: 25 flags
# (most urgent first, then the next page), the first 10 "do not contact" families and the 25 newest open cases.
FLAGS_PER_PAGE = 25
LISTED_SHOWN = 10
HOME_CASES = 25


@bp.before_request
@login_required
def _staff_only():
    """Staff pages do not exist for anyone else."""
    access.require_staff(current_user)


def _int_arg(name: str) -> int | None:
    return db_int(request.args.get(name))  # None for "abc", "²" or a number too big for the database


@bp.route("/")
def dashboard():
    """Who needs contact: the flags on the caseload, most urgent first, a page at a time; then the caseload.

    A supervisor sees the whole agency (or one liaison's caseload); either way only one page is read and shown.
    """
    chosen = _int_arg("liaison") if current_user.sees_all_cases else None
    who = chosen if current_user.sees_all_cases else current_user
    page = max(_int_arg("page") or 1, 1)
    found = contact.flags_page(liaison=who, page=page, per_page=FLAGS_PER_PAGE, listed_limit=LISTED_SHOWN)
    pages = max((found.total + FLAGS_PER_PAGE - 1) // FLAGS_PER_PAGE, 1)
    if page > pages:
        return redirect(url_for("staff.dashboard", liaison=chosen, page=pages))
    cases = db.session.scalars(
        access.cases_visible_to(current_user).where(Case.closed_at.is_(None))
        .options(joinedload(Case.liaison)).order_by(Case.opened_at.desc()).limit(HOME_CASES)
    ).all()
    handovers = db.session.execute(
        select(CaseUpdate, Case).join(Case, Case.id == CaseUpdate.case_id)
        .where(Case.liaison_id == current_user.id, CaseUpdate.kind == "handover",
               CaseUpdate.family_visible.is_(False), CaseUpdate.created_at >= utcnow() - timedelta(days=14))
        .options(joinedload(CaseUpdate.author)).order_by(CaseUpdate.created_at.desc())
    ).all()
    liaisons = assignable_staff() if current_user.sees_all_cases else []
    alarm = carrier_alarm() if current_user.sees_all_cases else None  # supervisors and admins see the agency's
    return render_template("staff/dashboard.html", flags=found.flags, total=found.total, page=page, pages=pages,
                           listed=found.listed, listed_total=found.listed_total, cases=cases, handovers=handovers,
                           liaisons=liaisons, chosen=chosen, counts={"act_now": found.act_now, "soon": found.soon},
                           carrier_alarm=alarm, alarm_form=EmptyForm())


@bp.route("/carrier-alarm/acknowledge", methods=["POST"])
def acknowledge_carrier_alarm():
    """A supervisor or admin saw "carriers are blocking our texts": quiet until more are blocked."""
    access.require_supervisor(current_user)
    if EmptyForm().validate_on_submit():
        carrier_alarm_service.acknowledge_carrier_alarm(by=current_user)
        flash(_("Alarm acknowledged. It comes back if more texts are blocked."), "success")
    else:
        flash(_("The page was open too long. Please try again."), "error")
    return redirect(url_for("staff.dashboard"))


@bp.route("/cases")
def case_list():
    """Every case the staff member may see, a page at a time, newest first."""
    page = max(_int_arg("page") or 1, 1)
    show = request.args.get("show", "open")
    stmt = access.cases_visible_to(current_user)
    if show == "open":
        stmt = stmt.where(Case.closed_at.is_(None))
    elif show == "closed":
        stmt = stmt.where(Case.closed_at.is_not(None))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    cases = db.session.scalars(
        stmt.options(joinedload(Case.liaison), selectinload(Case.family_members))
        .order_by(Case.opened_at.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return render_template("staff/case_list.html", cases=cases, page=page, show=show,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), total=total)


def _reassign_form(case: Case, form=None):
    form = form or ReassignForm(prefix="handover")
    people = assignable_staff()
    form.liaison.choices = [(u.id, u.name) for u in people]
    form.backup.choices = [(0, _("No backup"))] + [(u.id, u.name) for u in people]
    if not form.is_submitted():
        form.liaison.data = case.liaison_id
        form.backup.data = case.backup_liaison_id or 0
    return form


def _stage_form(case: Case, form=None):
    form = form or StageChangeForm(prefix="stage")
    form.stage.choices = [(s.key, str(s.label)) for s in STAGES if s.key not in (case.stage, "closed")]
    return form


# What the case page shows of the case itself, loaded with it in one statement.
CASE_PAGE_LOADS = (joinedload(Case.liaison), joinedload(Case.backup_liaison), joinedload(Case.family_members))


def case_page(case: Case, *, status: int = 200, **forms):
    """Render the case page with any forms that carry errors (a fixed handful of statements, see query budgets)."""
    updates = db.session.scalars(
        select(CaseUpdate).where(CaseUpdate.case_id == case.id)
        .options(joinedload(CaseUpdate.author), joinedload(CaseUpdate.about_user))
        .order_by(CaseUpdate.created_at.desc())
    ).all()
    contacts = db.session.scalars(
        select(Outreach).where(Outreach.case_id == case.id)
        .options(joinedload(Outreach.staff), joinedload(Outreach.family_member))
        .order_by(Outreach.occurred_at.desc(), Outreach.id.desc())
    ).all()
    corrected_by = {c.corrects_id: c for c in contacts if c.corrects_id}
    texts = db.session.scalars(
        select(Notification).where(Notification.case_id == case.id)
        .options(joinedload(Notification.family_member)).order_by(Notification.id.desc()).limit(20)
    ).all()
    flags, next_due = contact.case_contact_overview(case)
    members = list(case.family_members)
    member_ids = [m.id for m in members]
    return render_template(
        "staff/case.html", case=case, updates=updates, contacts=contacts, corrected_by=corrected_by,
        texts=texts, members=members, next_due=next_due, flags=flags,
        consent_history=consent.histories(member_ids), held=consent.held_counts(member_ids),
        member_form=forms.get("member_form") or FamilyMemberForm(prefix="member"),
        update_form=forms.get("update_form") or UpdateForm(prefix="update"),
        stage_form=_stage_form(case, forms.get("stage_form")),
        close_form=forms.get("close_form") or CloseCaseForm(prefix="close"),
        reassign_form=_reassign_form(case, forms.get("reassign_form")),
        hold_form=forms.get("hold_form") or LegalHoldForm(prefix="hold"),
        button_form=EmptyForm(),
    ), status


@bp.route("/cases/<int:case_id>")
def case(case_id: int):
    """One case, everything staff need; each view is audited."""
    case = access.get_case_or_404(current_user, case_id, *CASE_PAGE_LOADS)
    audit.record("case.view", case, actor=current_user)
    return case_page(case)  # rendered before the request's commit, which would expire every loaded row


@bp.route("/cases/<int:case_id>/members", methods=["POST"])
def add_member(case_id: int):
    """Add a family member; a bad field keeps everything typed."""
    case = access.get_case_or_404(current_user, case_id)
    form = FamilyMemberForm(prefix="member")
    if not form.validate_on_submit():
        return case_page(case, member_form=form, status=422)
    member = case_service.add_family_member(
        case, name=form.name.data, relationship=form.relationship.data or "", phone=form.phone.data or None,
        email=form.email.data or None, language=form.language.data, is_spokesperson=form.is_spokesperson.data,
        by=current_user,
    )
    if form.texts_consent.data and member.phone:
        consent.record_consent(member, method="written_form", wording=str(consent.WRITTEN_WORDING), by=current_user)
    flash(_("%(name)s was added. You can now send an invite.", name=member.name), "success")
    return redirect(url_for("staff.case", case_id=case.id, _anchor=f"member-{member.id}"))


@bp.route("/members/<int:member_id>/edit", methods=["GET", "POST"])
def edit_member(member_id: int):
    """Correct a family member's details: a new number clears "number may be wrong"."""
    member = access.get_family_member_or_404(current_user, member_id)
    form = EditFamilyMemberForm(prefix="edit", obj=None)
    if request.method == "GET":
        audit.record("family_member.view", member, actor=current_user, case_id=member.case_id)
        form.name.data, form.relationship.data = member.name, member.relationship_to_decedent
        form.phone.data, form.email.data, form.language.data = member.phone, member.email, member.language
        form.is_spokesperson.data, form.cadence.data = member.is_spokesperson, member.cadence
        form.preferred_channel.data = member.preferred_channel or ""
        form.email_consent.data = member.email_consent_at is not None and member.email_opted_out_at is None
    elif form.validate_on_submit():
        try:
            update_family_member(member, name=form.name.data, relationship=form.relationship.data or "",
                                 phone=form.phone.data or None, email=form.email.data or None,
                                 language=form.language.data, cadence=form.cadence.data,
                                 is_spokesperson=form.is_spokesperson.data,
                                 preferred_channel=form.preferred_channel.data or None,
                                 email_consent=form.email_consent.data, by=current_user)
        except ServiceError as exc:
            show_error(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("staff.case", case_id=member.case_id, _anchor=f"member-{member.id}"))
    status = 422 if request.method == "POST" else 200
    return render_template("staff/member_edit.html", member=member, form=form), status


@bp.route("/members/<int:member_id>/invite", methods=["POST"])
def invite_member(member_id: int):
    """Create an invite link for a family member and text it to them."""
    member = access.get_family_member_or_404(current_user, member_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        flash(_("The page was open too long. Please try again."), "error")
        return redirect(url_for("staff.case", case_id=member.case_id))
    why_not = why_no_text(member)  # the same check that decides whether the invite is texted
    _invitation, token = invitations.create_invitation(member, created_by=current_user)
    link = invitations.invite_url(token)
    return render_template("staff/invite_sent.html", member=member, link=link, why_not=why_not)


@bp.route("/cases/<int:case_id>/updates", methods=["POST"])
def add_update(case_id: int):
    """Add a family-visible update or an internal note."""
    case = access.get_case_or_404(current_user, case_id)
    form = UpdateForm(prefix="update")
    if not form.validate_on_submit():
        return case_page(case, update_form=form, status=422)
    family_visible = form.visibility.data == "family"
    if family_visible:
        case_service.share_update(case, body=form.body.data, author=current_user)
    else:
        case_service.add_update(case, body=form.body.data, family_visible=False, author=current_user, kind="note")
    flash(_("Shown to the family, and texted to those who get texts.") if family_visible
          else _("Internal note saved."), "success")
    return redirect(url_for("staff.case", case_id=case.id))


def staff_user_or_404(user_id: int | None) -> User | None:
    """An active staff member chosen in a form (0 or None means nobody)."""
    if not user_id:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.is_staff or not user.is_active:
        abort(404)
    return user
