"""Demo data: an agency, staff, a dozen cases across every stage, with fictional families."""
from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy import select

from .extensions import db
from .models import STAGE_KEYS, AvailabilityWindow, CaseUpdate, ContactConsent, Outreach, Resource, User, utcnow
from .services import accounts, cases
from .services.agency import get_agency
from .services.notifications.consent import WRITTEN_WORDING

DEMO_PASSWORD = "demo portal password"  # noqa: S105  (fictional demo accounts only)

STAFF = [
    ("liaison", "liaison.rivera@demo.example", "Officer Dana Rivera", "+13125550101"),
    ("liaison", "liaison.okafor@demo.example", "Officer Sam Okafor", "+13125550102"),
    ("supervisor", "supervisor.lind@demo.example", "Sgt. Alex Lind", "+13125550103"),
    ("admin", "admin@demo.example", "Pat Admin", None),
]

# (case number, decedent, days since death, stage, liaison index, [family: name, relationship, language, email])
CASES = [
    ("OD-2026-0101", "Jordan Ellis", 3, "opened", 0,
     [("Maria Ellis", "Mother", "en", "family.ellis@demo.example")]),
    ("OD-2026-0102", "Luis Herrera", 1, "opened", 1,
     [("Rosa Herrera", "Mother", "es", "familia.herrera@demo.example")]),
    ("OD-2026-0093", "Tyler Brooks", 40, "awaiting_toxicology", 0, [("Dawn Brooks", "Sister", "en", None)]),
    ("OD-2026-0088", "Ana Morales", 55, "awaiting_toxicology", 1, [("Carlos Morales", "Father", "es", None)]),
    ("OD-2026-0071", "Chris Nguyen", 90, "investigating", 0, [("Linh Nguyen", "Partner", "en", None)]),
    ("OD-2026-0064", "Kayla Price", 120, "investigating", 1, [("Monica Price", "Mother", "en", None)]),
    ("OD-2026-0050", "Devon Carter", 150, "suspect_identified", 0, [("James Carter", "Father", "en", None)]),
    ("OD-2026-0042", "Sofia Ramirez", 180, "referred_to_prosecutor", 1,
     [("Elena Ramirez", "Mother", "es", None), ("Miguel Ramirez", "Brother", "es", None)]),
    ("OD-2025-0311", "Ethan Walsh", 260, "charges_filed", 0, [("Karen Walsh", "Mother", "en", None)]),
    ("OD-2025-0290", "Brianna Scott", 300, "prosecution_declined", 1, [("Terry Scott", "Father", "en", None)]),
    ("OD-2025-0245", "Marcus Hill", 400, "in_court", 0, [("Gloria Hill", "Grandmother", "en", None)]),
    ("OD-2025-0120", "Nina Alvarez", 600, "closed", 1, [("Jorge Alvarez", "Husband", "es", None)]),
]

# (language, title, description, phone, web address): each family reads the services in its own language.
RESOURCES = [
    ("en", "988 Suicide & Crisis Lifeline", "Free, private help any time, day or night, by call or text.", "988",
     "https://988lifeline.org"),
    ("en", "GRASP: grief support after a substance-use death",
     "Support groups for families and friends who lost someone to substance use or addiction.", None,
     "https://grasphelp.org"),
    ("en", "Crime victim compensation",
     "Your state's victim compensation program may help pay for funeral costs and counseling.", None,
     "https://ovc.ojp.gov/states"),
    ("en", "SAMHSA National Helpline", "Free referrals for treatment and support, in English and Spanish.",
     "1-800-662-4357", "https://www.samhsa.gov/find-help/national-helpline"),
    ("es", "988 Línea de Prevención del Suicidio y Crisis",
     "Ayuda gratuita y privada a cualquier hora, de día o de noche, por llamada o mensaje de texto. "
     "Para hablar en español, marque 988 y luego el 2.", "988", "https://988lineadevida.org"),
    ("es", "GRASP: apoyo en el duelo después de una muerte por consumo de sustancias",
     "Grupos de apoyo para familiares y amigos que perdieron a alguien por el consumo de sustancias o una "
     "adicción.", None, "https://grasphelp.org"),
    ("es", "Compensación para víctimas de delitos",
     "El programa de compensación para víctimas de su estado puede ayudar a pagar los gastos del funeral y "
     "la consejería.", None, "https://ovc.ojp.gov/states"),
    ("es", "Línea Nacional de Ayuda de SAMHSA",
     "Referencias gratuitas a tratamiento y apoyo, en inglés y en español.", "1-800-662-4357",
     "https://www.samhsa.gov/find-help/national-helpline"),
]


