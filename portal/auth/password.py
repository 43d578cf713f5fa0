"""The signed-in person's own account: change the password (ends every other session), staff recovery codes."""
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import audit
from ..services import accounts, lockout, mfa, passkeys
from ..web import sessions
from ..web.security import rate_limit
from . import bp
from .forms import ChangePasswordForm, MfaCodeForm, PasskeyNameForm


@bp.route("/account")
@login_required
def account():
    """Sign-in settings: password, and for staff the authenticator, passkeys and recovery codes."""
    user = current_user._get_current_object()
    if not user.is_staff:
        return render_template("auth/account.html", user=user)
    return render_template("auth/account.html", user=user, recovery_left=mfa.remaining_recovery_codes(user),
                           codes_form=MfaCodeForm(prefix="codes"), passkeys=passkeys.passkeys_of(user),
                           passkeys_required=passkeys.passkeys_required(), form=PasskeyNameForm())


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@rate_limit("password_change")
def change_password():
    """Change the password: the current one first; then every other session (a copied cookie too) is signed out."""
    user = current_user._get_current_object()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not accounts.verify_password(user, form.current.data):
            audit.record("auth.password_change", user, actor=user, outcome="failed", reason="current_password")
            lockout.note_failure(user, reason="password_change")
            form.current.errors.append(_("That is not your current password."))
        elif problem := accounts.password_problem(form.password.data):
            form.password.errors.append(problem)
        else:
            accounts.set_password(user, form.password.data)  # bumps session_version: old cookies die
            audit.record("auth.password_change", user, actor=user)
            # This browser keeps going, in a new session under the new version.
            sessions.complete_sign_in(user, second_factor=user.is_staff, keep_start=True)
            flash(_("Your password is changed. You are signed out everywhere else."), "success")
            return redirect(url_for("auth.account"))
    status = 422 if form.is_submitted() else 200  # bad input: the page again, with the reasons, as 422
    return render_template("auth/change_password.html", form=form), status
