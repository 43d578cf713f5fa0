"""Sign in, sign out, accept an invitation, choose a language."""
from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import audit
from ..errors import ServiceError
from ..extensions import db
from ..services import accounts, invitations
from ..web import sessions
from ..web.errors import show_error
from ..web.security import rate_limit
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
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            flash(_("That email and password do not match. Check them and try again."), "error")
            return render_template("auth/login.html", form=form), 200
        if user.is_staff:
            sessions.begin_second_factor(user, form.next.data)
            return redirect(sessions.second_step_url(user))  # a passkey first, if they have one
        sessions.complete_sign_in(user, second_factor=False)  # a new session at every sign-in
        return redirect(safe_next(form.next.data, home_for(user)))
    return render_template("auth/login.html", form=form)


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


INVITE_PROBLEMS = {
    "invalid": 404,
    "used": 410,
    "expired": 410,
    "revoked": 410,
}


@bp.route("/invite/<token>", methods=["GET", "POST"])
@rate_limit("invite")
def accept_invite(token: str):
    """Set a password from an invitation link."""
    try:
        invitation = invitations.check_invitation(token)
    except invitations.InvitationUnusable as exc:
        return render_template("auth/invite_problem.html", reason=exc.reason), INVITE_PROBLEMS[exc.reason]
    member = invitation.family_member
    form = AcceptInviteForm()
    if request.method == "GET" and member.email:
        form.email.data = member.email
    if form.validate_on_submit():
        problem = accounts.password_problem(form.password.data)
        if problem:
            form.password.errors.append(problem)
        else:
            try:
                user = invitations.accept_invitation(token, email=form.email.data, password=form.password.data)
            except invitations.InvitationUnusable as exc:
                db.session.rollback()
                return render_template("auth/invite_problem.html", reason=exc.reason), INVITE_PROBLEMS[exc.reason]
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
