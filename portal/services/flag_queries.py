"""The SQL of the contact flags: two statements, whatever the number of cases (rules in flags.py).

1. `ranked_flags`: one UNION ALL that applies the rules which need only comparisons (first contact, cadence, stage
   change, do-not-contact, leads waiting, no-shows, meeting requests), ranked as the page shows them (most severe,
   then longest waiting). With a limit, only the first rows come back, with the totals, so a supervisor's first
   page over a whole agency stays small. It reads the latest contacts kept on cases and family members
   (models/last_contact.py), never all of outreach.
2. `pending_flags`: the candidates of the rules that need Python (business days in the agency's zone, or two
   signals to combine): unanswered family messages, unconfirmed callbacks, texts not getting through, email
   refused. Few rows.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from ..contact_rules import ACT_NOW, CADENCE_DAYS, LISTED, NO_CADENCE, SOON, counts_as_contact
from ..models import (
    Agency,
    Appointment,
    Case,
    CaseMessage,
    CaseUpdate,
    FamilyMember,
    Lead,
    Notification,
    Outreach,
    User,
)
from ..models.types import UTCDateTime
from .notifications.states import FAILED as FAILED_TEXT
from .notifications.states import GOT_THROUGH as GOOD_TEXT

ANCHOR = -1  # not a flag: a member's cadence anchor, for "next contact due" (asked for with anchors=True)


# The statements are built once (building them costs more than running them for one caseload) and take every
# value as a bound parameter: see flag_params().
NOW = bindparam("now", type_=UTCDateTime())
FIRST_CUT, WARNING_CUT = bindparam("first_cut", type_=UTCDateTime()), bindparam("warning_cut", type_=UTCDateTime())
STAGE_CUT, LEAD_CUT = bindparam("stage_cut", type_=UTCDateTime()), bindparam("lead_cut", type_=UTCDateTime())
CADENCE_CUTS = {key: bindparam(f"cut_{key}", type_=UTCDateTime()) for key in CADENCE_DAYS}
DEFAULT_CUT = bindparam("cut_default", type_=UTCDateTime())
LIAISON_ID, CASE_IDS = bindparam("liaison_id", type_=Integer), bindparam("case_ids", expanding=True)
LIMIT, LISTED_LIMIT = bindparam("limit", type_=Integer), bindparam("listed_limit", type_=Integer)


def flag_params(now: datetime, agency: Agency, *, liaison_id: int | None = None, case_ids=None,
                limit: int | None = None, listed_limit: int | None = None) -> dict:
    """The values for the statements below: the moment, the policy's cut-offs, the scope and the page."""
    return {"now": now, "first_cut": now - timedelta(hours=agency.first_contact_hours),
            "warning_cut": now - timedelta(hours=agency.first_contact_warning_hours),
            "stage_cut": now - timedelta(days=agency.stage_change_contact_days),
            "lead_cut": now - timedelta(hours=agency.lead_review_hours),
            "cut_default": now - timedelta(days=agency.default_cadence_days),
            **{f"cut_{key}": now - timedelta(days=days) for key, days in CADENCE_DAYS.items()},
            "liaison_id": liaison_id, "case_ids": list(case_ids) if case_ids is not None else None,
            "limit": limit, "listed_limit": listed_limit or 0}


def scope_of(*, liaison_id: int | None, case_ids) -> str | None:
    """Which statement variant a scope needs."""
    return "cases" if case_ids is not None else "liaison" if liaison_id is not None else None


def latest_contact(*where):
    """A correlated scalar subquery: when the latest real contact matching `where` happened, up to now."""
    return (select(Outreach.occurred_at)
            .where(*where, Outreach.occurred_at <= NOW, counts_as_contact(Outreach, aliased(Outreach)))
            .order_by(Outreach.occurred_at.desc()).limit(1).scalar_subquery())


def kept_or_probe(kept, *where):
    """The kept latest contact; when it lies in the future (logged ahead of the clock) ask outreach up to now."""
    return case((kept > NOW, latest_contact(*where)), else_=kept)


