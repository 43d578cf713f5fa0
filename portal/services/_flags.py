"""The rules behind due_for_contact(): rows from the two statements in _flag_queries.py in, flags out."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..extensions import db
from ..models import Agency
from ._flag_queries import contact_state, signals
from .contact import ACT_NOW, LISTED, SOON, Flag, add_business_days, cadence_days


@dataclass
class MemberState:
    """One family member as the rules see them."""

    id: int
    name: str
    cadence: str
    is_spokesperson: bool
    preferred_channel: str | None
    updated_at: datetime | None
    last: datetime | None  # latest real contact with this member (None for on_change / do_not_contact)


@dataclass
class CaseState:
    """One case with its family and its latest real contacts."""

    id: int
    case_number: str
    decedent_name: str
    liaison_id: int | None
    liaison_name: str | None
    opened_at: datetime
    stage_changed_at: datetime
    closed_at: datetime | None
    last: datetime | None  # latest real contact with anyone on the case
    family_last: datetime | None  # latest real contact naming no one: it counts for every member
    members: list[MemberState] = field(default_factory=list)

    def anchor(self, member: MemberState) -> datetime:
        """Where the member's cadence counts from: the latest real contact with them or with the whole family
        (a contact naming no one), else the case's opening. Automatic texts never count (counts_as_contact)."""
        contacts = [t for t in (member.last, self.family_last) if t is not None]
        return max(contacts) if contacts else self.opened_at

    def next_due(self, member: MemberState, agency: Agency) -> datetime | None:
        """THE cadence rule, for the flags and both case pages: the family's chosen cadence after the anchor."""
        days = cadence_days(member.cadence, agency)
        return None if days is None else self.anchor(member) + timedelta(days=days)


def load_states(now: datetime, **scope) -> dict[int, CaseState]:
    """The contact state of the cases in scope, in one statement (see _flag_queries.contact_state)."""
    states: dict[int, CaseState] = {}
    for r in db.session.execute(contact_state(now, **scope)):
        state = states.get(r.case_id)
        if state is None:
            state = states[r.case_id] = CaseState(
                r.case_id, r.case_number, r.decedent_name, r.liaison_id, r.liaison_name, r.opened_at,
                r.stage_changed_at, r.closed_at, r.case_last, r.family_last)
        if r.member_id is not None:
            state.members.append(MemberState(r.member_id, r.member_name, r.cadence, r.is_spokesperson,
                                             r.preferred_channel, r.member_updated_at, r.member_last))
    return states


