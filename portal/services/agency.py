"""The agency's settings: one row, created from the configuration the first time it is needed."""
from __future__ import annotations

from flask import current_app, g, has_request_context
from sqlalchemy import select

from ..extensions import db
from ..models import Agency, FamilyMember


def get_agency() -> Agency:
    """The agency row (created with configured defaults if missing)."""
    if has_request_context() and "agency" in g:
        return g.agency
    agency = db.session.scalar(select(Agency).order_by(Agency.id).limit(1))
    if agency is None:
        agency = Agency(name=current_app.config["AGENCY_NAME"], timezone=current_app.config["AGENCY_TIMEZONE"])
        db.session.add(agency)
        db.session.flush()
    if has_request_context():
        g.agency = agency
    return agency


def viewer_timezone(user) -> str:
    """The time zone to show times in: a family member's own, else the agency's."""
    if user is not None and getattr(user, "is_authenticated", False) and user.role == "family":
        tz = db.session.scalar(select(FamilyMember.timezone).where(FamilyMember.user_id == user.id).limit(1))
        if tz:
            return tz
    agency = db.session.scalar(select(Agency.timezone).order_by(Agency.id).limit(1))
    return agency or current_app.config["AGENCY_TIMEZONE"]
