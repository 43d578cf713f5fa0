"""The shape of the large seed: staff, cases walked through their stages, families and when each was last contacted.

Everything is decided here, in memory, before a row is written; seed_rows.py turns it into COPY lines.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

DAY = 86400.0
YEARS = 5
STAGE_DAYS = {  # (min, max) days spent in a stage before the next one
    "opened": (1, 5),
    "awaiting_toxicology": (42, 84),
    "investigating": (60, 300),
    "suspect_identified": (30, 90),
    "referred_to_prosecutor": (30, 90),
    "charges_filed": (30, 120),
    "prosecution_declined": (60, 400),
    "in_court": (120, 500),
}
CADENCE_WEIGHTS = {"biweekly": 55, "monthly": 20, "weekly": 12, "on_change": 8, "do_not_contact": 5}
CADENCE_DAYS = {"weekly": 7, "biweekly": 14, "monthly": 30, "on_change": 45, "do_not_contact": 120}
MEMBERS_PER_CASE = {1: 25, 2: 30, 3: 22, 4: 13, 5: 10}
TIMEZONES = ["America/Chicago"] * 17 + ["America/New_York", "America/Denver", "America/Los_Angeles"]

FIRST = ("Maria Jose Ana Luis Carlos Rosa Elena Miguel Sofia Jorge Lucia Diego Carmen Juan Gloria Pedro Laura "
         "Daniel Karen James Linda Robert Susan Michael Dawn Tyler Kayla Brianna Ethan Devon Marcus Nina Chris "
         "Jordan Taylor Morgan Casey Riley Avery Jamie Quinn Reese Dana Sam Alex Pat Terry Monica Gary Denise Troy "
         "Heather Shawn Crystal Dustin Amber Travis Tasha Brandon Leah").split()
LAST = ("Ellis Herrera Brooks Morales Nguyen Price Carter Ramirez Walsh Scott Hill Alvarez Rivera Okafor Lind "
        "Garcia Martinez Lopez Gonzalez Perez Sanchez Torres Flores Reyes Cruz Ortiz Johnson Miller Davis Wilson "
        "Anderson Thomas Moore Jackson Martin Lee Thompson White Harris Clark Lewis Young Allen King Wright Green "
        "Baker Adams Nelson Campbell Mitchell Roberts Turner Phillips Parker Evans Edwards Collins Stewart Morris "
        "Murphy Cook Rogers Bell Bailey Cooper Howard Ward Peterson Gray Ramos Watson Kim Foster Bryant Russell "
        "Diaz Hayes Myers Ford Hamilton Graham Sullivan Wallace Woods Cole West Jordan Owens Reynolds Fisher").split()
RELATIONS = ("Mother Mother Father Sister Brother Partner Spouse Son Daughter Grandmother Aunt Uncle Cousin "
             "Friend").split()
AREAS = (312, 773, 872, 630, 708, 847, 217, 309, 618, 815, 214, 469, 713, 281, 210, 512, 602, 480, 305, 786)


@dataclass
class World:
    """Every decision about who and when, as parallel lists indexed by (id - 1)."""

    now: float
    rng: random.Random
    scale: float
    staff_roles: list[str] = field(default_factory=list)  # users 1..n_staff
    staff_names: list[str] = field(default_factory=list)
    liaisons: list[int] = field(default_factory=list)  # user ids
    n_family_users: int = 0
    # cases
    c_number: list[str] = field(default_factory=list)
    c_name: list[str] = field(default_factory=list)
    c_opened: list[float] = field(default_factory=list)
    c_end: list[float] = field(default_factory=list)  # closed_at, or now for open cases
    c_closed: list[bool] = field(default_factory=list)
    c_stage: list[str] = field(default_factory=list)
    c_stage_at: list[float] = field(default_factory=list)
    c_path: list[list[tuple[str, float]]] = field(default_factory=list)  # (stage, entered at)
    c_liaison: list[int] = field(default_factory=list)
    c_backup: list[int | None] = field(default_factory=list)
    c_members: list[list[int]] = field(default_factory=list)  # member ids
    c_spanish: list[bool] = field(default_factory=list)
    # family members
    m_case: list[int] = field(default_factory=list)  # case id
    m_name: list[str] = field(default_factory=list)
    m_user: list[int | None] = field(default_factory=list)
    m_phone: list[str | None] = field(default_factory=list)
    m_lang: list[str] = field(default_factory=list)
    m_cadence: list[str] = field(default_factory=list)
    m_texts: list[bool] = field(default_factory=list)
    m_last: list[float | None] = field(default_factory=list)  # last contact, None = never contacted
    m_contacts: list[int] = field(default_factory=list)  # outreach rows to write
    known_family: list[tuple[str, int, int]] = field(default_factory=list)  # (email, member id, case id)

    def person(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"


def build_staff(w: World, n_liaisons: int, n_supervisors: int, n_admins: int) -> list[float]:
    """Staff user ids 1..n; returns each liaison's caseload weight (lognormal: some carry far more)."""
    roles = ["liaison"] * n_liaisons + ["supervisor"] * n_supervisors + ["admin"] * n_admins
    for role in roles:
        w.staff_roles.append(role)
        w.staff_names.append(("Officer " if role == "liaison" else "Sgt. " if role == "supervisor" else "")
                             + w.person())
    w.liaisons = list(range(1, n_liaisons + 1))
    weights = [w.rng.lognormvariate(0, 0.35) for _ in w.liaisons]
    if len(weights) >= 2:
        weights[0] = 1.0  # liaison1: the median caseload
        weights[1] = max(weights) * 1.2  # liaison2: the heaviest
    return weights