def case_last(c=Case):
    """The latest real contact with anyone on the case."""
    return kept_or_probe(c.last_contact_at, Outreach.case_id == c.id)


def family_last(c=Case):
    """The latest real contact naming no one: it counts for every member of the family."""
    return kept_or_probe(c.last_family_contact_at, Outreach.case_id == c.id, Outreach.family_member_id.is_(None))


def member_last(fm=FamilyMember):
    """The latest real contact naming this member."""
    return kept_or_probe(fm.last_contact_at, Outreach.family_member_id == fm.id)


def cadence_anchor(fm=FamilyMember, c=Case):
    """THE cadence rule's starting point (the cadence flag and "next contact due" both use it): the latest real
    contact with this member or with the whole family, else the case's opening. Automatic texts never count."""
    m, f = member_last(fm), family_last(c)
    return case((m.is_(None), func.coalesce(f, c.opened_at)), (or_(f.is_(None), m >= f), m), else_=f)


def cadence_due_before(fm=FamilyMember):
    """The anchor at or before which the member is due: now minus their cadence (the agency default if unknown)."""
    return case(*[(fm.cadence == key, cut) for key, cut in CADENCE_CUTS.items()], else_=DEFAULT_CUT)


def scoped(stmt, scope: str | None):
    """Limit a statement that involves Case to a caseload (as liaison or backup) or to given cases."""
    if scope == "liaison":
        stmt = stmt.where(or_(Case.liaison_id == LIAISON_ID, Case.backup_liaison_id == LIAISON_ID))
    elif scope == "cases":
        stmt = stmt.where(Case.id.in_(CASE_IDS))
    return stmt


def _row(kind: str, severity, since, case_id, member_id=None, ref_id=None):
    """The union's columns, in order (constants inline so that every database knows their types)."""
    return select(literal_column(f"'{kind}'", String).label("kind"),
                  (severity if not isinstance(severity, int) else literal_column(str(severity), Integer))
                  .label("severity"),
                  since.label("since"), case_id.label("case_id"), Case.case_number.label("case_number"),
                  (member_id if member_id is not None else null().cast(Integer)).label("member_id"),
                  (ref_id if ref_id is not None else null().cast(Integer)).label("ref_id"))


def _first_reachable():
    """The member to call first on the case: the spokesperson, else the first added (not "do not contact")."""
    other = aliased(FamilyMember)
    return (select(other.id).where(other.case_id == Case.id, other.cadence != "do_not_contact")
            .order_by(other.is_spokesperson.desc(), other.id).limit(1).scalar_subquery())


