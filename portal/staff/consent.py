"""Consent to texts, recorded by staff: the member signed the agency's written form (a yes on a call is ticked on
the contact log instead, so that it is linked to that call)."""
from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from .. import access
from ..errors import ServiceError
from ..extensions import db
from ..services.notifications import consent
from . import bp
from .forms import ConsentForm


@bp.route("/members/<int:member_id>/consent", methods=["POST"])
def record_consent(member_id: int):
    """Put the member's written yes to texts on record; texts held for it go out."""
    member = access.get_family_member_or_404(current_user, member_id)
    back = redirect(url_for("staff.case", case_id=member.case_id, _anchor=f"member-{member.id}"))
    form = ConsentForm()
    if not form.validate_on_submit():
        flash(_("The page was open too long. Please try again."), "error")
        return back
    try:
        released = consent.record_consent(member, method="written_form", wording=str(consent.WRITTEN_WORDING),
                                          by=current_user._get_current_object())
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return back
    if released:
        flash(ngettext("Consent to texts is on record. The waiting text is on its way.",
                       "Consent to texts is on record. %(num)d waiting texts are on their way.", released),
              "success")
    else:
        flash(_("Consent to texts is on record."), "success")
    return back
