"""The agency's settings: one row, created from the configuration the first time it is needed."""
from __future__ import annotations

from flask import current_app, g, has_request_context
from sqlalchemy import select

from ..extensions import db
from ..models import Agency, FamilyMember


def _stored_agency() -> Agency | None:
    """The agency row if there is one, read at most once per request (kept in g)."""
    if has_request_context() and "agency" in g:
        return g.agency
    agency = db.session.scalar(select(Agency).order_by(Agency.id).limit(1))
    if agency is not None and has_request_context():
        g.agency = agency
    return agency


def get_agency() -> Agency:
    """The agency row (created with configured defaults if missing); one query per request at most."""
    agency = _stored_agency()
    if agency is None:
        agency = Agency(name=current_app.config["AGENCY_NAME"], timezone=current_app.config["AGENCY_TIMEZONE"])
        db.session.add(agency)
        db.session.flush()
        if has_request_context():
            g.agency = agency
    return agency


def remember_viewer_timezone(tz: str | None) -> None:
    """A page that already loaded the viewer's own family-member record gives its time zone (saves a query)."""
    if tz and has_request_context():
        g.viewer_timezone = tz


def viewer_timezone(user) -> str:
    """The time zone to show times in: a family member's own, else the agency's."""
    if has_request_context() and "viewer_timezone" in g:
        return g.viewer_timezone
    tz = None
    if user is not None and getattr(user, "is_authenticated", False) and user.role == "family":
        tz = db.session.scalar(select(FamilyMember.timezone).where(FamilyMember.user_id == user.id).limit(1))
    if not tz:
        agency = _stored_agency()  # read only: showing a page never creates the agency row
        tz = agency.timezone if agency is not None and agency.timezone else current_app.config["AGENCY_TIMEZONE"]
    remember_viewer_timezone(tz)
    return tz