def _flag_branches(scope, anchors: bool):
    is_open = and_(Case.closed_at.is_(None), Case.opened_at <= NOW)
    last = case_last()
    first = _first_reachable()
    anyone = aliased(FamilyMember)
    # A family whose every member asked not to be contacted is listed, never flagged.
    not_waiting_for_them = or_(~exists().where(anyone.case_id == Case.id), first.is_not(None))
    fm = FamilyMember
    anchor = cadence_anchor()
    meeting_at = func.max(CaseUpdate.created_at)
    missed = func.coalesce(Appointment.starts_at, Appointment.updated_at)
    branches = [
        scope(_row("first_contact", case((Case.opened_at <= FIRST_CUT, ACT_NOW), else_=SOON),
                   Case.opened_at, Case.id, first)
              .where(is_open, last.is_(None), not_waiting_for_them,
                     or_(Case.opened_at <= FIRST_CUT, Case.opened_at <= WARNING_CUT))),
        scope(_row("cadence", ACT_NOW, anchor, Case.id, fm.id).select_from(Case).join(fm, fm.case_id == Case.id)
              .where(is_open, fm.cadence.not_in(NO_CADENCE), last.is_not(None),
                     anchor <= cadence_due_before())),
        scope(_row("stage_change", ACT_NOW, Case.stage_changed_at, Case.id, first)
              .where(is_open, Case.stage_changed_at > Case.opened_at,
                     or_(last.is_(None), last < Case.stage_changed_at),
                     Case.stage_changed_at <= STAGE_CUT,
                     not_waiting_for_them)),
        scope(_row("do_not_contact", LISTED, func.coalesce(fm.updated_at, Case.opened_at), Case.id, fm.id)
              .select_from(Case).join(fm, fm.case_id == Case.id).where(is_open, fm.cadence == "do_not_contact")),
        scope(_row("lead_unreviewed", ACT_NOW, Lead.created_at, Lead.case_id, None, Lead.id)
              .join(Case, Case.id == Lead.case_id)
              .where(Lead.status == "new", Lead.created_at <= LEAD_CUT)),
        scope(_row("no_show", ACT_NOW, missed, Appointment.case_id, Appointment.family_member_id, Appointment.id)
              .join(Case, Case.id == Appointment.case_id)
              .where(Appointment.status == "no_show", missed <= NOW, or_(last.is_(None), last < missed))),
        scope(_row("meeting_request", ACT_NOW, meeting_at, CaseUpdate.case_id)
              .join(Case, Case.id == CaseUpdate.case_id)
              .where(CaseUpdate.kind == "meeting_request", CaseUpdate.created_at <= NOW)
              .group_by(CaseUpdate.case_id, Case.id)
              .having(or_(last.is_(None), last < meeting_at))),
    ]
    if anchors:
        branches.append(scope(_row("anchor", ANCHOR, anchor, Case.id, fm.id).select_from(Case)
                              .join(fm, fm.case_id == Case.id)
                              .where(fm.cadence.not_in(NO_CADENCE))))
    return branches


@cache
def ranked_flags(scope: str | None, *, limited: bool = False, anchors: bool = False):
    """The comparison-only flags in scope, most severe and longest waiting first, with names to show.

    `limited`: only the first `limit` flags (and `listed_limit` do-not-contact listings) come back, each row then
    also carrying the totals act_now, soon and listed. `anchors` adds each member's cadence anchor (kind "anchor",
    severity ANCHOR). Values: flag_params().
    """
    u = union_all(*_flag_branches(lambda stmt: scoped(stmt, scope), anchors)).subquery("flags")
    src = u
    if limited:  # rank and cut before joining the names: a supervisor's agency has 60,000 flags
        listed = u.c.severity == LISTED
        ranked = select(
            u, func.row_number().over(partition_by=listed, order_by=_order(u)).label("rank"),
            func.sum(case((u.c.severity == ACT_NOW, 1), else_=0)).over().label("act_now"),
            func.sum(case((u.c.severity == SOON, 1), else_=0)).over().label("soon"),
            func.sum(case((listed, 1), else_=0)).over().label("listed"),
        ).subquery("ranked")
        src = (select(ranked).where(or_(and_(ranked.c.severity == LISTED, ranked.c.rank <= LISTED_LIMIT),
                                        and_(ranked.c.severity != LISTED, ranked.c.rank <= LIMIT)))
               .subquery("page"))
    member = aliased(FamilyMember)
    return (select(src, Case.decedent_name, Case.liaison_id, User.name.label("liaison_name"),
                   member.name.label("member_name"), member.cadence, member.preferred_channel)
            .join(Case, Case.id == src.c.case_id).outerjoin(User, User.id == Case.liaison_id)
            .outerjoin(member, member.id == src.c.member_id).order_by(*_order(src)))


def _order(rows):
    """The dashboard's order (as Flag.sort_key): most severe, longest waiting, then case, kind and member."""
    return (rows.c.severity.desc(), rows.c.since, rows.c.case_number, rows.c.kind, func.coalesce(rows.c.member_id, 0))


