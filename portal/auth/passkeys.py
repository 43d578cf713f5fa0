"""Staff passkeys: the second sign-in step with one, adding one at sign-in when the agency requires it, and adding,
renaming and removing them from the account page.

static/js/passkeys.js talks to the JSON views here: it asks for options (the challenge is kept in the session and,
as a hash, in the database, and used once), lets the browser's authenticator answer, and posts the answer back
with the CSRF token in the X-CSRFToken header.
"""
from flask import Response, abort, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from webauthn import base64url_to_bytes
from webauthn.helpers import bytes_to_base64url

from ..errors import ServiceError
from ..models import Passkey
from ..services import mfa, passkeys
from ..web import sessions
from ..web.errors import flash_error, show_error
from ..web.security import rate_limit
from ..web.urls import safe_next
from . import bp
from .forms import EmptyForm, PasskeyNameForm
from .mfa import _generic_failure, _pending_or_restart
from .routes import home_for

CHALLENGE_KEY = "webauthn"


def _remember(purpose: str, challenge: bytes) -> None:
    session[CHALLENGE_KEY] = {"purpose": purpose, "challenge": bytes_to_base64url(challenge)}


def _take(purpose: str) -> bytes | None:
    """The challenge of this session's ceremony, forgotten as it is read (the database row makes it single-use)."""
    kept = session.pop(CHALLENGE_KEY, None)
    if not isinstance(kept, dict) or kept.get("purpose") != purpose:
        return None
    try:
        return base64url_to_bytes(str(kept.get("challenge", "")))
    except ValueError:
        return None


def _body() -> dict:
    """The JSON the script posted; an empty dict for anything else (a form post, a broken body)."""
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _problem(message: str, *, status: int = 422, **extra):
    return jsonify(error=message, **extra), status


def _options(json_text: str) -> Response:
    return Response(json_text, mimetype="application/json")


# --- the second sign-in step --------------------------------------------------------------------------------------

def _pending_with_passkey():
    user, restart = _pending_or_restart()
    if restart is None and not mfa.has_passkey(user):
        restart = redirect(sessions.second_step_url(user))
    return user, restart


@bp.route("/mfa/passkey", methods=["GET", "POST"])
@rate_limit("mfa")
def passkey_sign_in():
    """Second step of a staff sign-in with a passkey (GET: the page; POST: the browser's answer, as JSON)."""
    user, restart = _pending_with_passkey()
    if restart:
        return restart
    if request.method == "GET":
        return render_template("auth/passkey_sign_in.html", cancel_form=EmptyForm(),
                               totp_allowed=mfa.is_enrolled(user) and not passkeys.passkeys_required())
    used = passkeys.verify_sign_in(user, credential=_body().get("credential"), challenge=_take("sign_in"))
    if used is None:
        if sessions.pending_user() is None:  # locked now, or the pending step expired
            sessions.end_session()
            _generic_failure()
            return _problem(_("Please sign in again."), status=401, redirect=url_for("auth.login"))
        return _problem(_("That passkey did not work. Try again, or use another way to sign in."))
    target = safe_next(sessions.pending_next(), home_for(user))
    sessions.complete_sign_in(user, second_factor=True)
    return jsonify(redirect=target)


@bp.route("/mfa/passkey/options", methods=["POST"])
@rate_limit("mfa")
def passkey_sign_in_options():
    """A fresh challenge for signing in with one of the staff member's passkeys (JSON for the script)."""
    user, restart = _pending_with_passkey()
    if restart:
        return restart
    options, challenge = passkeys.authentication_options(user)
    _remember("sign_in", challenge)
    return _options(options)


# --- adding a passkey during sign-in, when the agency requires one ------------------------------------------------

def _pending_enrolling():
    user, restart = _pending_or_restart()
    if restart is None and passkeys.second_step(user, passed=sessions.second_factor_passed() is not None) \
            != "passkey_setup":
        restart = redirect(sessions.second_step_url(user))
    return user, restart


