"""Sign in, sign out, accept an invitation, choose a language."""
from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from .. import audit
from ..display import local_datetime
from ..errors import ServiceError
from ..extensions import db
from ..services import accounts, invitations, lockout
from ..web import sessions
from ..web.errors import show_error
from ..web.i18n import speak_members_language
from ..web.security import address_key, note_failure, rate_limit, too_many, too_many_failures
from ..web.urls import safe_next
from . import bp
from .forms import AcceptInviteForm, EmptyForm, LanguageForm, LoginForm


def home_for(user) -> str:
    """Where a signed-in person starts."""
    if user.is_staff:
        return url_for("staff.dashboard")
    return url_for("family.home")


@bp.route("/")
def index():
    """Send each person to their own start page."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("auth.login"))


def _failure_keys(email: str) -> dict[str, str]:
    """The failure-throttle keys of a password typed for this email here: the sign-in page and an invite link
    share them, so one address gets the same few tries across both."""
    return {"sign_in_failures": address_key("sign-in", accounts.normalize_email(email or "")),
            "sign_in_failures_address": address_key("sign-in")}


def _throttled(keys: dict[str, str]) -> bool:
    return any(too_many_failures(name, key) for name, key in keys.items())


def _count_failure(keys: dict[str, str]) -> None:
    for name, key in keys.items():
        note_failure(name, key)


@bp.route("/login", methods=["GET", "POST"])
@rate_limit("sign_in")
def login():
    """Sign in with email and password; one generic message for any failure (wrong, unknown, locked).

    Family members are then signed in; staff go on to the second factor, and reach nothing else until it is done.
    """
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        # Failures are throttled per address (and per address and email) before the account lockout is reached,
        # so a stranger from one address cannot lock anyone out; a throttled attempt is not even tried.
        keys = _failure_keys(form.email.data)
        if _throttled(keys):
            return too_many()
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            _count_failure(keys)
            flash(_("That email and password do not match. Check them and try again."), "error")
            return render_template("auth/login.html", form=form), 200
        if user.is_staff:
            sessions.begin_second_factor(user, form.next.data)
            _tell_of_lockout(user)
            return redirect(sessions.second_step_url(user))  # a passkey first, if they have one
        sessions.complete_sign_in(user, second_factor=False)  # a new session at every sign-in
        return redirect(safe_next(form.next.data, home_for(user)))
    return render_template("auth/login.html", form=form)


def _tell_of_lockout(user) -> None:
    """A calm word, after the right password, when the account was locked since the owner last signed in."""
    notice = lockout.notice_for(user)
    if notice is None:
        return
    flash(ngettext(
        "Since you last signed in, there was %(num)d failed attempt to sign in to your account, and it was locked "
        "for a short time on %(when)s. If this was not you, please tell your administrator.",
        "Since you last signed in, there were %(num)d failed attempts to sign in to your account, and it was locked "
        "for a short time on %(when)s. If this was not you, please tell your administrator.",
        notice.failures, when=local_datetime(notice.locked_at)), "info")
    lockout.record_notice_shown(user, notice)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out here and on every other device."""
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    user = current_user._get_current_object()
    accounts.sign_out_everywhere(user)
    audit.record("auth.logout", user, actor=user)
    sessions.end_session()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


def _invite_unusable():
    """One page and one status for an unknown, used, expired or revoked link: its state cannot be probed."""
    return render_template("auth/invite_problem.html"), 404


@bp.route("/invite/<token>", methods=["GET", "POST"])
@rate_limit("invite")
def accept_invite(token: str):
    """Set a password from an invitation link (or link an existing family account, proven by its password)."""
    try:
        invitation = invitations.check_invitation(token)
    except invitations.InvitationUnusable:
        return _invite_unusable()
    member = invitation.family_member
    speak_members_language(member.language)
    form = AcceptInviteForm()
    if request.method == "GET" and member.email:
        form.email.data = member.email
    if form.validate_on_submit():
        problem = accounts.password_problem(form.password.data)
        if problem:
            form.password.errors.append(problem)
        elif _throttled(keys := _failure_keys(form.email.data)):
            return too_many()
        else:
            try:
                user = invitations.accept_invitation(token, email=form.email.data, password=form.password.data)
            except invitations.InvitationUnusable:
                db.session.rollback()
                return _invite_unusable()
            except invitations.InvitationRefused as exc:
                # No rollback: the failed attempt was counted towards the lockout and audited; the request's one
                # commit keeps it, exactly as a wrong password on the sign-in page is kept.
                _count_failure(keys)
                show_error(form, exc)
            except ServiceError as exc:
                db.session.rollback()
                show_error(form, exc)
            else:
                sessions.complete_sign_in(user, second_factor=False)
                flash(_("Welcome. Your account is ready."), "success")
                return redirect(url_for("family.home"))
    return render_template("auth/accept_invite.html", form=form, member=member, token=token)


@bp.route("/language", methods=["POST"])
def set_language():
    """Switch between English and Spanish; remembered for signed-in people."""
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    session["lang"] = form.language.data
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        user.language = form.language.data
        if user.is_family:  # the family's texts follow the language they read the portal in
            from ..services.preferences import set_language

            set_language(user=user, language=form.language.data)
    return redirect(safe_next(form.next.data, url_for("auth.index")))