@cache
def pending_flags(scope: str | None):
    """Candidates for the flags decided in Python: each already past every check SQL can make cheaply.

    Columns: kind (message, callback, text_failed, phone_flagged, email_undelivered), case_id, member_id, ref_id,
    at, member_last, the names to show and the member's not_textable_code (the carrier said the number cannot get
    texts).
    """
    def in_scope(stmt):
        return scoped(stmt, scope)

    last = case_last()
    staff_reply = aliased(CaseMessage)
    answered = exists().where(staff_reply.case_id == CaseMessage.case_id, staff_reply.sender == "staff",
                              staff_reply.created_at > CaseMessage.created_at, staff_reply.created_at <= NOW)
    good = aliased(Notification)
    later_ok = exists().where(good.family_member_id == Notification.family_member_id, good.status.in_(GOOD_TEXT),
                              good.channel == Notification.channel, good.created_at > Notification.created_at)
    fm = FamilyMember
    mlast = member_last()
    empty_time = null().cast(UTCDateTime)
    branches = [
        # The family wrote after our last contact and no staff reply came after it.
        in_scope(select(literal_column("'message'", String).label("kind"), CaseMessage.case_id.label("case_id"),
                     CaseMessage.family_member_id.label("member_id"), null().cast(Integer).label("ref_id"),
                     CaseMessage.created_at.label("at"), empty_time.label("member_last"))
              .join(Case, Case.id == CaseMessage.case_id)
              .where(CaseMessage.sender == "family", CaseMessage.created_at <= NOW, ~answered,
                     or_(last.is_(None), last < CaseMessage.created_at))),
        in_scope(select(literal_column("'callback'", String), Appointment.case_id, Appointment.family_member_id,
                     Appointment.id, Appointment.created_at, empty_time)
              .join(Case, Case.id == Appointment.case_id)
              .where(Appointment.kind == "callback", Appointment.status == "requested",
                     Appointment.created_at <= NOW, or_(last.is_(None), last < Appointment.created_at))),
        # Texts not getting through: the first failed text to the member's current number with none sent well
        # since, and a number flagged as wrong; flags.py takes the earlier of the two for each member.
        in_scope(select(literal_column("'text_failed'", String), fm.case_id, fm.id, null().cast(Integer),
                     func.min(Notification.updated_at), mlast)
              .select_from(Notification).join(fm, fm.id == Notification.family_member_id)
              .join(Case, Case.id == fm.case_id)
              .where(Notification.status.in_(FAILED_TEXT), Notification.channel == "sms",
                     Notification.recipient == fm.phone,
                     Notification.updated_at <= NOW, ~later_ok)
              .group_by(fm.id, fm.case_id, Case.id)),
        in_scope(select(literal_column("'phone_flagged'", String), fm.case_id, fm.id, null().cast(Integer),
                     fm.phone_flagged_at, mlast)
              .join(Case, Case.id == fm.case_id).where(fm.phone_flagged_at <= NOW)),
        # The mail server refused the member's current address for good (tasks/delivery.py sets and clears it).
        in_scope(select(literal_column("'email_undelivered'", String), fm.case_id, fm.id, null().cast(Integer),
                     fm.email_undelivered_at, mlast)
              .join(Case, Case.id == fm.case_id).where(fm.email_undelivered_at <= NOW)),
    ]
    u = union_all(*branches).subquery("pending")
    member = aliased(FamilyMember)
    return (select(u, Case.case_number, Case.decedent_name, Case.liaison_id, User.name.label("liaison_name"),
                   member.name.label("member_name"), member.phone_not_textable_code.label("not_textable_code"))
            .join(Case, Case.id == u.c.case_id).outerjoin(User, User.id == Case.liaison_id)
            .outerjoin(member, member.id == u.c.member_id))


@cache
def member_anchors():
    """Each member's cadence and cadence anchor (see cadence_anchor); values: now and member_ids."""
    return (select(FamilyMember.id, FamilyMember.cadence, cadence_anchor().label("anchor"))
            .join(Case, Case.id == FamilyMember.case_id)
            .where(FamilyMember.id.in_(bindparam("member_ids", expanding=True))))
