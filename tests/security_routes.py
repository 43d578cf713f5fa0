"""The route × role table: for every endpoint, how to build its URL and what each kind of visitor gets.

test_security_matrix.py checks every row for every role, and fails for an endpoint of app.url_map with no row
(or a row for an endpoint that no longer exists). test_security_csrf.py and test_security_fuzz.py reuse the rows.
The people and records are in tests/security_world.py (the World, w), with the presets used below.

Adding a route: one Route(...) in ROUTES, in its area's section. Give
  - url: how to build the address from the World (w) — use the ids of family A / case A, so that family B and
    the other liaison prove "someone else's id answers 404";
  - one expectation dict per method, usually from a preset: staff_only(200), case_a_staff(200), family_a_only(200),
    supervisors_only(200), admin_only(200), signed_in(200), everyone(200); override single roles with keywords;
  - data (POST): a valid form body, data(w, user) -> dict (the CSRF test sends it without the token, the matrix
    with it); ends_session=True when the POST signs the client out (the matrix runs those last); json=True when
    the body is JSON, posted with the token in the X-CSRFToken header (the fuzz test leaves those rows out:
    tests/test_security_passkeys.py sends them malformed JSON).
Rows run in this order for each role, on one World per role: a row that changes a record (moves a call, deletes
a window) comes after the rows that need the record as it was.
Expectations: an int is the status code; Go("/path") is a redirect whose target starts with that path
(LOGIN: the sign-in page, MFA: the second-factor page).
"""
from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from . import factories
from .security_world import (  # noqa: F401  (re-exported for the tests that import them from here)
    ALL_ROLES,
    ENROLLING,
    FAMILY,
    FAMILY_HOME,
    HOME,
    LOGIN,
    MFA,
    PENDING,
    ROLES,
    SETUP,
    STAFF,
    STAFF_HOME,
    Go,
    World,
    _table,
    admin_only,
    build_world,
    case_a_staff,
    everyone,
    family_a_only,
    first_open_slot,
    signed_in,
    staff_only,
    supervisors_only,
    tip_access_pass,
    tip_form_token,
    totp,
)

# Why a POST route may go without Flask-WTF's token (test_security_csrf.py checks each reason's own protection).
SIGNED_BY_TWILIO = "signed by Twilio"
NO_COOKIE = "tip pages set no cookie: a signed form token and a same-origin check instead"


@dataclass
class Route:
    """One endpoint: its URL and the expected answer per role for each method."""

    endpoint: str
    url: Callable[[World], str]
    GET: dict | None = None
    POST: dict | None = None
    data: Callable[[World, object], dict] | None = None
    ends_session: bool = False
    csrf_exempt: str | None = None  # SIGNED_BY_TWILIO or NO_COOKIE, nothing else
    json: bool = False  # the POST body is JSON (static/js/passkeys.js), the CSRF token in the X-CSRFToken header
    actor: str | None = None  # the role the CSRF and fuzz tests act as (default: see acting_role)

    def expectations(self) -> dict[str, dict]:
        """{method: {role: expectation}} for the methods this row covers."""
        return {m: getattr(self, m) for m in ("GET", "POST") if getattr(self, m) is not None}


def cookieless(ok) -> dict:
    """The tip pages read no session: every visitor, a half-signed-in staff member too, is nobody there."""
    return {role: ok for role in ALL_ROLES}


NEW_PASSWORD = "a different long sentence for the test"
NO_DATA = lambda w, u: {}  # noqa: E731  (a button: the CSRF token is the whole form)
A = "/my/cases/"  # family A's case pages (and where family redirects go)
MY_CASE, MY_APPT, MY_LEAD = Go("/my/cases/"), Go("/my/appointments/"), Go("/my/leads/")
STAFF_CASE, STAFF_LEAD = Go("/staff/cases/"), Go("/staff/leads/")
AVAILABILITY, APPOINTMENTS = Go("/staff/availability"), Go("/staff/appointments")
ADMIN_USER, RESOURCES = Go("/staff/admin/users"), Go("/staff/admin/resources")