class _Builder:
    """Collects flags with the case details each one shows."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.flags: list[Flag] = []

    def add(self, info, *, kind: str, since: datetime, severity: int = ACT_NOW, member_id: int | None = None,
            member_name: str | None = None, **kw) -> None:
        """info: anything with case_id or id, case_number, decedent_name, liaison_id and liaison_name."""
        case_id = getattr(info, "case_id", None) or info.id
        self.flags.append(Flag(kind=kind, severity=severity, case_id=case_id, case_number=info.case_number,
                               decedent_name=info.decedent_name, liaison_id=info.liaison_id,
                               liaison_name=info.liaison_name, since=since, now=self.now, member_id=member_id,
                               member_name=member_name, **kw))


def _member(m: MemberState | None) -> dict:
    return {"member_id": m.id, "member_name": m.name} if m else {}


def _contact_flags(b: _Builder, case: CaseState, agency: Agency) -> None:
    """First contact, cadence, stage change and do-not-contact, for one open case."""
    now = b.now
    reachable = [m for m in case.members if m.cadence != "do_not_contact"]
    for m in case.members:
        if m.cadence == "do_not_contact":
            b.add(case, kind="do_not_contact", since=m.updated_at or case.opened_at, severity=LISTED, **_member(m))
    if case.members and not reachable:
        return  # the family asked us to wait for them: listed above, never flagged
    first = min(reachable, key=lambda m: (not m.is_spokesperson, m.id)) if reachable else None
    channel = (first.preferred_channel if first else None) or "phone"
    if case.last is None:
        waited = now - case.opened_at
        if waited >= timedelta(hours=agency.first_contact_hours):
            severity = ACT_NOW
        elif waited >= timedelta(hours=agency.first_contact_warning_hours):
            severity = SOON
        else:
            severity = None
        if severity is not None:
            b.add(case, kind="first_contact", since=case.opened_at, severity=severity, channel=channel,
                  due_at=case.opened_at + timedelta(hours=agency.first_contact_hours), **_member(first))
    else:
        for m in reachable:
            due = case.next_due(m, agency)
            if due is not None and now >= due:
                b.add(case, kind="cadence", since=case.anchor(m), due_at=due,
                      channel=m.preferred_channel or "phone", extra={"cadence": m.cadence}, **_member(m))
    changed = case.stage_changed_at
    if changed > case.opened_at and (case.last is None or case.last < changed):
        due = changed + timedelta(days=agency.stage_change_contact_days)
        if now >= due:
            b.add(case, kind="stage_change", since=changed, due_at=due, channel=channel, **_member(first))


def _signal_flags(b: _Builder, rows, agency: Agency) -> None:
    """Leads, messages, texts, callbacks, no-shows and meeting requests (rows from _flag_queries.signals)."""
    now = b.now
    oldest_message: dict[int, object] = {}
    texts: dict[int, list] = {}
    for r in rows:
        contact = r.case_last
        if r.kind == "lead":
            b.add(r, kind="lead_unreviewed", since=r.at, ref_id=r.ref_id,
                  due_at=r.at + timedelta(hours=agency.lead_review_hours))
        elif r.kind == "message":
            if contact is not None and contact >= r.at:
                continue  # answered by a call, a visit or a text after it
            if r.case_id not in oldest_message or r.at < oldest_message[r.case_id].at:
                oldest_message[r.case_id] = r
        elif r.kind in ("text_failed", "phone_flagged"):
            texts.setdefault(r.member_id, []).append(r)
        elif r.kind == "callback":
            if r.at > now or (contact is not None and contact >= r.at):
                continue
            due = add_business_days(r.at, agency.callback_confirm_business_days, agency.timezone)
            if now >= due:
                b.add(r, kind="callback_unconfirmed", since=r.at, due_at=due, ref_id=r.ref_id,
                      member_id=r.member_id, member_name=r.member_name)
        elif r.kind == "no_show":
            if r.at > now or (contact is not None and contact >= r.at):
                continue
            b.add(r, kind="no_show", since=r.at, ref_id=r.ref_id, member_id=r.member_id, member_name=r.member_name)
        elif r.kind == "meeting":
            if contact is None or contact < r.at:
                b.add(r, kind="meeting_request", since=r.at, channel="phone")
    for r in oldest_message.values():
        due = add_business_days(r.at, agency.message_reply_business_days, agency.timezone)
        if now >= due:
            b.add(r, kind="message_unanswered", since=r.at, due_at=due, member_id=r.member_id,
                  channel="portal_message")
    for member_rows in texts.values():
        r = min(member_rows, key=lambda row: row.at)
        if r.member_last is not None and r.member_last >= r.at:
            continue  # someone reached them after the failure: the number works
        b.add(r, kind="text_undelivered", since=r.at, member_id=r.member_id, member_name=r.member_name,
              channel="phone")


def compute_flags(*, now: datetime, liaison_id: int | None, case_ids, agency: Agency,
                  states: dict[int, CaseState] | None = None) -> list[Flag]:
    """All flags in scope, unsorted (due_for_contact sorts); `states` may be given when already loaded."""
    if case_ids is not None:
        case_ids = list(case_ids)
        if not case_ids:
            return []
    scope = {"liaison_id": liaison_id, "case_ids": case_ids}
    if states is None:
        states = load_states(now, **scope)
    b = _Builder(now)
    for state in states.values():
        if state.closed_at is None and state.opened_at <= now:
            _contact_flags(b, state, agency)
    _signal_flags(b, db.session.execute(signals(now, agency, **scope)), agency)
    return b.flags
