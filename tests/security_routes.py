"""The route × role table: for every endpoint, how to build its URL and what each kind of visitor gets.

test_security_matrix.py checks every row for every role, and fails for an endpoint of app.url_map with no row
(or a row for an endpoint that no longer exists). test_security_csrf.py and test_security_fuzz.py reuse the rows.

Adding a route: one Route(...) in ROUTES, in its area's section. Give
  - url: how to build the address from the World (w) — use the ids of family A / case A, so that family B and
    the other liaison prove "someone else's id answers 404";
  - one expectation dict per method, usually from a preset: staff_only(200), case_a_staff(200), family_a_only(200),
    admin_only(200), signed_in(200), everyone(200); override single roles with keywords;
  - data (POST): a valid form body, data(w, user) -> dict (the CSRF test sends it without the token, the matrix
    with it); ends_session=True when the POST signs the client out (the matrix runs those last).
Expectations: an int is the status code; Go("/path") is a redirect whose target starts with that path
(LOGIN: the sign-in page, MFA: the second-factor page).
"""
from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pyotp

from portal.extensions import db
from portal.models import TipLink, utcnow
from portal.services import invitations, mfa

from . import factories

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
    return _table(ok, family_a=404, family_b=404, **overrides)


def case_a_staff(ok, **overrides) -> dict:
    """Staff who may see case A get ok; the other liaison 404, like a missing case."""
    return staff_only(ok, other_liaison=404, **overrides)


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
    """Two families on two cases with two liaisons, a supervisor, an admin, and the records routes point at."""

    liaison: object
    other_liaison: object
    supervisor: object
    admin: object
    pending_staff: object
    enrolling_staff: object
    family_a: object
    member_a: object
    case_a: object
    family_b: object
    member_b: object
    case_b: object
    uninvited_a: object  # a family member of case A with no account yet
    invite_token: str
    tip_token: str
    reset_target: object  # a staff member an admin may reset
    locked_user: object
    recovery_code: str = ""
    extra: dict = field(default_factory=dict)  # records that later rows need (leads, appointments...), by name

    def user_for(self, role: str):
        """The account a role signs in with (None for anonymous visitors)."""
        return {"family_a": self.family_a, "family_b": self.family_b, "liaison": self.liaison,
                "other_liaison": self.other_liaison, "supervisor": self.supervisor, "admin": self.admin,
                PENDING: self.pending_staff, ENROLLING: self.enrolling_staff}.get(role)


def build_world() -> World:
    """Create the World's records (committed)."""
    liaison = factories.make_user(role="liaison", name="Assigned Liaison")
    other = factories.make_user(role="liaison", name="Other Liaison")
    user_a, member_a, case_a = factories.make_family(liaison=liaison, name="Alma Family-A")
    user_b, member_b, case_b = factories.make_family(liaison=other, name="Bruno Family-B")
    uninvited = factories.make_family_member(case=case_a, name="Uninvited Relative")
    _invitation, token = invitations.create_invitation(uninvited, created_by=liaison, send_text=False)
    tip_token = secrets.token_urlsafe(24)
    db.session.add(TipLink(case_id=case_a.id, token_hash=invitations.token_hash(tip_token),
                           created_by_family_member_id=member_a.id))
    pending = factories.make_user(role="liaison", name="Half Signed-In")
    codes = mfa.generate_recovery_codes(pending)
    locked = factories.make_user(role="liaison", name="Locked Out")
    locked.locked_at = utcnow()
    db.session.commit()
    return World(liaison=liaison, other_liaison=other, supervisor=factories.make_user(role="supervisor"),
                 admin=factories.make_user(role="admin"), pending_staff=pending,
                 enrolling_staff=factories.make_user(role="supervisor", mfa=False), family_a=user_a, member_a=member_a,
                 case_a=case_a, family_b=user_b, member_b=member_b, case_b=case_b, uninvited_a=uninvited,
                 invite_token=token, tip_token=tip_token, reset_target=factories.make_user(role="liaison"),
                 locked_user=locked, recovery_code=codes[0])


def totp(user, *, next_code: bool = False) -> str:
    """The user's current authenticator code, or the next one (the current one was used to sign in)."""
    import time

    from sqlalchemy import select

    from portal.models import User

    if user is None:
        return "000000"
    secret = db.session.scalar(select(User.totp_secret).where(User.id == user.id))
    return pyotp.TOTP(secret).at(time.time() + (30 if next_code else 0)) if secret else "000000"


@dataclass
class Route:
    """One endpoint: its URL and the expected answer per role for each method."""

    endpoint: str
    url: Callable[[World], str]
    GET: dict | None = None
    POST: dict | None = None
    data: Callable[[World, object], dict] | None = None
    ends_session: bool = False
    csrf_exempt: str | None = None  # only signed webhooks, with the reason
    actor: str | None = None  # the role the CSRF and fuzz tests act as (default: see acting_role)

    def expectations(self) -> dict[str, dict]:
        """{method: {role: expectation}} for the methods this row covers."""
        return {m: getattr(self, m) for m in ("GET", "POST") if getattr(self, m) is not None}


NEW_PASSWORD = "a different long sentence for the test"

