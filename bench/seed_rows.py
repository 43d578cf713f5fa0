"""COPY lines for each table, from the World that seed_world.py decided. Fictional people and texts only."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

from .common import esc, row, ts
from .seed_world import DAY, RELATIONS, TIMEZONES, World

CHANNELS = ("phone", "sms", "email", "visit", "letter", "portal_message", "video")
CHANNEL_CUM = (45, 75, 83, 88, 90, 97, 100)
OUTCOMES = {
    "phone": ("reached", "reached", "left_voicemail", "no_answer", "wrong_number", "declined"),
    "sms": ("message_sent",), "email": ("message_sent",), "letter": ("message_sent",),
    "portal_message": ("message_sent", "message_received"), "visit": ("reached", "attended"),
    "video": ("attended", "attended", "no_show"),
}
NOTES = ("", "", "", "Explained the toxicology wait.", "Talked about the next steps.", "Left a callback number.",
         "Family asked about the autopsy report.", "Shared grief support resources.",
         "Mother wants updates by text.", "Asked about court dates.", "No answer; will try in the evening.")
SMS_BODY = {
    "en": "There is an update from Demo County Police Department. Sign in to read it: https://portal.example.gov/my",
    "es": "Hay novedades de Demo County Police Department. Entre para leerlas: https://portal.example.gov/my",
}
SMS_KINDS = ("case_update", "case_update", "message_notice", "message_notice", "appointment_reminder",
             "stage_change", "invite")
SMS_STATUS_CUM = (("delivered", 88), ("sent", 92), ("undelivered", 94), ("failed", 95), ("blocked", 97),
                  ("cancelled", 100))
UPDATE_TEXTS = ("The lab results came back. Detectives now know which drugs were involved.",
                "Detectives talked to two people who knew your son. We will keep you posted.",
                "The medical examiner's report is ready. Your liaison can go through it with you.",
                "We followed up on the names you gave us.", "Nothing new this week. The case is still open.")
NOTE_TEXTS = ("Brother may know the supplier; follow up.", "Phone extraction requested.",
              "Family upset about the wait; call weekly.", "Tip about a dealer on the east side.")
LEAD_DETAILS = ("He was texting someone called 'Ghost' the night before.", "A friend drove him to meet someone.",
                "Check his Snapchat; the dealer posted menus there.", "Her roommate knows who sold the pills.")
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
WHOLE_FAMILY_SHARE = 0.4  # of staff visits and letters: with the whole family, naming no one
CORRECTION_SHARE = 0.002  # of logged entries: corrected by a later entry
MEETING_REQUEST_SHARE = 0.3  # of declined cases: the family asked for a meeting about it


def _code(n: int, length: int = 8) -> str:
    """A short unambiguous code, unique for each n (a bijective scramble of 40 bits)."""
    x = (n * 0x9E3779B1 + 0x5BD1E995) % (1 << 40)
    chars = []
    for _ in range(length):
        chars.append(CROCKFORD[x & 31])
        x >>= 5
    return "".join(chars)


def users(w: World, password_hash: str, totp_secret: str, known_staff: dict[int, str],
          known_family: dict[int, str]) -> Iterator[str]:
    """Staff (enrolled in MFA with one known secret), then family accounts."""
    created = ts(w.now - 5 * 365 * DAY)
    for i, role in enumerate(w.staff_roles, start=1):
        email = known_staff.get(i, f"{role}{i}@staff.bench.example")
        yield row(i, email, esc(w.staff_names[i - 1]), f"+1312556{i:04d}", role, "en", password_hash, True, 1,
                  totp_secret, created, None, None, None, created, created)
    for mid, uid in enumerate(w.m_user, start=1):
        if uid is None:
            continue
        email = known_family.get(mid, f"member{mid}@families.bench.example")
        at = ts(w.c_opened[w.m_case[mid - 1] - 1] + 2 * DAY)
        yield row(uid, email, esc(w.m_name[mid - 1]), w.m_phone[mid - 1], "family", w.m_lang[mid - 1],
                  password_hash, True, 1, None, None, None, None, None, at, at)


def cases(w: World) -> Iterator[str]:
    for i in range(len(w.c_opened)):
        opened = w.c_opened[i]
        dod = ts(opened - w.rng.uniform(0, 3) * DAY)[:10]
        yield row(i + 1, w.c_number[i], esc(w.c_name[i]), dod, w.c_stage[i], ts(w.c_stage_at[i]), w.c_liaison[i],
                  w.c_backup[i], ts(opened), ts(w.c_end[i]) if w.c_closed[i] else None, ts(opened),
                  ts(w.c_stage_at[i]))


def family_members(w: World) -> Iterator[str]:
    rng = w.rng
    for i in range(len(w.m_case)):
        c = w.m_case[i] - 1
        at = w.c_opened[c] + rng.uniform(0.05, 1) * DAY
        texts = w.m_texts[i]
        email = f"{w.m_name[i].split()[0].lower()}{i + 1}@example.net" if rng.random() < 0.4 else None
        opted_out = ts(at + 20 * DAY) if texts and rng.random() < 0.03 else None
        flagged = ts(at + 5 * DAY) if w.m_phone[i] and rng.random() < 0.02 else None
        yield row(i + 1, c + 1, w.m_user[i], esc(w.m_name[i]), rng.choice(RELATIONS), w.m_phone[i], email,
                  w.m_lang[i], rng.choice(TIMEZONES), w.c_members[c][0] == i + 1, texts,
                  ts(at) if texts else None, "Yes, you can text me about the case." if texts else None,
                  "verbal, to liaison" if texts else None, texts and rng.random() < 0.2, "21:00:00", "08:00:00",
                  w.m_cadence[i], rng.choice(("phone", "sms", None)), None, opted_out, flagged, ts(at), ts(at))


def invitations(w: World) -> Iterator[str]:
    n = 0
    for mid, uid in enumerate(w.m_user, start=1):
        if uid is None:
            continue
        n += 1
        at = w.c_opened[w.m_case[mid - 1] - 1] + DAY
        token = hashlib.sha256(f"bench-invite-{mid}".encode()).hexdigest()
        yield row(n, mid, token, w.c_liaison[w.m_case[mid - 1] - 1], ts(at), ts(at + 3 * DAY), ts(at + DAY), None)


def case_updates(w: World) -> Iterator[str]:
    """Every stage change (family-visible), plus a few written updates and internal notes per case."""
    rng, n = w.rng, 0
    for c, path in enumerate(w.c_path):
        author = w.c_liaison[c]
        for (before, _), (stage, at) in zip(path, path[1:], strict=False):
            n += 1
            yield row(n, c + 1, author, "stage_change", True, "", before, stage, ts(at))
        span = w.c_end[c] - w.c_opened[c]
        for _ in range(rng.choice((0, 1, 1, 2))):
            n += 1
            yield row(n, c + 1, author, "update", True, rng.choice(UPDATE_TEXTS), None, None,
                      ts(w.c_opened[c] + rng.random() * span))
        if rng.random() < 0.5:
            n += 1
            yield row(n, c + 1, author, "note", False, rng.choice(NOTE_TEXTS), None, None,
                      ts(w.c_opened[c] + rng.random() * span))
        if w.c_stage[c] == "prosecution_declined" and rng.random() < MEETING_REQUEST_SHARE:
            n += 1  # the family asked to meet about the decision (written by a family account: no staff author)
            yield row(n, c + 1, None, "meeting_request", False, "The family asked for a meeting about the decision.",
                      None, None, ts(w.c_stage_at[c] + rng.random() * (w.c_end[c] - w.c_stage_at[c])))


def outreach(w: World) -> Iterator[str]:
    """Each member's planned contacts between the first (about a day after opening) and the last contact.

    Some visits and letters name no one (the whole family), and a few logged entries are corrected by a later one.
    """
    rng, n, staff_n = w.rng, 0, len(w.staff_roles)
    for i, k in enumerate(w.m_contacts):
        if not k:
            continue
        c = w.m_case[i] - 1
        last = w.m_last[i]
        first = min(last, w.c_opened[c] + rng.uniform(0.1, 2) * DAY)
        times = [last] + ([first] if k > 1 else []) + [rng.uniform(first, last) for _ in range(k - 2)]
        channels = rng.choices(CHANNELS, cum_weights=CHANNEL_CUM, k=k)
        liaison, backup = w.c_liaison[c], w.c_backup[c]
        for at, channel in zip(times, channels, strict=True):
            n += 1
            r = rng.random()
            system = channel in ("sms", "portal_message") and r < 0.5
            staff = None if system else (liaison if r < 0.85 else (backup or liaison) if r < 0.95
                                         else rng.randint(1, staff_n))
            outcome = rng.choice(OUTCOMES[channel])
            direction = "inbound" if outcome == "message_received" else "outbound"
            stamp = ts(at)
            member = None if channel in ("visit", "letter") and r < WHOLE_FAMILY_SHARE else i + 1
            yield row(n, c + 1, member, staff, channel, direction, outcome, stamp,
                      "" if system else rng.choice(NOTES), system, channel if system else None, None, None, staff,
                      stamp)
            if not system and rng.random() < CORRECTION_SHARE:
                n += 1  # "it was a voicemail, not a talk": the correction replaces the entry above
                yield row(n, c + 1, member, staff, channel, direction, "no_answer", stamp, "Correction.", False, None,
                          None, n - 1, staff, stamp)


def notifications(w: World, total: int) -> Iterator[str]:
    """Texts to members who take them, spread over their cases' lives; every one already handled."""
    rng = w.rng
    idx = [i for i in range(len(w.m_case)) if w.m_texts[i]]
    weights = [w.c_end[w.m_case[i] - 1] - w.c_opened[w.m_case[i] - 1] + 30 * DAY for i in idx]
    statuses = [s for s, _ in SMS_STATUS_CUM]
    cum = [c for _, c in SMS_STATUS_CUM]
    picks = rng.choices(idx, weights=weights, k=total)
    status_of = rng.choices(statuses, cum_weights=cum, k=total)
    for n, (i, status) in enumerate(zip(picks, status_of, strict=True), start=1):
        c = w.m_case[i] - 1
        at = w.c_opened[c] + rng.random() * (w.c_end[c] - w.c_opened[c])
        stamp, later = ts(at), ts(at + 5)
        handed = status not in ("blocked", "cancelled")
        yield row(n, "sms", w.m_phone[i], SMS_BODY[w.m_lang[i]], w.m_lang[i], rng.choice(SMS_KINDS), False, status,
                  1 if handed else 0, None, stamp if handed else None, f"SM{n:032x}" if handed else None,
                  "30003" if status in ("undelivered", "failed") else None, c + 1, i + 1, stamp, later,
                  stamp if handed else None, later if status == "delivered" else None)


