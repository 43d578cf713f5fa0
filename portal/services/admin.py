"""Administration: staff accounts, the agency's settings and contact policy, and support resources."""
from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import audit
from ..errors import ServiceError
from ..extensions import db
from ..models import LANGUAGES, STAFF_ROLES, Agency, Resource, User
from . import accounts
from .agency import forget_agency
from .cases import normalize_phone
from .retention import check_periods

# Contact-policy settings and the values an admin may choose for them.
POLICY_LIMITS = {
    "first_contact_hours": (1, 24 * 14),
    "first_contact_warning_hours": (1, 24 * 14),
    "default_cadence_days": (1, 365),
    "stage_change_contact_days": (1, 60),
    "lead_review_hours": (1, 24 * 30),
    "message_reply_business_days": (1, 10),
    "callback_confirm_business_days": (1, 10),
}


def _active_admins() -> int:
    return db.session.scalar(select(func.count()).select_from(User)
                             .where(User.role == "admin", User.active.is_(True))) or 0


def create_staff_account(*, email: str, name: str, role: str, password: str, phone: str | None = None,
                         language: str = "en", by: User | None) -> User:
    """Create a liaison, supervisor or admin account with a first password (they set up MFA at first sign-in)."""
    if role not in STAFF_ROLES:
        raise ServiceError(_("Choose a staff role."), "role")
    if language not in LANGUAGES:
        raise ServiceError(_("Choose a language."), "language")
    e164 = normalize_phone(phone) if phone else None  # a refusal names its field: phone, email or password
    return accounts.create_user(email=email, name=name, role=role, password=password, language=language,
                                phone=e164, actor=by)


def change_role(account: User, *, role: str, by: User) -> None:
    """Make a staff member a liaison, supervisor or admin; the last active admin stays an admin."""
    if role not in STAFF_ROLES or not account.is_staff:
        raise ServiceError(_("Choose a staff role."), "role")
    if role == account.role:
        return
    if account.role == "admin" and account.active and _active_admins() <= 1:
        raise ServiceError(_("This is the last active administrator. Make someone else an admin first."),
                         "role")
    previous = account.role
    account.role = role
    account.session_version = (account.session_version or 0) + 1  # new rights take effect at the next sign-in
    audit.record("user.role_change", account, actor=by, role_from=previous, role_to=role)


def set_active(account: User, *, active: bool, by: User) -> None:
    """Deactivate (signing them out everywhere) or reactivate a staff account."""
    if not account.is_staff:
        raise ServiceError(_("Only staff accounts are managed here."))
    if not active and account.id == by.id:
        raise ServiceError(_("You cannot deactivate your own account. Ask another admin to do it."))
    if not active and account.role == "admin" and account.active and _active_admins() <= 1:
        raise ServiceError(_("This is the last active administrator. The portal needs at least one."))
    if bool(account.active) == active:
        return
    account.active = active
    if not active:
        accounts.sign_out_everywhere(account)
    audit.record("user.activate" if active else "user.deactivate", account, actor=by)


def update_staff_details(account: User, *, name: str, phone: str | None, daily_digest: bool, by: User | None) -> None:
    """Change a staff member's name, mobile number (for texts) and daily summary choice."""
    account.phone = normalize_phone(phone) if phone else None
    account.name = name.strip()
    account.daily_digest = bool(daily_digest)
    audit.record("user.update", account, actor=by, fields=["name", "phone", "daily_digest"])


def update_agency(agency: Agency, *, by: User | None, **values) -> list[str]:
    """Change the agency's name, time zone, contact details, contact-policy values and retention periods (None:
    keep forever); returns changed fields."""
    tz = values.get("timezone", agency.timezone)
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ServiceError(_("Unknown time zone. Use a name like America/Chicago."), "timezone") from None
    for key, (low, high) in POLICY_LIMITS.items():
        if key in values and not low <= int(values[key]) <= high:
            raise ServiceError(_("Choose a number from %(low)d to %(high)d.", low=low, high=high), key)
    if int(values.get("first_contact_warning_hours", agency.first_contact_warning_hours)) > \
            int(values.get("first_contact_hours", agency.first_contact_hours)):
        raise ServiceError(_("The warning must come before the deadline."), "first_contact_warning_hours")
    check_periods(values)
    if values.get("phone"):
        values["phone"] = normalize_phone(values["phone"])
    changed = []
    for key, value in values.items():
        if getattr(agency, key) != value:
            setattr(agency, key, value)
            changed.append(key)
    if changed:
        forget_agency()
        audit.record("agency.update", agency, actor=by, fields=sorted(changed))
    return changed


def save_resource(resource: Resource | None, *, title: str, description: str, phone: str | None, url: str | None,
                  language: str | None, sort_order: int, by: User | None) -> Resource:
    """Create or change a support resource shown to families."""
    if url and not url.startswith(("https://", "http://")):
        raise ServiceError(_("A web address starts with https://"), "url")
    if language and language not in LANGUAGES:
        raise ServiceError(_("Choose a language."), "language")
    created = resource is None
    resource = resource or Resource()
    resource.title, resource.description = title.strip(), description.strip()
    resource.phone, resource.url = (phone or None), (url or None)
    resource.language, resource.sort_order = (language or None), sort_order
    db.session.add(resource)
    db.session.flush()
    audit.record("resource.create" if created else "resource.update", resource, actor=by)
    return resource


def delete_resource(resource: Resource, *, by: User | None) -> None:
    """Remove a support resource."""
    audit.record("resource.delete", resource, actor=by, title=resource.title)
    db.session.delete(resource)
    db.session.flush()