def _consent_on_record(member, at) -> None:
    """The demo families signed the agency's written consent form when their case opened."""
    member.texts_consent_at = at
    member.texts_consent_method = "written_form"
    member.texts_consent_wording = str(WRITTEN_WORDING)
    member.stop_line_sent_at = at
    db.session.add(ContactConsent(family_member_id=member.id, channel="sms", address=member.phone, event="granted",
                                  method="written_form", wording=member.texts_consent_wording, created_at=at))


def _phone(n: int) -> str:
    return f"+1312555{n:04d}"


def seed_demo() -> tuple[bool, list[tuple[str, str]]]:
    """Create the demo data unless it is already there; returns (created, [(role, email)])."""
    logins = [(role, email) for role, email, _name, _phone_number in STAFF]
    logins.insert(0, ("family", CASES[0][5][0][3]))
    logins.insert(1, ("family (es)", CASES[1][5][0][3]))
    if db.session.scalar(select(User.id).where(User.email == STAFF[0][1])) is not None:
        return False, logins

    agency = get_agency()
    agency.name = "Demo County Police Department"
    agency.timezone = "America/Chicago"
    agency.phone = "+13125550100"
    staff = [accounts.create_user(email=email, name=name, role=role, password=DEMO_PASSWORD, phone=phone,
                                  actor=None)
             for role, email, name, phone in STAFF]
    liaisons = staff[:2]
    now = utcnow()
    phone_counter = 109
    for position, (number, decedent, days_ago, stage, liaison_index, family) in enumerate(CASES):
        liaison = liaisons[liaison_index]
        case = cases.open_case(case_number=number, decedent_name=decedent,
                               date_of_death=date.today() - timedelta(days=days_ago), liaison=liaison,
                               backup_liaison=liaisons[1 - liaison_index] if position % 3 == 0 else None)
        # Older cases were opened the day after the death. The newest two: one 49 hours ago (past the 48-hour
        # first-contact limit: the flag the demo liaison clears) and one 2 hours ago (not due yet).
        if days_ago > 3:
            opened = now - timedelta(days=days_ago - 1)
        else:
            opened = now - timedelta(hours=49 if days_ago == 3 else 2)
        case.opened_at = opened
        case.stage_changed_at = opened
        for index, (name, relation, language, email) in enumerate(family):
            phone_counter += 1
            member = cases.add_family_member(case, name=name, relationship=relation, phone=_phone(phone_counter),
                                             email=email, language=language, is_spokesperson=index == 0, by=None)
            _consent_on_record(member, opened)
            if email:
                user = accounts.create_user(email=email, name=name, role="family", password=DEMO_PASSWORD,
                                            language=language, phone=member.phone, actor=None)
                member.user_id = user.id
        if stage != "opened":
            _walk_stages(case, stage, liaison, opened)
            first = case.family_members[0]
            db.session.add(Outreach(case_id=case.id, family_member_id=first.id, staff_id=liaison.id,
                                    channel="phone", direction="outbound", outcome="reached",
                                    occurred_at=opened + timedelta(hours=20),
                                    notes="Introduced myself; explained the steps.", created_by_id=liaison.id))
            # The others were called lately; these two families show an overdue cadence (and, for Tyler Brooks's
            # sister, no contact since the last stage change): the flags the demo liaison and the journeys clear.
            if number not in ("OD-2026-0050", "OD-2026-0093"):
                db.session.add(Outreach(case_id=case.id, family_member_id=first.id, staff_id=liaison.id,
                                        channel="phone", direction="outbound",
                                        outcome="left_voicemail" if position % 2 else "reached",
                                        occurred_at=now - timedelta(days=position + 1, hours=3),
                                        notes="Checked in.", created_by_id=liaison.id))
        if stage == "closed":
            case.closed_at = now - timedelta(days=10)
    for liaison in liaisons:
        for weekday in (1, 3):  # Tuesday and Thursday evenings, when working families can talk
            db.session.add(AvailabilityWindow(liaison_id=liaison.id, weekday=weekday, start_time=time(17, 0),
                                              end_time=time(19, 0), slot_minutes=30))
        db.session.add(AvailabilityWindow(liaison_id=liaison.id, weekday=5, start_time=time(10, 0),
                                          end_time=time(12, 0), slot_minutes=30))
    for order, (language, title, description, phone, url) in enumerate(RESOURCES):
        db.session.add(Resource(title=title, description=description, phone=phone, url=url, language=language,
                                sort_order=order))
    db.session.flush()
    _seed_family_side(now)
    return True, logins