def leads_and_tips(w: World, total: int) -> tuple[list[str], list[str], list[tuple[int, int, float, int]]]:
    """Leads (family-submitted where the family has an account, else anonymous tips through a tip link)."""
    rng = w.rng
    weight = {"opened": 1, "awaiting_toxicology": 2, "investigating": 5, "suspect_identified": 4,
              "referred_to_prosecutor": 2, "charges_filed": 2, "prosecution_declined": 2, "in_court": 1, "closed": 1}
    case_w = [weight[s] for s in w.c_stage]
    picks = rng.choices(range(len(w.c_stage)), weights=case_w, k=total)
    tips: dict[int, int] = {}
    tip_lines, lead_lines, meta = [], [], []
    for n, c in enumerate(picks, start=1):
        at = w.c_opened[c] + rng.uniform(0.1, 1) * (w.c_end[c] - w.c_opened[c])
        member = next((m for m in w.c_members[c] if w.m_user[m - 1]), None)
        anonymous = member is None or rng.random() < 0.3
        tip_link = None
        if anonymous:
            if c not in tips:
                tips[c] = len(tips) + 1
                token = hashlib.sha256(f"bench-tip-{c}".encode()).hexdigest()
                tip_lines.append(row(tips[c], c + 1, token, w.c_members[c][0], ts(w.c_opened[c] + DAY), None))
            tip_link, member = tips[c], None
        age_days = (w.now - at) / DAY
        status = "new" if age_days < rng.uniform(1, 6) else rng.choice(
            ("reviewing", "assigned", "followed_up", "closed", "closed"))
        liaison = w.c_liaison[c]
        people = json.dumps([{"name": f"{rng.choice(('Ghost', 'Lil', 'Big', 'Slim'))} {rng.choice(('T', 'Mo', 'J'))}",
                              "phone": "", "social": "@" + _code(n, 6).lower(), "relation": "dealer",
                              "knows": "sold to him"}]) if rng.random() < 0.6 else "[]"
        lead_lines.append(row(
            n, "L-" + _code(n, 8)[:4] + "-" + _code(n, 8)[4:], c + 1, member,
            w.m_user[member - 1] if member else None, tip_link, anonymous, people, "", "", "",
            rng.choice(LEAD_DETAILS), status, liaison if status != "new" else None,
            ts(at + DAY) if status != "new" else None, f"{n:064x}", "T" + _code(n * 7 + 3, 8) if anonymous else None,
            "$argon2id$bench-placeholder" if anonymous else None, ts(at), ts(at)))
        meta.append((n, c + 1, at, liaison))
    return tip_lines, lead_lines, meta