ROUTES: list[Route] = [
    # --- auth: sign-in, second factor, account -------------------------------------------------------------------
    Route("auth.index", lambda w: "/", GET=_table(None, **HOME)),
    Route("auth.login", lambda w: "/login", GET=everyone(200, **HOME),
          POST=everyone(FAMILY_HOME, **HOME),
          data=lambda w, u: {"email": w.family_a.email, "password": factories.PASSWORD}),
    Route("auth.logout", lambda w: "/logout", POST=signed_in(LOGIN), data=lambda w, u: {}, ends_session=True),
    Route("auth.accept_invite", lambda w: f"/invite/{w.invite_token}", GET=everyone(200),
          POST=everyone(FAMILY_HOME),
          data=lambda w, u: {"email": "new.invitee@test.example", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
    Route("auth.set_language", lambda w: "/language",
          POST=everyone(Go("/back-here"), **{PENDING: Go("/back-here"), ENROLLING: Go("/back-here")}),
          data=lambda w, u: {"language": "es", "next": "/back-here"}),
    Route("auth.mfa_verify", lambda w: "/mfa", GET=_table(None, **HOME, **{PENDING: 200, ENROLLING: SETUP}),
          POST=_table(None, **HOME, **{PENDING: STAFF_HOME, ENROLLING: SETUP}),
          data=lambda w, u: {"code": totp(u)}),
    Route("auth.mfa_setup", lambda w: "/mfa/setup", GET=_table(None, **HOME, **{PENDING: MFA, ENROLLING: 200}),
          POST=_table(None, **HOME, **{PENDING: MFA, ENROLLING: 200}), actor=ENROLLING,
          data=lambda w, u: {"code": totp(u)}),
    Route("auth.mfa_recovery", lambda w: "/mfa/recovery", GET=_table(None, **HOME, **{PENDING: 200, ENROLLING: 200}),
          POST=_table(None, **HOME, **{PENDING: STAFF_HOME, ENROLLING: 422}),
          data=lambda w, u: {"code": w.recovery_code}),
    Route("auth.mfa_cancel", lambda w: "/mfa/cancel", POST=_table(None, **HOME, **{PENDING: LOGIN, ENROLLING: LOGIN}),
          data=lambda w, u: {}, actor=PENDING),
    Route("auth.account", lambda w: "/account", GET=signed_in(200)),
    Route("auth.change_password", lambda w: "/account/password", GET=signed_in(200), POST=signed_in(Go("/account")),
          data=lambda w, u: {"current": factories.PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
          ends_session=True),
    Route("auth.regenerate_recovery_codes", lambda w: "/account/recovery-codes", POST=staff_only(200),
          data=lambda w, u: {"codes-code": totp(u, next_code=True)}),

    # --- family side (family.*): add rows for leads, tips settings, appointments, messages here -------------------
    Route("family.home", lambda w: "/my", GET=family_a_only(Go("/my/cases/"), family_b=Go("/my/cases/"))),
    Route("family.case", lambda w: f"/my/cases/{w.case_a.id}", GET=family_a_only(200)),

    # --- anonymous tips (tips.*): add rows here; use w.tip_token, and the "tipster" role -------------------------

    # --- staff side (staff.*): add rows for flags, triage, reports, staff admin here -----------------------------
    Route("staff.dashboard", lambda w: "/staff/", GET=staff_only(200)),
    Route("staff.case", lambda w: f"/staff/cases/{w.case_a.id}", GET=case_a_staff(200)),
    Route("staff.add_member", lambda w: f"/staff/cases/{w.case_a.id}/members",
          POST=case_a_staff(Go("/staff/cases/")), data=lambda w, u: {"member-name": "New Relative",
                                                                    "member-language": "en"}),
    Route("staff.invite_member", lambda w: f"/staff/members/{w.uninvited_a.id}/invite", POST=case_a_staff(200),
          data=lambda w, u: {}),
    Route("staff.add_update", lambda w: f"/staff/cases/{w.case_a.id}/updates", POST=case_a_staff(Go("/staff/cases/")),
          data=lambda w, u: {"update-body": "Checked in by phone.", "update-visibility": "internal"}),
    Route("staff.security_accounts", lambda w: "/staff/security", GET=admin_only(200)),
    Route("staff.unlock_account", lambda w: f"/staff/security/users/{w.locked_user.id}/unlock",
          POST=admin_only(Go("/staff/security")), data=lambda w, u: {}),
    Route("staff.reset_mfa", lambda w: f"/staff/security/users/{w.reset_target.id}/reset-mfa",
          POST=admin_only(Go("/staff/security")), data=lambda w, u: {}),

    # --- webhooks (webhooks.*): signed by Twilio, so csrf_exempt="signed by Twilio"; unsigned posts answer 403 ----

    # --- static files -----------------------------------------------------------------------------------------------
    Route("static", lambda w: "/static/css/portal.css", GET={role: 200 for role in ALL_ROLES}),
]

ROUTES_BY_ENDPOINT = {route.endpoint: route for route in ROUTES}
REDIRECTS_TO_SIGN_IN = (LOGIN, MFA)


def acting_role(route: Route, method: str) -> str | None:
    """A role that really uses the route: the one the CSRF and fuzz tests post as (Route.actor overrides).

    For a signed-in role, being sent to sign in means the route signs them out (it acted); being sent home
    means the route is not for them. For anonymous visitors and half-signed-in staff it is the reverse.
    """
    if route.actor:
        return route.actor
    table = route.expectations().get(method) or {}
    for role in ("admin", "liaison", "supervisor", "family_a"):
        if table.get(role) not in (None, 404, MFA, FAMILY_HOME, STAFF_HOME):
            return role
    for role in ("anonymous", PENDING):
        if table.get(role) not in (None, 404, LOGIN, MFA):
            return role
    return None