def _member_fields(prefix: str, w: World) -> dict:
    return {f"{prefix}-name": "Alma Family-A", f"{prefix}-relationship": "Mother", f"{prefix}-phone": "",
            f"{prefix}-email": "", f"{prefix}-language": "en"}


def _contact(w: World, outcome: str) -> dict:
    return {"member": str(w.member_a.id), "channel": "phone", "direction": "outbound", "outcome": outcome,
            "notes": "Talked about the next steps."}


def _agency(w: World, u) -> dict:
    return {"name": "Matrix Police Department", "timezone": "America/Chicago", "phone": "", "email": "",
            "address": "", "first_contact_hours": "48", "first_contact_warning_hours": "24",
            "default_cadence_days": "14", "stage_change_contact_days": "2", "lead_review_hours": "24",
            "message_reply_business_days": "2", "callback_confirm_business_days": "2"}


def _resource(prefix: str) -> Callable[[World, object], dict]:
    return lambda w, u: {f"{prefix}-title": "Grief support group", f"{prefix}-description": "Tuesdays at 6 pm.",
                         f"{prefix}-phone": "", f"{prefix}-url": "", f"{prefix}-language": "",
                         f"{prefix}-sort_order": "3"}


ROUTES: list[Route] = [
    # --- auth: sign-in, second factor, account -------------------------------------------------------------------
    Route("auth.index", lambda w: "/", GET=_table(None, **HOME)),
    Route("auth.login", lambda w: "/login", GET=everyone(200, **HOME),
          POST=everyone(FAMILY_HOME, **HOME),
          data=lambda w, u: {"email": w.family_a.email, "password": factories.PASSWORD}),
    Route("auth.logout", lambda w: "/logout", POST=signed_in(LOGIN), data=NO_DATA, ends_session=True),
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
          data=NO_DATA, actor=PENDING),
    # Passkeys. The half-signed-in staff of the World have none (and the agency does not require them), so the
    # second-step rows send them on to their own step (MFA: /mfa, or /mfa/setup until the enrolling one has
    # enrolled in an earlier row); tests/test_security_passkeys.py signs in with real keys.
    Route("auth.passkey_sign_in", lambda w: "/mfa/passkey", GET=_table(None, **HOME),
          POST=_table(None, **HOME), json=True, actor=PENDING,
          data=lambda w, u: {"credential": {}}),
    Route("auth.passkey_sign_in_options", lambda w: "/mfa/passkey/options",
          POST=_table(None, **HOME), json=True, actor=PENDING, data=NO_DATA),
    Route("auth.passkey_setup", lambda w: "/mfa/passkey/setup", GET=_table(None, **HOME),
          POST=_table(None, **HOME), json=True, actor=ENROLLING,
          data=lambda w, u: {"name": "Desk key", "credential": {}}),
    Route("auth.passkey_setup_options", lambda w: "/mfa/passkey/setup/options",
          POST=_table(None, **HOME), json=True, actor=ENROLLING, data=NO_DATA),
    # Staff add passkeys from their account page (families: 404); each staff member sees only their own.
    Route("auth.passkey_register_options", lambda w: "/account/passkeys/options", POST=staff_only(200), json=True,
          data=NO_DATA),
    Route("auth.passkey_register", lambda w: "/account/passkeys", POST=staff_only(422), json=True,
          data=lambda w, u: {"name": "Desk key", "credential": {}}),  # 422: no live challenge in this session
    Route("auth.passkey_rename", lambda w: f"/account/passkeys/{w.passkey.id}", GET=_table(404, liaison=200),
          POST=_table(404, liaison=Go("/account")), data=lambda w, u: {"name": "Work laptop"}),
    # Removing signs the owner out elsewhere (ends_session): it comes before the password change, which the
    # ends_session rows run after.
    Route("auth.passkey_remove", lambda w: f"/account/passkeys/{w.passkey.id}/remove", GET=_table(404, liaison=200),
          POST=_table(404, liaison=Go("/account")), data=NO_DATA, ends_session=True),
    Route("auth.account", lambda w: "/account", GET=signed_in(200)),
    Route("auth.change_password", lambda w: "/account/password", GET=signed_in(200), POST=signed_in(Go("/account")),
          data=lambda w, u: {"current": factories.PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
          ends_session=True),
    Route("auth.regenerate_recovery_codes", lambda w: "/account/recovery-codes", POST=staff_only(200),
          data=lambda w, u: {"codes-code": totp(u, next_code=True)}),

    # --- family side (family.*): only family members; family B and every staff member get 404 for case A's pages --
    Route("family.home", lambda w: "/my", GET=family_a_only(MY_CASE, family_b=MY_CASE)),
    Route("family.section", lambda w: "/my/go/leads", GET=family_a_only(MY_CASE, family_b=MY_CASE)),
    Route("family.resources", lambda w: "/my/resources", GET=family_a_only(200, family_b=200)),
    Route("family.case", lambda w: f"{A}{w.case_a.id}", GET=family_a_only(200)),
    Route("family.request_meeting", lambda w: f"{A}{w.case_a.id}/meeting-request", POST=family_a_only(MY_CASE),
          data=NO_DATA),
    Route("family.leads", lambda w: f"{A}{w.case_a.id}/leads", GET=family_a_only(200)),
    Route("family.new_lead", lambda w: f"{A}{w.case_a.id}/leads/new", GET=family_a_only(200),
          POST=family_a_only(MY_LEAD),
          data=lambda w, u: {"details": "Ask his friend from work.", "submission_key": secrets.token_urlsafe(18)}),
    Route("family.lead_receipt", lambda w: f"/my/leads/{w.lead_a.id}/thanks", GET=family_a_only(200)),
    Route("family.lead", lambda w: f"/my/leads/{w.lead_a.id}", GET=family_a_only(200)),
    Route("family.lead_file", lambda w: f"/my/leads/{w.lead_a.id}/files/{w.attachment_a.id}",
          GET=family_a_only(200)),
    Route("family.answer_question", lambda w: f"/my/questions/{w.question_a.id}/answer", POST=family_a_only(MY_LEAD),
          data=lambda w, u: {f"q{w.question_a.id}-answer": "His cousin from Joliet."}),
    Route("family.tip_links", lambda w: f"{A}{w.case_a.id}/tip-links", GET=family_a_only(200),
          POST=family_a_only(200), data=NO_DATA),
    Route("family.revoke_tip_link", lambda w: f"/my/tip-links/{w.spare_tip_link.id}/revoke",
          POST=family_a_only(MY_CASE), data=NO_DATA),
    Route("family.messages", lambda w: f"{A}{w.case_a.id}/messages", GET=family_a_only(200),
          POST=family_a_only(MY_CASE), data=lambda w, u: {"body": "Is there any news this week?"}),
    Route("family.preferences", lambda w: f"{A}{w.case_a.id}/settings", GET=family_a_only(200),
          POST=family_a_only(MY_CASE),
          data=lambda w, u: {"language": "en", "quiet_start": "21:00", "quiet_end": "08:00", "cadence": "weekly",
                             "preferred_channel": "", "preferred_times": "After 6 pm"}),
    Route("family.booking", lambda w: f"{A}{w.case_a.id}/book", GET=family_a_only(200), POST=family_a_only(MY_APPT),
          data=lambda w, u: {"start": first_open_slot(w.liaison.id), "mode": "phone", "reason": ""}),
    Route("family.callback", lambda w: f"{A}{w.case_a.id}/callback", GET=family_a_only(200),
          POST=family_a_only(MY_APPT), data=lambda w, u: {"window": "weekday_evening", "mode": "phone"}),
    Route("family.appointment", lambda w: f"/my/appointments/{w.appointment_a.id}", GET=family_a_only(200)),
    Route("family.appointment_ics", lambda w: f"/my/appointments/{w.appointment_a.id}/calendar.ics",
          GET=family_a_only(200)),
    # Moving the call makes a new appointment; the cancel row after it then finds the old one already moved
    # (it says so, and redirects all the same).
    Route("family.reschedule", lambda w: f"/my/appointments/{w.appointment_a.id}/reschedule", GET=family_a_only(200),
          POST=family_a_only(MY_APPT), data=lambda w, u: {"start": first_open_slot(w.liaison.id)}),
    Route("family.cancel", lambda w: f"/my/appointments/{w.appointment_a.id}/cancel", POST=family_a_only(MY_CASE),
          data=NO_DATA),

    # --- anonymous tips (tips.*): public, cookie-less; the tipster role is a visitor with the family's link --------
    Route("tips.leave_tip", lambda w: f"/t/{w.tip_token}", GET=cookieless(200), POST=cookieless(200), actor="tipster",
          csrf_exempt=NO_COOKIE,
          data=lambda w, u: {"form_token": tip_form_token(w.tip_link), "lang": "en",
                             "supplier": "A man called Flaco sold it.", "details": "He drives a blue car."}),
    Route("tips.check_tip", lambda w: "/tip", GET=cookieless(200), POST=cookieless(200), actor="tipster",
          csrf_exempt=NO_COOKIE, data=lambda w, u: {"code": w.tip_lead.tip_code, "passphrase": w.tip_passphrase}),
    Route("tips.answer_tip_question", lambda w: "/tip/answer", POST=cookieless(200), actor="tipster",
          csrf_exempt=NO_COOKIE,
          data=lambda w, u: {"access": tip_access_pass(w.tip_lead), "question_id": str(w.tip_question.id),
                             "answer": "Dark blue.", "lang": "en"}),

    # --- one-time links from texts (notices.*): public; a token nobody was sent is 404 for everyone ------------
    # (tests/test_notice_links.py opens real links: once per browser session, never a sign-in)
    Route("notices.open_notice", lambda w: f"/n/{secrets.token_urlsafe(32)}", GET=everyone(404)),

    # --- staff side (staff.*): families get 404; the other liaison gets 404 for case A's records -----------------
    Route("staff.dashboard", lambda w: "/staff/", GET=staff_only(200)),
    Route("staff.case_list", lambda w: "/staff/cases", GET=staff_only(200)),
    Route("staff.open_case", lambda w: "/staff/cases/new", GET=staff_only(200),
          POST=staff_only(STAFF_CASE, other_liaison=STAFF_HOME),  # the other liaison may not see the new case
          data=lambda w, u: {"case_number": f"MX-{secrets.token_hex(4)}", "decedent_name": "Matrix Opened",
                             "date_of_death": "", "liaison": str(w.liaison.id), "backup": "0"}),
    Route("staff.case", lambda w: f"/staff/cases/{w.case_a.id}", GET=case_a_staff(200)),
    Route("staff.add_member", lambda w: f"/staff/cases/{w.case_a.id}/members",
          POST=case_a_staff(STAFF_CASE), data=lambda w, u: {"member-name": "New Relative",
                                                             "member-language": "en"}),
    Route("staff.edit_member", lambda w: f"/staff/members/{w.member_a.id}/edit", GET=case_a_staff(200),
          POST=case_a_staff(STAFF_CASE),
          data=lambda w, u: {**_member_fields("edit", w), "edit-cadence": "monthly", "edit-preferred_channel": ""}),
    Route("staff.invite_member", lambda w: f"/staff/members/{w.uninvited_a.id}/invite", POST=case_a_staff(200),
          data=NO_DATA),
    Route("staff.record_consent", lambda w: f"/staff/members/{w.uninvited_a.id}/consent",
          POST=case_a_staff(STAFF_CASE), data=lambda w, u: {"method": "written_form"}),
    Route("staff.add_update", lambda w: f"/staff/cases/{w.case_a.id}/updates", POST=case_a_staff(STAFF_CASE),
          data=lambda w, u: {"update-body": "Checked in by phone.", "update-visibility": "internal"}),
    Route("staff.new_contact", lambda w: f"/staff/cases/{w.case_a.id}/contacts/new", GET=case_a_staff(200)),
    Route("staff.log_contact", lambda w: f"/staff/cases/{w.case_a.id}/contacts", POST=case_a_staff(STAFF_CASE),
          data=lambda w, u: _contact(w, "reached")),
    Route("staff.correct_contact", lambda w: f"/staff/contacts/{w.outreach_a.id}/correct", GET=case_a_staff(200),
          POST=case_a_staff(STAFF_CASE), data=lambda w, u: _contact(w, "left_voicemail")),
    Route("staff.conversation_page", lambda w: f"/staff/cases/{w.case_a.id}/conversation", GET=case_a_staff(200),
          POST=case_a_staff(STAFF_CASE), data=lambda w, u: {"body": "We will call you on Monday."}),
    Route("staff.conversations", lambda w: "/staff/conversations", GET=staff_only(200)),
    Route("staff.preview_stage", lambda w: f"/staff/cases/{w.case_a.id}/stage/preview", POST=case_a_staff(200),
          data=lambda w, u: {"stage-stage": "investigating", "stage-message": "Detectives took the case again."}),
    Route("staff.change_stage", lambda w: f"/staff/cases/{w.case_a.id}/stage", POST=case_a_staff(STAFF_CASE),
          data=lambda w, u: {"stage-stage": "investigating", "stage-message": "Detectives took the case again.",
                             "confirm": "send"}),
    Route("staff.preview_close", lambda w: f"/staff/cases/{w.case_a.id}/close/preview", POST=case_a_staff(200),
          data=lambda w, u: {"close-message": "Thank you for trusting us."}),
    # Without confirm=send the close route shows the preview again: case A stays open for the rows below.
    Route("staff.close_case", lambda w: f"/staff/cases/{w.case_a.id}/close", POST=case_a_staff(200),
          data=lambda w, u: {"close-message": "Thank you for trusting us."}),
    Route("staff.reassign", lambda w: f"/staff/cases/{w.case_a.id}/reassign", POST=case_a_staff(STAFF_CASE),
          data=lambda w, u: {"handover-liaison": str(w.liaison.id), "handover-backup": str(w.reset_target.id),
                             "handover-handover_note": "Covering while I am away.", "handover-family_message": ""}),
    # Legal hold: supervisors and admins only (a liaison gets 404, like a page that does not exist).
    Route("staff.set_legal_hold", lambda w: f"/staff/cases/{w.case_a.id}/hold", POST=supervisors_only(STAFF_CASE),
          data=lambda w, u: {"hold-reason": "Court order in a related case."}),
    Route("staff.legal_holds", lambda w: "/staff/holds", GET=supervisors_only(200)),
    # "Carriers are blocking our texts": supervisors and admins acknowledge the agency-wide alarm.
    Route("staff.acknowledge_carrier_alarm", lambda w: "/staff/carrier-alarm/acknowledge",
          POST=supervisors_only(STAFF_HOME), data=NO_DATA, actor="supervisor"),
    Route("staff.lift_legal_hold", lambda w: f"/staff/cases/{w.held_case.id}/hold/lift",
          POST=supervisors_only(STAFF_CASE), data=NO_DATA),

    # staff: lead triage
    Route("staff.lead_queue", lambda w: "/staff/leads", GET=staff_only(200)),
    Route("staff.lead", lambda w: f"/staff/leads/{w.lead_a.id}", GET=case_a_staff(200)),
    Route("staff.lead_attachment", lambda w: f"/staff/attachments/{w.attachment_a.id}", GET=case_a_staff(200)),
    # The untouched original: supervisors and admins only, with a reason (the liaisons get 404 like any denial).
    Route("staff.lead_attachment_original", lambda w: f"/staff/attachments/{w.attachment_a.id}/original",
          GET=supervisors_only(200), POST=supervisors_only(200),
          data=lambda w, u: {"reason": "The prosecutor asked for the file as it was sent."}),
    Route("staff.lead_status", lambda w: f"/staff/leads/{w.lead_a.id}/status", POST=case_a_staff(STAFF_LEAD),
          data=lambda w, u: {"status-status": "reviewing"}),
    Route("staff.lead_assign", lambda w: f"/staff/leads/{w.lead_a.id}/assign", POST=case_a_staff(STAFF_LEAD),
          data=lambda w, u: {"assign-assignee": str(w.liaison.id)}),
    Route("staff.lead_note", lambda w: f"/staff/leads/{w.lead_a.id}/notes", POST=case_a_staff(STAFF_LEAD),
          data=lambda w, u: {"note-body": "Cousin confirmed by phone."}),
    Route("staff.lead_question", lambda w: f"/staff/leads/{w.lead_a.id}/questions", POST=case_a_staff(STAFF_LEAD),
          data=lambda w, u: {"question-question": "Do you know his last name?"}),
    Route("staff.acknowledge_answer", lambda w: f"/staff/lead-questions/{w.question_a.id}/acknowledge",
          POST=case_a_staff(STAFF_LEAD), data=NO_DATA),

    # staff: appointments and availability (staff edit their own availability; supervisors and admins anyone's)
    Route("staff.appointments", lambda w: "/staff/appointments", GET=staff_only(200)),
    Route("staff.confirm_appointment", lambda w: f"/staff/appointments/{w.appointment_a.id}/confirm",
          POST=case_a_staff(APPOINTMENTS), data=NO_DATA),
    Route("staff.complete_appointment", lambda w: f"/staff/appointments/{w.appointment_a.id}/complete",
          POST=case_a_staff(APPOINTMENTS), data=NO_DATA),
    Route("staff.no_show_appointment", lambda w: f"/staff/appointments/{w.past_appointment.id}/no-show",
          POST=case_a_staff(APPOINTMENTS), data=NO_DATA),
    # The liaison's own page; supervisors and admins may open anyone's, the other liaison may not (404).
    Route("staff.availability", lambda w: f"/staff/availability?liaison={w.liaison.id}", GET=case_a_staff(200)),
    Route("staff.add_window", lambda w: "/staff/availability/windows", POST=staff_only(AVAILABILITY),
          data=lambda w, u: {"window-weekday": "2", "window-start_time": "18:00", "window-end_time": "19:00",
                             "window-slot_minutes": "30"}),
    Route("staff.add_exception", lambda w: "/staff/availability/exceptions", POST=staff_only(AVAILABILITY),
          data=lambda w, u: {"exception-day": "2031-01-02", "exception-start_time": "", "exception-end_time": "",
                             "exception-reason": "Training"}),
    Route("staff.remove_window", lambda w: f"/staff/availability/windows/{w.window_a.id}/delete",
          POST=case_a_staff(AVAILABILITY), data=NO_DATA),
    Route("staff.remove_exception", lambda w: f"/staff/availability/exceptions/{w.exception_a.id}/delete",
          POST=case_a_staff(AVAILABILITY), data=NO_DATA),

    # staff: texts from unknown numbers. Any staff member may read them (they belong to no case yet) and link one to
    # a family member they can see; the other liaison cannot pick family A (not among the choices: 422, the same
    # answer as for a member id that does not exist).
    Route("staff.sms_inbox", lambda w: "/staff/texts/unmatched", GET=staff_only(200)),
    Route("staff.link_sms", lambda w: f"/staff/texts/unmatched/{w.unmatched_text.id}/link",
          POST=case_a_staff(Go("/staff/texts/unmatched"), other_liaison=422),
          data=lambda w, u: {f"text{w.unmatched_text.id}-member_id": str(w.member_a.id)}),
    # A picture held with an unmatched text: any staff member may see it, as they may read the text.
    Route("staff.sms_picture", lambda w: f"/staff/texts/pictures/{w.unmatched_picture.id}", GET=staff_only(200)),

    # staff: reports and the audit log (supervisors and admins)
    Route("staff.reports", lambda w: "/staff/reports", GET=supervisors_only(200)),
    Route("staff.report_csv", lambda w: "/staff/reports/compliance.csv", GET=supervisors_only(200)),
    Route("staff.audit_log", lambda w: "/staff/audit", GET=supervisors_only(200)),
    Route("staff.audit_csv", lambda w: "/staff/audit.csv", GET=supervisors_only(200)),

    # staff: administration (admins only)
    Route("staff.admin_home", lambda w: "/staff/admin", GET=admin_only(200)),
    Route("staff.admin_users", lambda w: "/staff/admin/users", GET=admin_only(200), POST=admin_only(ADMIN_USER),
          data=lambda w, u: {"new-name": "New Staff Member", "new-email": f"new.{secrets.token_hex(3)}@test.example",
                             "new-role": "liaison", "new-phone": "", "new-language": "en",
                             "new-password": NEW_PASSWORD}),
    Route("staff.admin_user", lambda w: f"/staff/admin/users/{w.account.id}", GET=admin_only(200)),
    Route("staff.admin_user_role", lambda w: f"/staff/admin/users/{w.account.id}/role", POST=admin_only(ADMIN_USER),
          data=lambda w, u: {"role-role": "supervisor"}),
    Route("staff.admin_user_details", lambda w: f"/staff/admin/users/{w.account.id}/details",
          POST=admin_only(ADMIN_USER),
          data=lambda w, u: {"details-name": "Staff Account", "details-phone": "", "details-daily_digest": "y"}),
    Route("staff.admin_user_active", lambda w: f"/staff/admin/users/{w.account.id}/active",
          POST=admin_only(ADMIN_USER), data=lambda w, u: {"active": "0"}),
    Route("staff.admin_agency", lambda w: "/staff/admin/agency", GET=admin_only(200),
          POST=admin_only(Go("/staff/admin/agency")), data=_agency),
    Route("staff.admin_resources", lambda w: "/staff/admin/resources", GET=admin_only(200),
          POST=admin_only(RESOURCES), data=_resource("new")),
    Route("staff.admin_resource", lambda w: f"/staff/admin/resources/{w.resource.id}", GET=admin_only(200),
          POST=admin_only(RESOURCES), data=_resource("edit")),
    Route("staff.admin_resource_delete", lambda w: f"/staff/admin/resources/{w.resource.id}/delete",
          POST=admin_only(RESOURCES), data=NO_DATA),

    # staff: sign-in security (admins only)
    Route("staff.security_accounts", lambda w: "/staff/security", GET=admin_only(200)),
    Route("staff.unlock_account", lambda w: f"/staff/security/users/{w.locked_user.id}/unlock",
          POST=admin_only(Go("/staff/security")), data=NO_DATA),
    Route("staff.reset_mfa", lambda w: f"/staff/security/users/{w.reset_target.id}/reset-mfa",
          POST=admin_only(Go("/staff/security")), data=NO_DATA),

    # --- webhooks (webhooks.*): Twilio signs them instead of a CSRF token. By design every request here lacks a
    # valid X-Twilio-Signature, so every visitor gets 403 (tests/test_webhooks.py sends signed ones). ---------------
    Route("webhooks.status_callback", lambda w: "/webhooks/twilio/status?outbox_id=1", POST=everyone(403),
          csrf_exempt=SIGNED_BY_TWILIO,
          data=lambda w, u: {"MessageSid": "SM" + "2" * 32, "MessageStatus": "delivered"}),
    Route("webhooks.inbound_sms", lambda w: "/webhooks/twilio/sms", POST=everyone(403), csrf_exempt=SIGNED_BY_TWILIO,
          data=lambda w, u: {"MessageSid": "SM" + "3" * 32, "From": w.member_a.phone or "+13125550123",
                             "To": "+13125550100", "Body": "STOP"}),

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
        if table.get(role) not in (None, 403, 404, MFA, FAMILY_HOME, STAFF_HOME):
            return role
    for role in ("anonymous", PENDING):
        if table.get(role) not in (None, 403, 404, LOGIN, MFA):
            return role
    return None