def appointments(w: World, total: int) -> Iterator[str]:
    """Mostly past (completed, cancelled, no-show); 5 % in the next two weeks, each on a free slot."""
    rng, taken = w.rng, set()
    open_cases = [c for c in range(len(w.c_opened)) if not w.c_closed[c]] or list(range(len(w.c_opened)))
    for n in range(1, total + 1):
        future = rng.random() < 0.05
        c = rng.choice(open_cases) if future or rng.random() < 0.5 else rng.randrange(len(w.c_opened))
        liaison, member = w.c_liaison[c], rng.choice(w.c_members[c])
        kind = "slot" if rng.random() < 0.8 else "callback"
        if future:
            while True:
                slot = int(w.now // 1800 + rng.randint(48, 14 * 48)) * 1800
                if (liaison, slot) not in taken:
                    taken.add((liaison, slot))
                    break
            status = rng.choice(("booked", "confirmed")) if kind == "slot" else "requested"
        else:
            slot = int((w.c_opened[c] + rng.random() * (min(w.c_end[c], w.now - DAY) - w.c_opened[c])) // 1800) * 1800
            status = rng.choices(("completed", "cancelled", "no_show", "rescheduled"), weights=(75, 12, 8, 5))[0]
            if kind == "callback":
                status = "completed"
        created = ts(slot - rng.uniform(1, 10) * DAY)
        yield row(n, c + 1, member, liaison, kind, rng.choice(("phone", "phone", "video", "in_person")),
                  ts(slot) if kind == "slot" else None, ts(slot + 1800) if kind == "slot" else None,
                  "Weekday evenings after 6" if kind == "callback" else None, "Questions about the case",
                  status, created if status in ("confirmed", "completed") else None,
                  ts(slot - DAY) if status == "cancelled" else None, ts(slot + 1800) if status == "completed" else None,
                  None, None, None, created, created)