def _walk(w: World, opened: float) -> tuple[list[tuple[str, float]], bool]:
    """The stages a case went through until now; returns ([(stage, entered at)], closed)."""
    rng, path, at, stage = w.rng, [("opened", opened)], opened, "opened"
    stall = rng.random() < 0.25  # a quarter never find the supplier and close after a long investigation
    while True:
        lo, hi = STAGE_DAYS[stage]
        if stage == "investigating" and stall:
            lo, hi = 300, 900
        at += rng.uniform(lo, hi) * DAY
        if at > w.now:
            return path, False
        if stage == "opened":
            stage = "awaiting_toxicology"
        elif stage == "awaiting_toxicology":
            stage = "investigating"
        elif stage == "investigating":
            stage = "closed" if stall else "suspect_identified"
        elif stage == "suspect_identified":
            stage = "referred_to_prosecutor"
        elif stage == "referred_to_prosecutor":
            stage = "charges_filed" if rng.random() < 0.55 else "prosecution_declined"
        elif stage == "charges_filed":
            stage = "in_court"
        else:  # in_court, prosecution_declined
            stage = "closed" if stage == "in_court" or rng.random() < 0.7 else "prosecution_declined"
            if path[-1][0] == stage:
                return path, False  # declined and left open
        path.append((stage, at))
        if stage == "closed":
            return path, True


