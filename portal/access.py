"""Every permission decision, in one place. A record a person may not see answers 404, like a missing one."""
from __future__ import annotations

from flask import abort
from sqlalchemy import Select, or_, select

from .extensions import db
from .models import (
    Appointment,
    AvailabilityException,
    AvailabilityWindow,
    Case,
    FamilyMember,
    Lead,
    LeadAttachment,
    LeadQuestion,
    Outreach,
    Resource,
    User,
)


def _signed_in(user: User) -> bool:
    """Signed in and active. Each is checked here, not left to Flask-Login's UserMixin (whose is_authenticated
    answers is_active): anything that does not say it is authenticated, None and the anonymous user are refused."""
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def _signed_in_staff(user: User) -> bool:
    return _signed_in(user) and user.is_staff


def cases_visible_to(user: User) -> Select:
    """A SELECT of the cases this user may see (empty for anyone else)."""
    stmt = select(Case)
    if not _signed_in(user):
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
    if case is None or not _signed_in(user):
        return False
    if user.sees_all_cases:
        return True
    if user.role == "liaison":
        return user.id in (case.liaison_id, case.backup_liaison_id)
    if user.role == "family":
        return family_member_for(user, case) is not None
    return False


def family_member_for(user: User, case: Case) -> FamilyMember | None:
    """The user's own family-member record on this case, if any."""
    if not _signed_in(user) or user.role != "family":
        return None
    return db.session.scalar(
        select(FamilyMember).where(FamilyMember.case_id == case.id, FamilyMember.user_id == user.id)
    )


def get_case_or_404(user: User, case_id: int, *options) -> Case:
    """The case, if it exists and the user may see it; otherwise 404. Loader options load more in the same query."""
    case = db.session.scalars(cases_visible_to(user).where(Case.id == case_id).options(*options)).unique().first()
    if case is None:
        abort(404)
    return case


def get_own_case_or_404(user: User, case_id: int, *options) -> tuple[Case, FamilyMember]:
    """A family user's case and their own family-member record on it, in one query; otherwise 404.

    The same decision as get_case_or_404 followed by family_member_for. Loader options apply to the case.
    """
    if not _signed_in(user) or user.role != "family":
        abort(404)
    row = db.session.execute(
        select(Case, FamilyMember).join(FamilyMember, FamilyMember.case_id == Case.id)
        .where(Case.id == case_id, FamilyMember.user_id == user.id).options(*options).limit(1)
    ).first()
    if row is None:
        abort(404)
    return row[0], row[1]


def get_family_member_or_404(user: User, member_id: int) -> FamilyMember:
    """A family member on a case the user may see (staff) or the user's own record (family); otherwise 404."""
    member = db.session.get(FamilyMember, member_id)
    if member is None or not _signed_in(user):
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
    if not _signed_in_staff(user):
        abort(404)


def require_role(user: User, *roles: str) -> None:
    """404 unless the user has one of the roles."""
    if not _signed_in(user) or user.role not in roles:
        abort(404)


# --- Staff side: leads, contacts, appointments, availability, reports, audit, admin ---------------------------

def require_supervisor(user: User) -> None:
    """404 unless the user is a supervisor or an admin (reports, the audit log)."""
    require_role(user, "supervisor", "admin")


def require_admin(user: User) -> None:
    """404 unless the user is an admin (staff accounts, agency settings, resources)."""
    require_role(user, "admin")


def _visible_case_ids(user: User) -> Select:
    return cases_visible_to(user).with_only_columns(Case.id)


def leads_visible_to(user: User) -> Select:
    """A SELECT of the leads on cases this staff member may see (nothing for families: they use their own)."""
    if not _signed_in_staff(user):
        return select(Lead).where(False)
    return select(Lead).where(Lead.case_id.in_(_visible_case_ids(user)))


# --- Family side: leads, files, questions, tip links, appointments (a family sees only its own things) ---

def leads_submitted_by(user: User) -> Select:
    """A SELECT of the leads a family user submitted themselves, on cases they can still see."""
    from .models import Lead

    if not _signed_in(user) or user.role != "family":
        return select(Lead).where(False)
    mine = select(FamilyMember.case_id).where(FamilyMember.user_id == user.id)
    return select(Lead).where(Lead.submitted_by_id == user.id, Lead.is_anonymous.is_(False),
                              Lead.case_id.in_(mine))


def can_view_lead(user: User, lead) -> bool:
    """Family: only a lead they submitted on their own case. Staff: any lead on a case they can see."""
    if lead is None or not _signed_in(user):
        return False
    if user.role == "family":
        return (lead.submitted_by_id == user.id and not lead.is_anonymous
                and family_member_for(user, lead.case) is not None)
    return user.is_staff and can_view_case(user, lead.case)


def get_lead_or_404(user: User, lead_id: int):
    """The lead, if the user may see it; otherwise 404."""
    from .models import Lead

    lead = db.session.get(Lead, lead_id)
    if not can_view_lead(user, lead):
        abort(404)
    return lead


def get_lead_attachment_or_404(user: User, attachment_id: int):
    """A file of a lead the user may see (family: a lead they sent; staff: a case they see); otherwise 404."""
    attachment = db.session.get(LeadAttachment, attachment_id)
    if attachment is None or not can_view_lead(user, attachment.lead):
        abort(404)
    return attachment


