"""Every permission decision, in one place. A record a person may not see answers 404, like a missing one."""
from __future__ import annotations

from flask import abort
from sqlalchemy import Select, or_, select

from .extensions import db
from .models import Case, FamilyMember, User


def cases_visible_to(user: User) -> Select:
    """A SELECT of the cases this user may see (empty for anyone else)."""
    stmt = select(Case)
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return stmt.where(False)
    if user.sees_all_cases:
        return stmt
    if user.role == "liaison":
        return stmt.where(or_(Case.liaison_id == user.id, Case.backup_liaison_id == user.id))
    if user.role == "family":
        mine = select(FamilyMember.case_id).where(FamilyMember.user_id == user.id)
        return stmt.where(Case.id.in_(mine))
    return stmt.where(False)


def can_view_case(user: User, case: Case | None) -> bool:
    """Whether the user may see this case at all."""
    if case is None or user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.sees_all_cases:
        return True
    if user.role == "liaison":
        return user.id in (case.liaison_id, case.backup_liaison_id)
    if user.role == "family":
        return family_member_for(user, case) is not None
    return False


def can_manage_case(user: User, case: Case) -> bool:
    """Whether the user may change the case (staff who can see it)."""
    return user.is_staff and can_view_case(user, case)


def family_member_for(user: User, case: Case) -> FamilyMember | None:
    """The user's own family-member record on this case, if any."""
    if user is None or user.role != "family":
        return None
    return db.session.scalar(
        select(FamilyMember).where(FamilyMember.case_id == case.id, FamilyMember.user_id == user.id)
    )


def get_case_or_404(user: User, case_id: int) -> Case:
    """The case, if it exists and the user may see it; otherwise 404."""
    case = db.session.scalar(cases_visible_to(user).where(Case.id == case_id))
    if case is None:
        abort(404)
    return case


def get_family_member_or_404(user: User, member_id: int) -> FamilyMember:
    """A family member on a case the user may see (staff) or the user's own record (family); otherwise 404."""
    member = db.session.get(FamilyMember, member_id)
    if member is None:
        abort(404)
    if user.role == "family":
        if member.user_id != user.id:
            abort(404)
        return member
    if not can_view_case(user, member.case):
        abort(404)
    return member


def require_staff(user: User) -> None:
    """404 for anyone who is not staff, so staff pages do not reveal that they exist."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_staff:
        abort(404)


def require_role(user: User, *roles: str) -> None:
    """404 unless the user has one of the roles."""
    if user is None or not getattr(user, "is_authenticated", False) or user.role not in roles:
        abort(404)


def family_members_linkable_by(user: User) -> Select:
    """A SELECT of the family members a staff member may link an incoming text to: those on cases they see."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active or not user.is_staff:
        return select(FamilyMember).where(False)
    visible = cases_visible_to(user).with_only_columns(Case.id)
    return select(FamilyMember).where(FamilyMember.case_id.in_(visible))
