"""The staff second factor: enrol an authenticator (QR drawn on the server), enter a code, or use a recovery code."""
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..services import mfa, passkeys
from ..web import sessions
from ..web.security import rate_limit
from ..web.urls import safe_next
from . import bp
from .forms import EmptyForm, MfaCodeForm, RecoveryCodeForm
from .routes import home_for


def _generic_failure() -> None:
    """The same words as a wrong password: a lock or an expired step reveals nothing more."""
    flash(_("That email and password do not match. Check them and try again."), "error")


def _pending_or_restart():
    """The half-signed-in staff member, or a redirect: home when already signed in, else back to the password."""
    if current_user.is_authenticated:
        return None, redirect(home_for(current_user))
    user = sessions.pending_user()
    if user is None:
        sessions.end_session()
        _generic_failure()
        return None, redirect(url_for("auth.login"))
    return user, None


def _status(form) -> int:
    """422 when a sent form had errors, 200 for a first view."""
    return 422 if form.is_submitted() else 200


def _finish(user, *, codes: list[str] | None = None):
    """The second factor is done: start the real session (a new one) and go where the person was going."""
    target = safe_next(sessions.pending_next(), home_for(user))
    sessions.complete_sign_in(user, second_factor=True)
    if codes:
        return render_template("auth/recovery_codes.html", codes=codes, continue_to=target)
    return redirect(target)


def _failed(form, field_message: str, template: str, **context):
    """A wrong code: saved (audit, lockout count); a lock ends the attempt with the generic sign-in message."""
    user = sessions.pending_user()
    if user is None:  # locked now, or the pending step expired
        sessions.end_session()
        _generic_failure()
        return redirect(url_for("auth.login"))
    form.code.errors.append(field_message)
    return render_template(template, form=form, **context), 422


@bp.route("/mfa", methods=["GET", "POST"])
@rate_limit("mfa")
def mfa_verify():
    """Second step of a staff sign-in: the code from the authenticator app."""
    user, restart = _pending_or_restart()
    if restart:
        return restart
    required = passkeys.passkeys_required()
    # With passkeys required, a code alone finishes nothing: it only lets someone without a passkey enrol one.
    if not mfa.is_enrolled(user) or (required and (mfa.has_passkey(user) or sessions.second_factor_passed())):
        return redirect(sessions.second_step_url(user))
    form = MfaCodeForm()
    context = {"cancel_form": EmptyForm(), "has_passkey": mfa.has_passkey(user), "then_passkey": required}
    if form.validate_on_submit():
        if required:
            if mfa.verify_second_factor(user, form.code.data, purpose="passkey_enrolment"):
                sessions.mark_second_factor_passed("totp")
                return redirect(url_for("auth.passkey_setup"))
        elif mfa.verify_second_factor(user, form.code.data):
            return _finish(user)
        return _failed(form, _("That code is not right. Wait for a new code and try again."), "auth/mfa_verify.html",
                       **context)
    return render_template("auth/mfa_verify.html", form=form, **context), _status(form)


@bp.route("/mfa/setup", methods=["GET", "POST"])
@rate_limit("mfa")
def mfa_setup():
    """First staff sign-in (or after an admin reset): scan the QR code, confirm with a first code."""
    user, restart = _pending_or_restart()
    if restart:
        return restart
    if passkeys.second_step(user) != "totp_setup":
        return redirect(sessions.second_step_url(user))
    secret = mfa.ensure_secret(user)
    context = {"qr": mfa.qr_data_uri(mfa.provisioning_uri(user)), "secret": mfa.grouped_secret(secret),
               "cancel_form": EmptyForm()}
    form = MfaCodeForm()
    if form.validate_on_submit():
        codes = mfa.complete_enrolment(user, form.code.data)
        if codes:
            return _finish(user, codes=codes)
        return _failed(form, _("That code is not right. Check the app shows this portal, then try the new code."),
                       "auth/mfa_setup.html", **context)
    return render_template("auth/mfa_setup.html", form=form, **context), _status(form)


@bp.route("/mfa/recovery", methods=["GET", "POST"])
@rate_limit("mfa")
def mfa_recovery():
    """Second step with a recovery code, when the phone is not at hand."""
    user, restart = _pending_or_restart()
    if restart:
        return restart
    form = RecoveryCodeForm()
    if form.validate_on_submit():
        if mfa.use_recovery_code(user, form.code.data):
            left = mfa.remaining_recovery_codes(user)
            flash(_("You used a recovery code. You have %(n)d left; make new ones on your account page.", n=left),
                  "info")
            if passkeys.passkeys_required() and not mfa.has_passkey(user):
                sessions.mark_second_factor_passed("recovery_code")  # the agency requires a passkey: add one now
                return redirect(url_for("auth.passkey_setup"))
            return _finish(user)
        return _failed(form, _("That recovery code is not right, or it was already used."), "auth/mfa_recovery.html",
                       cancel_form=EmptyForm(), has_passkey=mfa.has_passkey(user), has_totp=mfa.is_enrolled(user))
    return render_template("auth/mfa_recovery.html", form=form, cancel_form=EmptyForm(),
                           has_passkey=mfa.has_passkey(user), has_totp=mfa.is_enrolled(user)), _status(form)


@bp.route("/mfa/cancel", methods=["POST"])
def mfa_cancel():
    """Leave the second step: the half-finished sign-in is forgotten."""
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    if current_user.is_authenticated:  # nothing pending: Sign out is the way to end a signed-in session
        return redirect(home_for(current_user))
    sessions.end_session()
    return redirect(url_for("auth.login"))


@bp.route("/account/recovery-codes", methods=["POST"])
@login_required
@rate_limit("mfa")
def regenerate_recovery_codes():
    """Staff: new recovery codes (the old ones stop working), after a fresh authenticator code."""
    if not current_user.is_staff:
        abort(404)
    form = MfaCodeForm(prefix="codes")
    user = current_user._get_current_object()
    if form.validate_on_submit() and mfa.verify_second_factor(user, form.code.data, purpose="recovery_codes"):
        codes = mfa.generate_recovery_codes(user)
        return render_template("auth/recovery_codes.html", codes=codes, continue_to=url_for("auth.account"))
    flash(_("That code is not right. Wait for a new code and try again."), "error")
    return redirect(url_for("auth.account"))
