"""The texts policy in numbers: daytime window, quiet hours, retry backoff (Twilio's error codes: carrier_codes.py)."""
from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

from ...display import zone
from ...models import utcnow

DAY_START = time(8, 0)  # non-urgent texts go out between 08:00 and 21:00 in the recipient's time zone
DAY_END = time(21, 0)
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=80)
BACKOFF_FACTOR = 3  # 80 s, 4 min, 12 min, 36 min, 1.8 h, 5.4 h, 16.2 h: the 8th attempt about a day after the 1st
JITTER = 0.2  # each wait is stretched or shrunk by up to 20% so that retries after an outage spread out
PAUSE_AFTER_PROVIDER_ERROR = timedelta(seconds=30)

OPT_OUT_CONFIRMATION = "opt_out_confirmation"  # the one kind of text an opted-out number may still get
CONSENT_REQUEST = "consent_request"  # the one kind of text a number without consent may get
UNMATCHED_RECEIPT = "unmatched_receipt"  # "we got your text" to a sender no single case has: names no case
NOTICE_BATCH = "notice_batch"  # several notices that became one text (services/notifications/notices.py)
# Answers to what the person just texted us (HELP, START, YES): they asked, so they need no consent of their own.
ANSWERS = frozenset({"help_reply", "opt_in_confirmation", "consent_confirmation", "unmatched_receipt"})
STOP_LINE_EVERY = timedelta(days=30)  # the first text after consent, then at most one a month, says "Reply STOP"
OUTBOX_SESSION_KEY = "outbox_new_ids"  # ids of texts to deliver once the session commits (see tasks/delivery.py)


def retry_delay(attempts: int, rng: random.Random | None = None) -> timedelta:
    """How long to wait after the given number of failed attempts: exponential, with jitter."""
    factor = (rng or random).uniform(1 - JITTER, 1 + JITTER)
    return FIRST_RETRY * (BACKOFF_FACTOR ** max(attempts - 1, 0)) * factor


def send_time_for(member) -> datetime:
    """When a non-urgent text to this member may go out: now, or the end of their night or quiet hours (UTC)."""
    return next_send_time(utcnow(), member.timezone, member.quiet_start, member.quiet_end)


def _inside(moment: time, start: time | None, end: time | None) -> bool:
    """Whether moment lies in [start, end), a span that may wrap past midnight; an empty span holds nothing."""
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def may_send_at(local: time, quiet_start: time | None = None, quiet_end: time | None = None) -> bool:
    """Whether a non-urgent text may go out at this local time of day."""
    return DAY_START <= local < DAY_END and not _inside(local, quiet_start, quiet_end)


def next_send_time(now: datetime, tz_name: str | None, quiet_start: time | None = None,
                   quiet_end: time | None = None) -> datetime:
    """now if a non-urgent text may go now; otherwise the first moment it may (UTC)."""
    tz = zone(tz_name)
    local = now.astimezone(tz)
    if may_send_at(local.time(), quiet_start, quiet_end):
        return now
    # The answer changes only at a boundary (08:00, 21:00 or the member's own quiet times), so try those.
    boundaries = {DAY_START, DAY_END} | {b for b in (quiet_start, quiet_end) if b is not None}
    for day in range(3):
        moments = []
        for boundary in boundaries:
            candidate = datetime.combine(local.date() + timedelta(days=day), boundary, tzinfo=tz)
            real = candidate.astimezone(UTC).astimezone(tz)  # normalises a time skipped by a DST change
            if real > local and may_send_at(real.time(), quiet_start, quiet_end):
                moments.append(real)
        if moments:
            return min(moments).astimezone(UTC)
    if quiet_start is not None:  # the member's quiet hours cover the whole day: fall back to the daytime rule
        return next_send_time(now, tz_name)
    raise AssertionError("unreachable: 08:00 always comes")