def build_cases(w: World, n_cases: int, weights: list[float]) -> None:
    """Cases over five years (slightly more recent than old), each walked through its stages."""
    rng, span = w.rng, YEARS * 365.25 * DAY
    cum, total = [], 0.0
    for x in weights:
        total += x
        cum.append(total)
    liaison_of = rng.choices(w.liaisons, cum_weights=cum, k=n_cases)
    ages = sorted((rng.random() ** 1.15 * span for _ in range(n_cases)), reverse=True)
    for i in range(n_cases):
        opened = w.now - ages[i]
        path, closed = _walk(w, opened)
        year = 1970 + int(opened // (365.2425 * DAY))
        w.c_number.append(f"OD-{year}-{i + 1:06d}")
        w.c_name.append(w.person())
        w.c_opened.append(opened)
        w.c_path.append(path)
        w.c_stage.append(path[-1][0])
        w.c_stage_at.append(path[-1][1])
        w.c_closed.append(closed)
        w.c_end.append(path[-1][1] if closed else w.now)
        w.c_liaison.append(liaison_of[i])
        w.c_backup.append(rng.choice(w.liaisons) if rng.random() < 0.3 and len(w.liaisons) > 1 else None)
        w.c_spanish.append(rng.random() < 0.2)
        w.c_members.append([])


def build_members(w: World, n_members: int, account_share: float = 0.3) -> None:
    """Family members (1-5 per case, exactly n_members), when each was last contacted, and who has an account."""
    rng, n_cases = w.rng, len(w.c_opened)
    sizes = rng.choices(list(MEMBERS_PER_CASE), weights=list(MEMBERS_PER_CASE.values()), k=n_cases)
    diff = n_members - sum(sizes)
    while diff:
        i = rng.randrange(n_cases)
        step = 1 if diff > 0 else -1
        if 1 <= sizes[i] + step <= 6:
            sizes[i] += step
            diff -= step
    user_id = len(w.staff_roles)
    for c in range(n_cases):
        surname = rng.choice(LAST)
        for k in range(sizes[c]):
            mid = len(w.m_case) + 1
            w.c_members[c].append(mid)
            w.m_case.append(c + 1)
            w.m_name.append(f"{rng.choice(FIRST)} {surname if rng.random() < 0.7 else rng.choice(LAST)}")
            w.m_lang.append("es" if w.c_spanish[c] or rng.random() < 0.05 else "en")
            phone = f"+1{rng.choice(AREAS)}555{rng.randrange(10000):04d}" if rng.random() < 0.92 else None
            w.m_phone.append(phone)
            w.m_texts.append(phone is not None and rng.random() < 0.85)
            cadence = rng.choices(list(CADENCE_WEIGHTS), weights=list(CADENCE_WEIGHTS.values()))[0]
            w.m_cadence.append(cadence)
            has_account = rng.random() < (account_share * 2 if k == 0 else account_share * 0.6)
            if has_account:
                user_id += 1
                w.n_family_users += 1
            w.m_user.append(user_id if has_account else None)
            w.m_last.append(_last_contact(w, c, cadence))


def _last_contact(w: World, c: int, cadence: str) -> float | None:
    """When the team last reached this person: most on time, some overdue, a few long forgotten."""
    rng, opened, end = w.rng, w.c_opened[c], w.c_end[c]
    age = (w.now - opened) / DAY
    if not w.c_closed[c] and age < 2:
        return None if rng.random() < 0.4 else opened + rng.uniform(0.05, age) * DAY  # first contact due
    if w.c_closed[c]:
        return max(opened + DAY, end - rng.uniform(0, 20) * DAY)
    if cadence == "do_not_contact":
        return opened + rng.uniform(1, min(age, 30)) * DAY
    days = CADENCE_DAYS[cadence]
    r = rng.random()
    gap = rng.uniform(0, days) if r < 0.8 else days + rng.uniform(1, 30) if r < 0.95 else days + rng.uniform(30, 120)
    return max(opened + 0.05 * DAY, w.now - min(gap, age - 1) * DAY)


def plan_contacts(w: World, total: int) -> None:
    """How many outreach rows each member gets (exactly `total`): about one per cadence period, scaled."""
    rng = w.rng
    base = []
    for i, last in enumerate(w.m_last):
        if last is None:
            base.append(0)
            continue
        days = CADENCE_DAYS[w.m_cadence[i]]
        base.append(max(1, int((last - w.c_opened[w.m_case[i] - 1]) / DAY / days)))
    reachable = sum(1 for b in base if b)
    extra = sum(b - 1 for b in base if b)
    factor = (total - reachable) / extra if extra else 0.0
    counts = [1 + int((b - 1) * factor) if b else 0 for b in base]
    remainder = total - sum(counts)
    if remainder > 0:
        idx = [i for i, b in enumerate(base) if b]
        for i in rng.choices(idx, weights=[base[j] for j in idx], k=remainder):
            counts[i] += 1
    w.m_contacts = counts


def pick_known_family(w: World, how_many: int, emails: list[str]) -> None:
    """Give the known family accounts to the first member of open cases of liaison1, one per stage if possible."""
    seen, picks = set(), []
    for c in range(len(w.c_opened) - 1, -1, -1):
        if w.c_liaison[c] != 1 or w.c_closed[c] or w.c_stage[c] in seen:
            continue
        mid = w.c_members[c][0]
        if w.m_user[mid - 1] is None or w.m_contacts[mid - 1] < 3:
            continue
        seen.add(w.c_stage[c])
        picks.append((mid, c + 1))
        if len(picks) == how_many:
            break
    w.known_family = [(email, mid, cid) for email, (mid, cid) in zip(emails, picks, strict=False)]
