"""A family member's settings: language, texts and consent, quiet hours, how often to be contacted."""

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user

from ..errors import ServiceError
from ..extensions import db
from ..services import preferences as prefs_service
from ..services.notifications import policy
from ..web.errors import show_error
from . import bp
from .forms import PreferencesForm
from .routes import case_and_member


def _fill(form: PreferencesForm, member) -> None:
    form.language.data = member.language
    form.texts_enabled.data = member.texts_enabled  # a STOP is shown beside it; only START lifts it
    form.detailed_texts.data = member.detailed_texts
    form.quiet_start.data = member.quiet_start or policy.DAY_END  # the quiet the texting rules keep anyway
    form.quiet_end.data = member.quiet_end or policy.DAY_START
    form.cadence.data = member.cadence
    form.preferred_channel.data = member.preferred_channel or ""
    form.preferred_times.data = member.preferred_times or ""
    form.is_spokesperson.data = member.is_spokesperson


@bp.route("/my/cases/<int:case_id>/settings", methods=["GET", "POST"])
def preferences(case_id: int):
    """Show and save the settings; the consent words shown are stored when texts are turned on."""
    case, member = case_and_member(case_id)
    form = PreferencesForm()
    if request.method == "GET":
        _fill(form, member)
    elif form.validate_on_submit():
        wanted = prefs_service.Preferences(
            language=form.language.data, texts_enabled=form.texts_enabled.data,
            detailed_texts=form.detailed_texts.data, quiet_start=form.quiet_start.data,
            quiet_end=form.quiet_end.data, cadence=form.cadence.data,
            preferred_channel=form.preferred_channel.data or None, preferred_times=form.preferred_times.data or "",
            is_spokesperson=form.is_spokesperson.data)
        try:
            changed = prefs_service.update_preferences(
                member=member, user=current_user._get_current_object(), prefs=wanted,
                consent_wording=str(prefs_service.TEXTS_CONSENT_WORDING))
        except ServiceError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            if "language" in changed:
                session["lang"] = wanted.language
                refresh()  # the message below is written in the new language
            flash(_("Your settings are saved."), "success")
            return redirect(url_for("family.preferences", case_id=case.id))
    status = 422 if request.method == "POST" else 200
    return render_template("family/preferences.html", case=case, member=member, form=form,
                           consent_wording=prefs_service.TEXTS_CONSENT_WORDING,
                           detailed_wording=prefs_service.DETAILED_TEXTS_WORDING), status