@bp.route("/mfa/passkey/setup", methods=["GET", "POST"])
@rate_limit("mfa")
def passkey_setup():
    """The agency requires passkeys and this staff member has none: add one to finish signing in."""
    user, restart = _pending_enrolling()
    if restart:
        return restart
    if request.method == "GET":
        return render_template("auth/passkey_setup.html", form=PasskeyNameForm(), cancel_form=EmptyForm(),
                               has_totp=mfa.is_enrolled(user))
    body = _body()
    try:
        passkey = passkeys.register_passkey(user, credential=body.get("credential"), challenge=_take("register"),
                                            name=body.get("name"))
    except ServiceError as exc:
        return _problem(exc.message, field=exc.field)
    codes = mfa.generate_recovery_codes(user) if mfa.remaining_recovery_codes(user) == 0 else None
    if sessions.second_factor_passed() != "recovery_code":  # a recovery code's sign-in is audited already
        passkeys.sign_in_with_new_passkey(user, passkey)
    target = safe_next(sessions.pending_next(), home_for(user))
    sessions.complete_sign_in(user, second_factor=True)
    if codes:  # shown once, by the page's script: never kept in the session cookie
        return jsonify(codes=codes, redirect=target)
    flash(_("Your passkey is added. Use it the next time you sign in."), "success")
    return jsonify(redirect=target)


@bp.route("/mfa/passkey/setup/options", methods=["POST"])
@rate_limit("mfa")
def passkey_setup_options():
    """A fresh challenge for adding a passkey at sign-in (JSON for the script)."""
    user, restart = _pending_enrolling()
    if restart:
        return restart
    options, challenge = passkeys.registration_options(user)
    _remember("register", challenge)
    return _options(options)


# --- the account page: add, rename, remove ---------------------------------------------------------------------------

def _staff():
    """The signed-in staff member; families have no passkeys (404, as for a page that does not exist)."""
    if not current_user.is_staff:
        abort(404)
    return current_user._get_current_object()


def _own_passkey_or_404(passkey_id: int) -> Passkey:
    passkey = passkeys.own_passkey(_staff(), passkey_id)
    if passkey is None:
        abort(404)
    return passkey


@bp.route("/account/passkeys/options", methods=["POST"])
@login_required
@rate_limit("mfa")
def passkey_register_options():
    """A fresh challenge for adding a passkey from the account page (JSON for the script)."""
    options, challenge = passkeys.registration_options(_staff())
    _remember("register", challenge)
    return _options(options)


@bp.route("/account/passkeys", methods=["POST"])
@login_required
@rate_limit("mfa")
def passkey_register():
    """Keep the passkey the browser just made, under the name the staff member gave it (JSON in and out)."""
    user = _staff()
    body = _body()
    try:
        passkeys.register_passkey(user, credential=body.get("credential"), challenge=_take("register"),
                                  name=body.get("name"))
    except ServiceError as exc:
        return _problem(exc.message, field=exc.field)
    flash(_("Your passkey is added. Use it the next time you sign in."), "success")
    return jsonify(redirect=url_for("auth.account"))


@bp.route("/account/passkeys/<int:passkey_id>", methods=["GET", "POST"])
@login_required
def passkey_rename(passkey_id: int):
    """Rename one of your passkeys."""
    passkey = _own_passkey_or_404(passkey_id)
    form = PasskeyNameForm(obj=passkey)
    if form.validate_on_submit():
        try:
            passkeys.rename_passkey(passkey, name=form.name.data, by=current_user)
        except ServiceError as exc:
            show_error(form, exc)
        else:
            flash(_("The passkey is renamed."), "success")
            return redirect(url_for("auth.account"))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/passkey_rename.html", form=form, passkey=passkey), status


@bp.route("/account/passkeys/<int:passkey_id>/remove", methods=["GET", "POST"])
@login_required
def passkey_remove(passkey_id: int):
    """Remove one of your passkeys, after a confirmation page (not the last one, where it is the last way in)."""
    passkey = _own_passkey_or_404(passkey_id)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            passkeys.remove_passkey(passkey, by=current_user)
        except ServiceError as exc:
            flash_error(exc)
        else:  # every other session ended with it; this browser goes on in a new one
            sessions.complete_sign_in(current_user._get_current_object(), second_factor=True, keep_start=True)
            flash(_("The passkey is removed. It no longer signs you in, and you are signed out everywhere else."),
                  "success")
        return redirect(url_for("auth.account"))
    return render_template("auth/passkey_remove.html", form=form, passkey=passkey,
                           problem=passkeys.remove_problem(passkey))