def can_download_originals(user: User) -> bool:
    """Whether the user may download a file's untouched original (supervisors and admins; staff get the cleaned
    copy, families and tipsters only what they sent)."""
    return _signed_in(user) and user.role in ("supervisor", "admin")


def get_original_or_404(user: User, attachment_id: int):
    """A lead file whose sealed original the user may download: a supervisor or admin, on a case they see, and the
    original kept; otherwise 404."""
    if not can_download_originals(user):
        abort(404)
    attachment = get_lead_attachment_or_404(user, attachment_id)
    if not attachment.original_stored_name:
        abort(404)
    return attachment


def get_attachment_or_404(user: User, lead_id: int, attachment_id: int):
    """As get_lead_attachment_or_404, and the file must belong to that very lead (the URL names both)."""
    attachment = get_lead_attachment_or_404(user, attachment_id)
    if attachment.lead_id != lead_id:
        abort(404)
    return attachment


def get_lead_question_or_404(user: User, question_id: int):
    """A staff question on a lead the user may see; otherwise 404."""
    from .models import Lead

    question = db.session.get(LeadQuestion, question_id)
    if question is None or not can_view_lead(user, db.session.get(Lead, question.lead_id)):
        abort(404)
    return question


def get_tip_link_or_404(user: User, tip_link_id: int):
    """A tip link on a case the user can see; otherwise 404."""
    from .models import TipLink

    link = db.session.get(TipLink, tip_link_id)
    if link is None or not can_view_case(user, link.case):
        abort(404)
    return link


def get_appointment_or_404(user: User, appointment_id: int):
    """Family: only their own appointments. Staff: appointments on cases they can see. Otherwise 404."""
    from .models import Appointment

    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or not _signed_in(user):
        abort(404)
    if user.role == "family":
        member = appointment.family_member
        if member is None or member.user_id != user.id or not can_view_case(user, appointment.case):
            abort(404)
        return appointment
    # Staff: on a case they can see, or booked with them (e.g. before a reassignment).
    if not user.is_staff or not (can_view_case(user, appointment.case) or appointment.liaison_id == user.id):
        abort(404)
    return appointment


def get_outreach_or_404(user: User, outreach_id: int):
    """A logged contact on a case the staff member may see; otherwise 404."""
    entry = db.session.get(Outreach, outreach_id)
    if entry is None or not _signed_in_staff(user) or not can_view_case(user, entry.case):
        abort(404)
    return entry


def appointments_visible_to(user: User) -> Select:
    """A SELECT of appointments on the staff member's cases or with them."""
    if not _signed_in_staff(user):
        return select(Appointment).where(False)
    if user.sees_all_cases:
        return select(Appointment)
    return select(Appointment).where(or_(Appointment.case_id.in_(_visible_case_ids(user)),
                                         Appointment.liaison_id == user.id))


def can_manage_availability_of(user: User, liaison_id: int) -> bool:
    """Staff publish their own availability; supervisors and admins may edit anyone's."""
    return bool(_signed_in_staff(user) and (user.id == liaison_id or user.sees_all_cases))


def get_availability_window_or_404(user: User, window_id: int):
    """A weekly window the user may edit; otherwise 404."""
    window = db.session.get(AvailabilityWindow, window_id)
    if window is None or not can_manage_availability_of(user, window.liaison_id):
        abort(404)
    return window


def get_availability_exception_or_404(user: User, exception_id: int):
    """An availability exception the user may edit; otherwise 404."""
    exception = db.session.get(AvailabilityException, exception_id)
    if exception is None or not can_manage_availability_of(user, exception.liaison_id):
        abort(404)
    return exception


def get_staff_account_or_404(user: User, user_id: int) -> User:
    """A staff account, for admins only; families' accounts and everyone else answer 404."""
    require_admin(user)
    account = db.session.get(User, user_id)
    if account is None or not account.is_staff:
        abort(404)
    return account


def get_resource_or_404(user: User, resource_id: int):
    """A support resource, for admins only; otherwise 404."""
    require_admin(user)
    resource = db.session.get(Resource, resource_id)
    if resource is None:
        abort(404)
    return resource
def family_members_linkable_by(user: User) -> Select:
    """A SELECT of the family members a staff member may link an incoming text to: those on cases they see."""
    if not _signed_in_staff(user):
        return select(FamilyMember).where(False)
    visible = cases_visible_to(user).with_only_columns(Case.id)
    return select(FamilyMember).where(FamilyMember.case_id.in_(visible))


def get_inbound_sms_or_404(user: User, inbound_id: int):
    """A received text for staff: an unmatched one (it belongs to no case yet), or one on a case they see."""
    from .models import InboundSms

    inbound = db.session.get(InboundSms, inbound_id)
    if inbound is None or not _signed_in_staff(user):
        abort(404)
    if inbound.handling != "unmatched":
        case = db.session.get(Case, inbound.case_id) if inbound.case_id else None
        if not can_view_case(user, case):
            abort(404)
    return inbound


def get_text_picture_or_404(user: User, media_id: int):
    """A stored picture of a received text, for staff who may open that text (get_inbound_sms_or_404); else 404."""
    from .models import InboundSmsMedia

    media = db.session.get(InboundSmsMedia, media_id)
    if media is None or not _signed_in_staff(user) or media.status != "stored" or not media.stored_name:
        abort(404)
    get_inbound_sms_or_404(user, media.inbound_sms_id)
    return media
