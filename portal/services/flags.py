"""The flags: one reason a family needs attention each, built from the rows of flag_queries.py.

Most rules are comparisons and run in SQL (ranked_flags); the ones that count business days in the agency's zone
or combine two signals run here on a few candidate rows (pending_flags). Both feed one sorted list. The rules'
numbers and the meaning of "a real contact" are in contact_rules.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l

from ..contact_rules import ACT_NOW, LISTED, SEVERITY_NAMES, add_business_days, cadence_days
from ..display import CADENCE_WORDS, age_words
from ..extensions import db
from ..models import Agency
from .flag_queries import ANCHOR, flag_params, pending_flags, ranked_flags, scope_of
from .notifications import carrier_codes

REASONS = {
    "first_contact": _l("No first contact for %(age)s"),
    "cadence": _l("Not contacted for %(age)s (asked for contact %(cadence)s)"),
    "stage_change": _l("Stage changed %(age)s ago and the family has not been contacted since"),
    "lead_unreviewed": _l("A lead has waited %(age)s for review"),
    "message_unanswered": _l("A message from the family has waited %(age)s for a reply"),
    "text_undelivered": _l("Texts are not getting through for %(age)s: the number may be wrong"),
    "email_undelivered": _l("Email is not getting through for %(age)s: the address may be wrong"),
    "not_textable": _l("This number cannot get texts (%(why)s) for %(age)s: call the family or ask for a mobile "
                       "number"),
    "callback_unconfirmed": _l("A callback request has waited %(age)s for confirmation"),
    "meeting_request": _l("Asked %(age)s ago for a meeting about the prosecutor's decision"),
    "no_show": _l("Missed an appointment %(age)s ago"),
    "do_not_contact": _l("Asked not to be contacted; they will reach out (for %(age)s)"),
}


@dataclass(frozen=True)
class Flag:
    """One reason a family needs attention: what, who, since when and what to do."""

    kind: str
    severity: int
    case_id: int
    case_number: str
    decedent_name: str
    liaison_id: int | None
    liaison_name: str | None
    since: datetime
    now: datetime
    member_id: int | None = None
    member_name: str | None = None
    due_at: datetime | None = None
    ref_id: int | None = None  # the lead, appointment or text behind the flag
    channel: str = "phone"
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def age(self) -> timedelta:
        return self.now - self.since

    @property
    def level(self) -> str:
        return SEVERITY_NAMES[self.severity]

    @property
    def reason(self) -> str:
        """Why, in plain words (in the current language)."""
        cadence = CADENCE_WORDS.get(self.extra.get("cadence", ""), "")
        why = carrier_codes.meaning(self.extra["code"]) if "code" in self.extra else ""
        return str(REASONS[self.kind]) % {"age": age_words(self.age), "cadence": cadence, "why": why}

    @property
    def sort_key(self) -> tuple:
        return (-self.severity, self.since, self.case_number, self.kind, self.member_id or 0)


# Flags whose "log a contact" goes to the member's own preferred way; the others say how themselves.
_PREFERRED_CHANNEL = ("first_contact", "cadence", "stage_change")


def _flag(now: datetime, r, **kw) -> Flag:
    """A Flag from a row that has the case's and member's names; kw gives kind, severity, since and the rest."""
    values = {"case_id": r.case_id, "case_number": r.case_number, "decedent_name": r.decedent_name,
              "liaison_id": r.liaison_id, "liaison_name": r.liaison_name, "now": now, "member_id": r.member_id,
              "member_name": r.member_name, "ref_id": r.ref_id}
    values.update(kw)
    return Flag(**values)


def _due_at(r, agency: Agency) -> datetime | None:
    if r.kind == "first_contact":
        return r.since + timedelta(hours=agency.first_contact_hours)
    if r.kind == "cadence":
        return r.since + timedelta(days=cadence_days(r.cadence, agency.default_cadence_days))
    if r.kind == "stage_change":
        return r.since + timedelta(days=agency.stage_change_contact_days)
    if r.kind == "lead_unreviewed":
        return r.since + timedelta(hours=agency.lead_review_hours)
    return None


def ranked_flag(now: datetime, agency: Agency, r) -> Flag:
    """A flag from a ranked_flags row."""
    extra = {"cadence": r.cadence} if r.kind == "cadence" else {}
    channel = (r.preferred_channel or "phone") if r.kind in _PREFERRED_CHANNEL else "phone"
    return _flag(now, r, kind=r.kind, severity=r.severity, since=r.since, due_at=_due_at(r, agency),
                 channel=channel, extra=extra)


def decide_pending(now: datetime, agency: Agency, rows) -> list[Flag]:
    """Unanswered messages (oldest per case), unconfirmed callbacks, texts and email not getting through."""
    flags: list[Flag] = []
    oldest_message: dict[int, object] = {}
    texts: dict[int, list] = {}
    for r in rows:
        if r.kind == "message":
            if r.case_id not in oldest_message or r.at < oldest_message[r.case_id].at:
                oldest_message[r.case_id] = r
        elif r.kind == "callback":
            due = add_business_days(r.at, agency.callback_confirm_business_days, agency.timezone)
            if now >= due:
                flags.append(_flag(now, r, kind="callback_unconfirmed", severity=ACT_NOW, since=r.at, due_at=due))
        elif r.kind == "email_undelivered":  # a call does not mend an address: it stays until the address works
            flags.append(_flag(now, r, kind="email_undelivered", severity=ACT_NOW, since=r.at))
        elif r.kind in ("text_failed", "phone_flagged"):
            texts.setdefault(r.member_id, []).append(r)
    for member_rows in texts.values():
        r = min(member_rows, key=lambda row: row.at)  # the earlier of a failed text and a flagged number
        if r.member_last is not None and r.member_last >= r.at:
            continue  # someone reached them after the failure: the number works
        if r.not_textable_code:  # the carrier named why: say it, instead of "the number may be wrong"
            flags.append(_flag(now, r, kind="not_textable", severity=ACT_NOW, since=r.at,
                               extra={"code": r.not_textable_code}))
        else:
            flags.append(_flag(now, r, kind="text_undelivered", severity=ACT_NOW, since=r.at))
    for r in oldest_message.values():
        due = add_business_days(r.at, agency.message_reply_business_days, agency.timezone)
        if now >= due:
            flags.append(_flag(now, r, kind="message_unanswered", severity=ACT_NOW, since=r.at, due_at=due,
                               member_name=None, channel="portal_message"))
    return flags


def compute_flags(*, now: datetime, liaison_id: int | None, case_ids, agency: Agency,
                  anchors: bool = False) -> tuple[list[Flag], dict[int, tuple[str, datetime]]]:
    """Every flag in scope, sorted; with anchors=True also {member id: (cadence, anchor)} from the same query."""
    if case_ids is not None:
        case_ids = list(case_ids)
        if not case_ids:
            return [], {}
    scope = scope_of(liaison_id=liaison_id, case_ids=case_ids)
    params = flag_params(now, agency, liaison_id=liaison_id, case_ids=case_ids)
    flags, found = [], {}
    for r in db.session.execute(ranked_flags(scope, anchors=anchors), params):
        if r.severity == ANCHOR:
            found[r.member_id] = (r.cadence, r.since)
        else:
            flags.append(ranked_flag(now, agency, r))
    flags += decide_pending(now, agency, db.session.execute(pending_flags(scope), params))
    return sorted(flags, key=lambda f: f.sort_key), found


@dataclass
class FlagPage:
    """One page of the dashboard: its flags, the first do-not-contact listings, and the totals."""

    flags: list[Flag]
    listed: list[Flag]
    act_now: int
    soon: int
    listed_total: int

    @property
    def total(self) -> int:
        return self.act_now + self.soon


def flag_page(*, now: datetime, liaison_id: int | None, agency: Agency, page: int, per_page: int,
              listed_limit: int) -> FlagPage:
    """Flags page `page` (from 1) as the whole sorted list would show it, reading only what that page needs."""
    scope = scope_of(liaison_id=liaison_id, case_ids=None)
    # The first page * per_page ranked flags, plus a page of slack so that ties at the edge sort as in Python.
    params = flag_params(now, agency, liaison_id=liaison_id, limit=(page + 1) * per_page, listed_limit=listed_limit)
    rows = db.session.execute(ranked_flags(scope, limited=True), params).all()
    act_now = soon = listed_total = 0
    if rows:
        act_now, soon, listed_total = rows[0].act_now, rows[0].soon, rows[0].listed
    ranked = [ranked_flag(now, agency, r) for r in rows]
    pending = decide_pending(now, agency, db.session.execute(pending_flags(scope), params))
    active = sorted([f for f in ranked if f.severity != LISTED] + pending, key=lambda f: f.sort_key)
    start = (page - 1) * per_page
    return FlagPage(flags=active[start:start + per_page], listed=[f for f in ranked if f.severity == LISTED],
                    act_now=act_now + len(pending), soon=soon, listed_total=listed_total)
