"""COPY lines for the smaller tables: agency, resources, availability, lead notes and questions, messages, audit."""
from __future__ import annotations

from collections.abc import Iterator

from .common import row, ts
from .seed_world import DAY, World

RESOURCES = (
    ("988 Suicide & Crisis Lifeline", "Free, private help any time, by call or text.", "988", "https://988lifeline.org"),
    ("Grief support after a substance-use death", "Support groups for families and friends.", None,
     "https://grasphelp.org"),
    ("Crime victim compensation", "May help pay for funeral costs and counseling.", None, "https://ovc.ojp.gov/states"),
)
FAMILY_MESSAGES = ("Is there any news about the lab results?", "Can someone call me after 6?",
                   "I found more messages on his phone.", "¿Hay alguna novedad sobre el caso?",
                   "Thank you for calling.")
STAFF_MESSAGES = ("I will call you tomorrow evening.", "The lab results are not back yet. I will tell you when.",
                  "Thank you. I passed this to the detective.", "Le llamaré mañana por la tarde.")


def agency(w: World) -> Iterator[str]:
    yield row(1, "Demo State Overdose Response Unit", "America/Chicago", "+13125550100", "liaisons@example.gov",
              None, 48, 24, 14, 2, 72, 1, 1, ts(w.now))


def resources(w: World) -> Iterator[str]:
    for n, (title, text, phone, url) in enumerate(RESOURCES, start=1):
        yield row(n, title, text, phone, url, None, n, ts(w.now))


def availability_windows(w: World) -> Iterator[str]:
    n = 0
    for liaison in w.liaisons:
        for weekday, start, end in ((1, "17:00:00", "19:00:00"), (3, "17:00:00", "19:00:00"),
                                    (5, "10:00:00", "12:00:00")):
            n += 1
            yield row(n, liaison, weekday, start, end, 30, ts(w.now - 365 * DAY))


def availability_exceptions(w: World) -> Iterator[str]:
    for n, liaison in enumerate(w.liaisons, start=1):
        yield row(n, liaison, ts(w.now + w.rng.randint(1, 30) * DAY)[:10], None, None, "Training day",
                  ts(w.now - 10 * DAY))


def lead_notes(w: World, meta: list[tuple[int, int, float, int]], total: int) -> Iterator[str]:
    for n, (lead_id, _case, at, liaison) in enumerate(w.rng.sample(meta, min(total, len(meta))), start=1):
        yield row(n, lead_id, liaison, "Passed to the detective on the case.", ts(at + 2 * DAY))


def lead_questions(w: World, meta: list[tuple[int, int, float, int]], total: int) -> Iterator[str]:
    for n, (lead_id, _case, at, liaison) in enumerate(w.rng.sample(meta, min(total, len(meta))), start=1):
        answered = w.rng.random() < 0.5
        yield row(n, lead_id, liaison, "Do you know where they usually met?", ts(at + 3 * DAY),
                  "At the gas station on 5th street." if answered else None, ts(at + 4 * DAY) if answered else None,
                  ts(at + 5 * DAY) if answered else None)


def inbound_and_messages(w: World, n_inbound: int, n_messages: int) -> tuple[list[str], list[str]]:
    """Inbound texts (most from known members) and the case conversations, some messages arriving by text."""
    rng = w.rng
    inbound, messages = [], []
    members = [i for i in range(len(w.m_case)) if w.m_phone[i]]
    for n in range(1, n_inbound + 1):
        i = rng.choice(members)
        c = w.m_case[i] - 1
        at = w.c_opened[c] + rng.random() * (w.c_end[c] - w.c_opened[c])
        known = rng.random() < 0.9
        inbound.append(row(n, f"SMIN{n:030x}", w.m_phone[i], "+13125550100", rng.choice(FAMILY_MESSAGES),
                           "conversation" if known else "unmatched", i + 1 if known else None,
                           c + 1 if known else None, None, None, ts(at)))
        if known and len(messages) < n_messages:
            messages.append(row(len(messages) + 1, c + 1, "family", i + 1, None, "sms", rng.choice(FAMILY_MESSAGES),
                                n, ts(at)))
    with_accounts = [i for i in range(len(w.m_case)) if w.m_user[i]]
    while len(messages) < n_messages:
        i = rng.choice(with_accounts)
        c = w.m_case[i] - 1
        at = w.c_opened[c] + rng.random() * (w.c_end[c] - w.c_opened[c])
        messages.append(row(len(messages) + 1, c + 1, "family", i + 1, None, "portal", rng.choice(FAMILY_MESSAGES),
                            None, ts(at)))
        if len(messages) < n_messages:
            messages.append(row(len(messages) + 1, c + 1, "staff", None, w.c_liaison[c], "portal",
                                rng.choice(STAFF_MESSAGES), None, ts(at + rng.uniform(0.1, 2) * DAY)))
    return inbound, messages


def audit_events(w: World, total: int) -> Iterator[str]:
    """Staff case views and sign-ins (the audit log is append-only; this is its history)."""
    rng, n_cases = w.rng, len(w.c_opened)
    for n in range(1, total + 1):
        c = rng.randrange(n_cases)
        at = ts(w.c_opened[c] + rng.random() * (w.c_end[c] - w.c_opened[c]))
        liaison = w.c_liaison[c]
        if rng.random() < 0.8:
            yield row(n, at, liaison, "liaison", "case.view", "cases", c + 1, "192.0.2.10", "ok", "{}")
        else:
            yield row(n, at, liaison, "liaison", "auth.login", "users", liaison, "192.0.2.10", "ok", "{}")
