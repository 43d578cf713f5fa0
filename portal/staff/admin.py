"""Admin pages: staff accounts (create, deactivate, role), agency settings and contact policy, resources."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .. import access
from ..auth.forms import EmptyForm
from ..errors import ServiceError
from ..extensions import db
from ..models import STAFF_ROLES, Resource, User
from ..services import admin as admin_service
from ..services import passkeys as passkey_service
from ..services.admin import POLICY_LIMITS
from ..services.agency import get_agency
from ..services.notifications.carrier_alarm import carrier_alarm
from ..services.retention import RETENTION_SETTINGS
from ..web.errors import flash_error, show_error
from . import bp
from .forms_admin import AgencyForm, ResourceForm, RoleForm, StaffAccountForm, StaffDetailsForm


@bp.route("/admin")
def admin_home():
    """What an admin can manage."""
    access.require_admin(current_user)
    return render_template("staff/admin_home.html", carrier_alarm=carrier_alarm(), alarm_form=EmptyForm())


@bp.route("/admin/users", methods=["GET", "POST"])
def admin_users():
    """Staff accounts and a form to create one."""
    access.require_admin(current_user)
    form = StaffAccountForm(prefix="new")
    if form.validate_on_submit():
        try:
            account = admin_service.create_staff_account(
                email=form.email.data, name=form.name.data, role=form.role.data, password=form.password.data,
                phone=form.phone.data or None, language=form.language.data, by=current_user)
        except ServiceError as exc:
            show_error(form, exc)
        else:
            flash(_("%(name)s can now sign in.", name=account.name), "success")
            return redirect(url_for("staff.admin_users"))
    staff = db.session.scalars(select(User).where(User.role.in_(STAFF_ROLES))
                               .order_by(User.active.desc(), User.name)).all()
    status = 422 if form.is_submitted() else 200
    return render_template("staff/admin_users.html", staff=staff, form=form), status


def _account_page(account: User, *, role_form=None, details_form=None, status: int = 200):
    role_form = role_form or RoleForm(prefix="role", role=account.role)
    details_form = details_form or StaffDetailsForm(prefix="details", name=account.name, phone=account.phone,
                                                    daily_digest=account.daily_digest)
    return render_template("staff/admin_user.html", account=account, role_form=role_form,
                           details_form=details_form), status


@bp.route("/admin/users/<int:user_id>")
def admin_user(user_id: int):
    """One staff account."""
    return _account_page(access.get_staff_account_or_404(current_user, user_id))


@bp.route("/admin/users/<int:user_id>/role", methods=["POST"])
def admin_user_role(user_id: int):
    """Change a staff member's role."""
    account = access.get_staff_account_or_404(current_user, user_id)
    form = RoleForm(prefix="role")
    if form.validate_on_submit():
        try:
            admin_service.change_role(account, role=form.role.data, by=current_user)
        except ServiceError as exc:
            show_error(form, exc)
        else:
            flash(_("Role saved."), "success")
            return redirect(url_for("staff.admin_user", user_id=account.id))
    return _account_page(account, role_form=form, status=422)


@bp.route("/admin/users/<int:user_id>/details", methods=["POST"])
def admin_user_details(user_id: int):
    """Change a staff member's name, phone and daily summary."""
    account = access.get_staff_account_or_404(current_user, user_id)
    form = StaffDetailsForm(prefix="details")
    if form.validate_on_submit():
        try:
            admin_service.update_staff_details(account, name=form.name.data, phone=form.phone.data or None,
                                               daily_digest=form.daily_digest.data, by=current_user)
        except ServiceError as exc:
            show_error(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("staff.admin_user", user_id=account.id))
    return _account_page(account, details_form=form, status=422)


@bp.route("/admin/users/<int:user_id>/active", methods=["POST"])
def admin_user_active(user_id: int):
    """Deactivate or reactivate a staff account."""
    account = access.get_staff_account_or_404(current_user, user_id)
    active = request.form.get("active") == "1"
    try:
        admin_service.set_active(account, active=active, by=current_user)
    except ServiceError as exc:
        flash_error(exc)
    else:
        flash(_("Account reactivated.") if active else _("Account deactivated. They are signed out everywhere."),
              "success")
    return redirect(url_for("staff.admin_user", user_id=account.id))


@bp.route("/admin/agency", methods=["GET", "POST"])
def admin_agency():
    """The agency's name, time zone, contact details, contact policy and retention periods."""
    access.require_admin(current_user)
    agency = get_agency()
    form = AgencyForm(obj=agency)
    if form.validate_on_submit():
        values = {name: getattr(form, name).data
                  for name in ("name", "timezone", "email", "address", *POLICY_LIMITS, *RETENTION_SETTINGS)}
        values["phone"] = form.phone.data or None
        values["email"], values["address"] = values["email"] or None, values["address"] or None
        try:
            admin_service.update_agency(agency, by=current_user, **values)
            passkey_service.set_required(required=bool(form.require_passkeys.data), by=current_user)
        except ServiceError as exc:
            show_error(form, exc)
        else:
            flash(_("Settings saved. Flags follow the new values at once."), "success")
            return redirect(url_for("staff.admin_agency"))
    status = 422 if form.is_submitted() else 200
    return render_template("staff/admin_agency.html", form=form,
                           without_passkey=passkey_service.staff_without_passkey()), status


@bp.route("/admin/resources", methods=["GET", "POST"])
def admin_resources():
    """Support resources shown to families, and a form to add one."""
    access.require_admin(current_user)
    form = ResourceForm(prefix="new")
    if form.validate_on_submit():
        if _save_resource(None, form):
            return redirect(url_for("staff.admin_resources"))
    resources = db.session.scalars(select(Resource).order_by(Resource.sort_order, Resource.id)).all()
    status = 422 if form.is_submitted() else 200
    return render_template("staff/admin_resources.html", resources=resources, form=form), status


def _save_resource(resource, form) -> bool:
    try:
        admin_service.save_resource(resource, title=form.title.data, description=form.description.data or "",
                                    phone=form.phone.data or None, url=form.url.data or None,
                                    language=form.language.data or None, sort_order=form.sort_order.data or 0,
                                    by=current_user)
    except ServiceError as exc:
        show_error(form, exc)
        return False
    flash(_("Resource saved."), "success")
    return True


@bp.route("/admin/resources/<int:resource_id>", methods=["GET", "POST"])
def admin_resource(resource_id: int):
    """Change a support resource."""
    resource = access.get_resource_or_404(current_user, resource_id)
    form = ResourceForm(prefix="edit", obj=resource)
    if request.method == "GET":
        form.language.data = resource.language or ""
    elif form.validate_on_submit() and _save_resource(resource, form):
        return redirect(url_for("staff.admin_resources"))
    status = 422 if request.method == "POST" else 200
    return render_template("staff/admin_resource.html", resource=resource, form=form), status


@bp.route("/admin/resources/<int:resource_id>/delete", methods=["POST"])
def admin_resource_delete(resource_id: int):
    """Remove a support resource."""
    resource = access.get_resource_or_404(current_user, resource_id)
    admin_service.delete_resource(resource, by=current_user)
    flash(_("Resource removed."), "success")
    return redirect(url_for("staff.admin_resources"))
