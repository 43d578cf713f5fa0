"""Admin actions on sign-in security: unlock an account, reset a staff member's authenticator. Both audited.

The staff accounts page (portal/staff/routes.py) can offer these buttons with
{% include "staff/_security_actions.html" %} (it needs `u`, the user, and `button_form`, an EmptyForm).
"""
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from .. import access
from ..auth.forms import EmptyForm
from ..extensions import db
from ..models import STAFF_ROLES, User, utcnow
from ..services import lockout, mfa, passkeys
from . import bp


def _admin_only() -> None:
    access.require_role(current_user, "admin")


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/security")
def security_accounts():
    """Locked accounts, and every staff member's authenticator state, with the actions an admin can take."""
    _admin_only()
    locked = db.session.scalars(
        select(User).where(or_(User.locked_at.is_not(None), User.locked_until > utcnow())).order_by(User.name)
    ).all()
    staff = db.session.scalars(select(User).where(User.role.in_(STAFF_ROLES)).order_by(User.name)).all()
    return render_template("staff/security_accounts.html", locked=locked, staff=staff, button_form=EmptyForm(),
                           is_enrolled=mfa.is_enrolled, passkey_counts=passkeys.passkey_counts())


@bp.route("/security/users/<int:user_id>/unlock", methods=["POST"])
def unlock_account(user_id: int):
    """Lift a lock after checking with the person that the failed sign-ins were theirs."""
    _admin_only()
    user = _user_or_404(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    lockout.unlock(user, by=current_user._get_current_object())
    flash(_("%(name)s can sign in again.", name=user.name), "success")
    return redirect(url_for("staff.security_accounts"))


@bp.route("/security/users/<int:user_id>/reset-mfa", methods=["POST"])
def reset_mfa(user_id: int):
    """Remove a staff member's authenticator (lost phone): they are signed out and set up a new one next time."""
    _admin_only()
    user = _user_or_404(user_id)
    if not user.is_staff:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    mfa.reset_mfa(user, by=current_user._get_current_object())
    flash(_("The authenticator of %(name)s was reset. They set up a new one at their next sign-in.", name=user.name),
          "success")
    return redirect(url_for("staff.security_accounts"))
