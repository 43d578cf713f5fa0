"""The outreach log: log a contact (filled in from a flag or a case, saved by one outcome button) and correct one."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import access, audit
from ..display import local_to_utc, utc_to_local
from ..errors import ServiceError
from ..extensions import db
from ..models import OUTCOMES, Case, Outreach
from ..services import contact
from ..services.agency import get_agency
from ..services.notifications import consent
from ..web.errors import show_error
from ..web.urls import safe_next
from . import bp
from .forms import MANUAL_OUTCOMES, OutreachForm


def _form(case: Case, form: OutreachForm | None = None) -> OutreachForm:
    form = form or OutreachForm()
    form.member.choices = [(str(m.id), m.name) for m in case.family_members] + [("", _("The whole family"))]
    return form


def _render(case: Case, form: OutreachForm, *, corrects: Outreach | None = None, status: int = 200):
    action = (url_for("staff.correct_contact", outreach_id=corrects.id) if corrects
              else url_for("staff.log_contact", case_id=case.id))
    return render_template("staff/contact_form.html", case=case, form=form, action=action, corrects=corrects,
                           spoken_wording=consent.SPOKEN_WORDING,
                           outcomes=MANUAL_OUTCOMES if corrects is None else OUTCOMES), status


def _save(case: Case, form: OutreachForm, *, corrects: Outreach | None = None):
    """Validate and log; returns a response (a redirect, or the form again with what is wrong)."""
    if not form.validate_on_submit():
        return _render(case, form, corrects=corrects, status=422)
    member = None
    if form.member.data:
        member = next((m for m in case.family_members if str(m.id) == form.member.data), None)
    if form.texts_consent.data and (member is None or not member.phone):
        form.texts_consent.errors = [_("Choose the family member whose number they agreed to texts at.")]
        return _render(case, form, corrects=corrects, status=422)
    try:
        entry = contact.log_outreach(case=case, staff=current_user, channel=form.channel.data,
                                     direction=form.direction.data, outcome=form.outcome.data or "", member=member,
                                     occurred_at=local_to_utc(form.occurred_at.data, get_agency().timezone),
                                     notes=form.notes.data or "", corrects=corrects)
        if form.texts_consent.data:
            consent.record_spoken_consent(member, entry, by=current_user)
    except ServiceError as exc:
        db.session.rollback()
        show_error(form, exc)
        return _render(case, form, corrects=corrects, status=422)
    flash(_("Correction saved. The earlier entry is kept and marked as corrected.") if corrects
          else _("Contact logged."), "success")
    return redirect(safe_next(form.next.data, url_for("staff.case", case_id=case.id, _anchor="contacts-heading")))


@bp.route("/cases/<int:case_id>/contacts/new")
def new_contact(case_id: int):
    """The "log a contact" form, filled in from the flag or case it was opened from."""
    case = access.get_case_or_404(current_user, case_id)
    audit.record("case.view", case, actor=current_user, page="log_contact")
    form = _form(case)
    members = {str(m.id): m for m in case.family_members}
    chosen = request.args.get("member", "")
    if chosen not in members:
        chosen = next((key for key, m in members.items() if m.is_spokesperson), next(iter(members), ""))
    form.member.data = chosen
    channel = request.args.get("channel") or (members[chosen].preferred_channel if chosen else None) or "phone"
    form.channel.data = channel if channel in dict(form.channel.choices) else "phone"
    form.direction.data = "outbound"
    form.flag.data = request.args.get("flag", "")[:40]
    form.next.data = safe_next(request.args.get("next"), "")
    return _render(case, form)


@bp.route("/cases/<int:case_id>/contacts", methods=["POST"])
def log_contact(case_id: int):
    """Save a contact; the matching flag is gone at once (flags are computed from the log)."""
    case = access.get_case_or_404(current_user, case_id)
    return _save(case, _form(case, OutreachForm()))


@bp.route("/contacts/<int:outreach_id>/correct", methods=["GET", "POST"])
def correct_contact(outreach_id: int):
    """Correct a logged contact with a new entry that points at it; the old one is never changed."""
    original = access.get_outreach_or_404(current_user, outreach_id)
    case = original.case
    form = _form(case, OutreachForm())
    if request.method == "POST":
        return _save(case, form, corrects=original)
    audit.record("case.view", case, actor=current_user, page="correct_contact", outreach_id=original.id)
    form.member.data = str(original.family_member_id or "")
    form.channel.data, form.direction.data = original.channel, original.direction
    form.occurred_at.data = utc_to_local(original.occurred_at, get_agency().timezone)
    form.notes.data = original.notes
    form.outcome.data = original.outcome
    return _render(case, form, corrects=original)
