"""The people and records the route × role table (tests/security_routes.py) points at, and its expectation presets.

Everything belongs to case A (family A, the assigned liaison) unless named otherwise, so that family B and the
other liaison prove that someone else's id answers 404, like an id that does not exist.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import date, timedelta
from datetime import time as clock
from urllib.parse import urlsplit

import pyotp
from flask import current_app
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from portal.extensions import db
from portal.models import TipLink, User, utcnow
from portal.services import invitations, mfa
from portal.services import leads as lead_service
from portal.services.agency import get_agency

from . import factories
from . import family_factories as ffac
from . import staff_factories as sf
from .webauthn_helpers import make_passkey

# The eight roles of the issue, and two more: staff who typed the password but not yet the code, with an
# authenticator (PENDING) and without one yet (ENROLLING). Both must reach nothing but the second-factor pages.
ROLES = ("anonymous", "tipster", "family_a", "family_b", "liaison", "other_liaison", "supervisor", "admin")
PENDING = "staff_password_only"
ENROLLING = "staff_enrolling"
ALL_ROLES = ROLES + (PENDING, ENROLLING)
STAFF = ("liaison", "other_liaison", "supervisor", "admin")
FAMILY = ("family_a", "family_b")


@dataclass(frozen=True)
class Go:
    """A redirect to an address starting with path."""

    path: str

    def matches(self, response) -> bool:
        """Whether the response is this redirect."""
        if response.status_code not in (301, 302, 303, 307, 308):
            return False
        return urlsplit(response.headers.get("Location", "")).path.startswith(self.path)

    def __repr__(self) -> str:
        return f"redirect to {self.path}"


LOGIN = Go("/login")
MFA = Go("/mfa")
SETUP = Go("/mfa/setup")
FAMILY_HOME = Go("/my")
STAFF_HOME = Go("/staff/")
HOME = {"family_a": FAMILY_HOME, "family_b": FAMILY_HOME, **{r: STAFF_HOME for r in STAFF}}


def _table(default, **overrides) -> dict:
    table = {role: default for role in ALL_ROLES}
    table.update({"anonymous": LOGIN, "tipster": LOGIN, PENDING: MFA, ENROLLING: MFA})
    table.update(overrides)
    return table


def signed_in(ok, **overrides) -> dict:
    """Any signed-in person gets ok; anonymous visitors are sent to sign in."""
    return _table(ok, **overrides)


def staff_only(ok, **overrides) -> dict:
    """Staff get ok, families 404 (staff pages do not exist for them)."""
    return _table(ok, **{"family_a": 404, "family_b": 404, **overrides})


def case_a_staff(ok, **overrides) -> dict:
    """Staff who may see case A get ok; the other liaison 404, like a missing case."""
    return staff_only(ok, **{"other_liaison": 404, **overrides})


def supervisors_only(ok, **overrides) -> dict:
    """Supervisors and admins get ok (reports, the audit log); liaisons and families 404."""
    return _table(404, supervisor=ok, admin=ok, **overrides)


def admin_only(ok, **overrides) -> dict:
    """Admins get ok; every other signed-in person 404."""
    return _table(404, admin=ok, **overrides)


def family_a_only(ok, **overrides) -> dict:
    """Family A gets ok; family B and staff 404."""
    return _table(404, family_a=ok, **overrides)


def everyone(ok, **overrides) -> dict:
    """Public: everyone gets ok (a half-signed-in staff member is still held at the second factor)."""
    table = {role: ok for role in ALL_ROLES}
    table[PENDING] = table[ENROLLING] = MFA
    table.update(overrides)
    return table


@dataclass
class World:
    """Two families on two cases with two liaisons, a supervisor, an admin, and one of every record routes open."""

    liaison: User
    other_liaison: User
    supervisor: User
    admin: User
    pending_staff: User
    enrolling_staff: User
    family_a: User
    member_a: object
    case_a: object
    family_b: User
    member_b: object
    case_b: object
    uninvited_a: object  # a family member of case A with no account yet
    invite_token: str
    tip_link: TipLink  # the link case A's family shared (w.tip_token is its raw token)
    tip_token: str
    spare_tip_link: TipLink  # a second link, which the family may stop (revoking w.tip_link would break tip rows)
    tip_lead: object  # an anonymous tip left through w.tip_link, with its code and passphrase
    tip_passphrase: str
    tip_question: object
    lead_a: object  # family A's own lead, with a file and an answered staff question
    attachment_a: object
    question_a: object
    appointment_a: object  # a booked call of family A with the liaison, and one that was due two hours ago
    past_appointment: object
    window_a: object  # one of the liaison's weekly windows, and a day off
    exception_a: object
    outreach_a: object  # a logged contact on case A
    unmatched_text: object  # a text from a number nobody has
    resource: object
    account: User  # a staff account the admin pages show
    reset_target: User  # a staff member an admin may reset
    locked_user: User
    recovery_code: str = ""
    held_case: object = None  # a closed case on legal hold, with no liaison (supervisors and admins see it)
    unmatched_picture: object = None  # a picture held with w.unmatched_text (an MMS from that unknown number)
    passkey: object = None  # the liaison's own passkey (other staff may not rename or remove it: 404)

    def user_for(self, role: str):
        """The account a role signs in with (None for anonymous visitors and tipsters)."""
        return {"family_a": self.family_a, "family_b": self.family_b, "liaison": self.liaison,
                "other_liaison": self.other_liaison, "supervisor": self.supervisor, "admin": self.admin,
                PENDING: self.pending_staff, ENROLLING: self.enrolling_staff}.get(role)


def _tip(link: TipLink) -> tuple[object, str]:
    """An anonymous tip through the link, as the tip form saves it; returns (lead, passphrase)."""
    nonce = secrets.token_urlsafe(24)
    passphrase = lead_service.tip_passphrase(nonce)
    lead, _created = lead_service.submit_lead(
        case=link.case, content=lead_service.LeadContent(details="Anonymous: ask about the blue car."), files=[],
        key=lead_service.submission_key(f"tip:{link.id}", nonce), tip_link=link, passphrase=passphrase)
    return lead, passphrase


def _tip_link(case, member) -> tuple[TipLink, str]:
    token = secrets.token_urlsafe(24)
    link = TipLink(case_id=case.id, token_hash=invitations.token_hash(token), created_by_family_member_id=member.id)
    db.session.add(link)
    db.session.flush()
    return link, token


def build_world() -> World:
    """Create the World's records (committed)."""
    liaison = factories.make_user(role="liaison", name="Assigned Liaison")
    other = factories.make_user(role="liaison", name="Other Liaison")
    user_a, member_a, case_a = factories.make_family(liaison=liaison, name="Alma Family-A")
    user_b, member_b, case_b = factories.make_family(liaison=other, name="Bruno Family-B")
    case_a.stage = "prosecution_declined"  # so family A may ask for a meeting about the decision
    uninvited = factories.make_family_member(case=case_a, name="Uninvited Relative", texts_consent_at=None)
    _invitation, token = invitations.create_invitation(uninvited, created_by=liaison, send_text=False)
    tip_link, tip_token = _tip_link(case_a, member_a)
    spare_link, _spare_token = _tip_link(case_a, member_a)
    tip_lead, passphrase = _tip(tip_link)
    pending = factories.make_user(role="liaison", name="Half Signed-In")
    codes = mfa.generate_recovery_codes(pending)
    locked = factories.make_user(role="liaison", name="Locked Out")
    locked.locked_at = utcnow()
    get_agency()  # the agency row, with the configured defaults
    held_case = factories.make_case(stage="closed", decedent="Held Case")
    held_case.closed_at = held_case.held_at = utcnow()
    held_case.hold_reason = "Court order in a related case."
    db.session.commit()
    tip_question = ffac.make_question(lead=tip_lead, question="What colour was the car?", asked_by=liaison)
    lead_a = ffac.make_lead(case=case_a, member=member_a, details="Ask the cousin about that night.")
    attachment_a = ffac.make_attachment(lead=lead_a, app=current_app)
    question_a = sf.make_question(lead=lead_a, question="Which cousin?", answer="Ramon", answered_at=utcnow())
    ffac.make_every_day_windows(liaison=liaison)  # open times for booking and moving calls
    appointment_a = ffac.make_appointment(case=case_a, member=member_a, liaison=liaison)
    past = ffac.make_appointment(case=case_a, member=member_a, liaison=liaison,
                                 starts_at=(utcnow() - timedelta(hours=2)).replace(second=0, microsecond=0))
    window_a = ffac.make_window(liaison=liaison, weekday=0, start=clock(6, 0), end=clock(7, 0))
    exception_a = sf.make_exception(liaison=liaison, day=date.today() + timedelta(days=200))
    outreach_a = factories.make_outreach(case=case_a, member=member_a, staff=liaison, notes="First call.")
    world = World(
        liaison=liaison, other_liaison=other, supervisor=factories.make_user(role="supervisor"),
        admin=factories.make_user(role="admin"), pending_staff=pending,
        enrolling_staff=factories.make_user(role="supervisor", mfa=False), family_a=user_a, member_a=member_a,
        case_a=case_a, family_b=user_b, member_b=member_b, case_b=case_b, uninvited_a=uninvited,
        invite_token=token, tip_link=tip_link, tip_token=tip_token, spare_tip_link=spare_link, tip_lead=tip_lead,
        tip_passphrase=passphrase, tip_question=tip_question, lead_a=lead_a, attachment_a=attachment_a,
        question_a=question_a, appointment_a=appointment_a, past_appointment=past, window_a=window_a,
        exception_a=exception_a, outreach_a=outreach_a,
        unmatched_text=factories.make_inbound_sms(body="Who is this? I knew him."), resource=sf.make_resource(),
        account=factories.make_user(role="liaison", name="Staff Account"),
        reset_target=factories.make_user(role="liaison"), locked_user=locked, recovery_code=codes[0],
        held_case=held_case)
    world.passkey, _authenticator = make_passkey(liaison)
    world.unmatched_picture = factories.make_text_picture(inbound=world.unmatched_text)
    for _ in range(3):  # carriers filtered three texts this hour: supervisors and admins see the alarm to acknowledge
        sf.make_text(member=uninvited, status="undelivered").error_code = "30007"
    db.session.commit()
    return world


def totp(user, *, next_code: bool = False) -> str:
    """The user's current authenticator code, or the next one (the current one was used to sign in)."""
    if user is None:
        return "000000"
    secret = db.session.scalar(select(User.totp_secret).where(User.id == user.id))
    return pyotp.TOTP(secret).at(time.time() + (30 if next_code else 0)) if secret else "000000"


def tip_form_token(link: TipLink) -> str:
    """The signed token a tip form carries (what GET /t/<token> puts in the page)."""
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="tip-form")
    return serializer.dumps({"n": secrets.token_urlsafe(24), "l": link.id})


def tip_access_pass(lead) -> str:
    """The hour-long pass the tip status page gives for answering questions."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="tip-access").dumps({"lead": lead.id})


def first_open_slot(liaison_id: int) -> str:
    """The first open time of a liaison, as the booking form posts it."""
    from portal.family.booking import _slot_value
    from portal.services.appointments import open_slots

    slots = open_slots(liaison_id)
    db.session.rollback()  # end the read (it must hold no lock while the request writes)
    assert slots, "the liaison has no open time: the booking rows would prove nothing"
    return _slot_value(slots[0])
