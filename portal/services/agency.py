"""The agency's settings: one row, created from the configuration the first time it is needed."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Agency, FamilyMember

# Kept in the unit of work's session (a request's, a job's), not in flask.g: it needs no request, and a new
# session (the next request) reads it afresh. Saving the settings forgets it (forget_agency).
_AGENCY_KEY = "portal.agency"
_VIEWER_TZ_KEY = "portal.viewer_timezone"


def _stored_agency() -> Agency | None:
    """The agency row if there is one, read at most once per session."""
    agency = db.session.info.get(_AGENCY_KEY)
    if agency is not None and agency in db.session:  # not if a rollback took back the row it was created with
        return agency
    agency = db.session.scalar(select(Agency).order_by(Agency.id).limit(1))
    if agency is not None:
        db.session.info[_AGENCY_KEY] = agency
    return agency


def forget_agency() -> None:
    """Read the agency row (and the time zone shown from it) afresh next time: its settings were just saved."""
    db.session.info.pop(_AGENCY_KEY, None)
    db.session.info.pop(_VIEWER_TZ_KEY, None)


def get_agency() -> Agency:
    """The agency row (created with configured defaults if missing); one query per request at most."""
    agency = _stored_agency()
    if agency is None:
        agency = Agency(name=current_app.config["AGENCY_NAME"], timezone=current_app.config["AGENCY_TIMEZONE"])
        db.session.add(agency)
        db.session.flush()
        db.session.info[_AGENCY_KEY] = agency
    return agency


def remember_viewer_timezone(tz: str | None, *, user) -> None:
    """A page that already loaded the viewer's own family-member record gives its time zone (saves a query)."""
    if tz:
        db.session.info[_VIEWER_TZ_KEY] = (getattr(user, "id", None), tz)


def viewer_timezone(user) -> str:
    """The time zone to show times in: a family member's own, else the agency's."""
    ident = getattr(user, "id", None)
    remembered = db.session.info.get(_VIEWER_TZ_KEY)
    if remembered is not None and remembered[0] == ident:
        return remembered[1]
    tz = None
    if user is not None and getattr(user, "is_authenticated", False) and user.role == "family":
        tz = db.session.scalar(select(FamilyMember.timezone).where(FamilyMember.user_id == user.id).limit(1))
    if not tz:
        agency = _stored_agency()  # read only: showing a page never creates the agency row
        tz = agency.timezone if agency is not None and agency.timezone else current_app.config["AGENCY_TIMEZONE"]
    remember_viewer_timezone(tz, user=user)
    return tz