def _seed_family_side(now) -> None:
    """A few leads, a staff question and a conversation on the two demo families' cases."""
    from .models import Case, CaseMessage, Lead, LeadQuestion
    from .services.leads import new_reference

    for number, leads in (
        ("OD-2026-0101", [("reviewing", "He said he was meeting someone called Ghost at the gas station on 5th.",
                           [{"name": "Ghost", "phone": "", "social": "@ghost_plug_312", "relation": "Sold to him",
                             "knows": "Where the pills came from"}])]),
        ("OD-2026-0102", [("new", "Su amigo Tito estuvo con él la última noche.", [])]),
    ):
        case = db.session.scalar(select(Case).where(Case.case_number == number))
        member = case.family_members[0]
        for status, details, people in leads:
            lead = Lead(reference=new_reference(), case_id=case.id, family_member_id=member.id,
                        submitted_by_id=member.user_id, details=details, people=people, status=status,
                        created_at=now - timedelta(days=1))
            db.session.add(lead)
            db.session.flush()
            if status == "reviewing":
                db.session.add(LeadQuestion(lead_id=lead.id, asked_by_id=case.liaison_id,
                                            question="Do you know what kind of car Ghost drives?"))
        if number == "OD-2026-0101":
            # Maria wrote first. Not a staff message: that would count as the first contact and hide the
            # "no first contact for 49 hours" flag the demo's liaison is meant to see and clear.
            sent = now - timedelta(hours=30)
            message = CaseMessage(case_id=case.id, sender="family", family_member_id=member.id,
                                  author_id=member.user_id, channel="portal",
                                  body="Hello. Is there any news about Jordan? When can we talk?", created_at=sent)
            db.session.add(message)
            db.session.flush()
            db.session.add(Outreach(case_id=case.id, family_member_id=member.id, channel="portal_message",
                                    direction="inbound", outcome="message_received", occurred_at=sent,
                                    is_system=True, source_type="portal_message", source_id=message.id))
    db.session.flush()


def _walk_stages(case, target: str, liaison: User, opened) -> None:
    """Record the stage changes that led the case to its demo stage, spread over its life."""
    path = list(STAGE_KEYS[: STAGE_KEYS.index(target) + 1])
    if target in ("in_court", "closed") and "prosecution_declined" in path:
        path.remove("prosecution_declined")
    if target == "prosecution_declined":
        path = [k for k in path if k != "charges_filed"]
    span = max((utcnow() - opened).days, 1)
    previous = "opened"
    for step, key in enumerate(path[1:], start=1):
        at = opened + timedelta(days=span * step / len(path))
        db.session.add(CaseUpdate(case_id=case.id, author_id=liaison.id, kind="stage_change", family_visible=True,
                                  body="", stage_from=previous, stage_to=key, created_at=at))
        previous = key
    case.stage = target
    case.stage_changed_at = opened + timedelta(days=span * (len(path) - 1) / len(path))
