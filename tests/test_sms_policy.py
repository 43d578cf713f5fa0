"""The texts policy in numbers: daytime window and quiet hours, backoff with jitter, STOP/START/HELP words."""
import random
from datetime import UTC, datetime, time, timedelta

import pytest

from portal.providers.sms import keywords
from portal.providers.sms.segments import gsm_friendly, segment_count
from portal.services.notifications import policy

CHICAGO = "America/Chicago"


def chicago(*args) -> datetime:
    """A Chicago wall-clock time as UTC (March 2026: CST before the 8th, CDT from then on)."""
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo(CHICAGO)).astimezone(UTC)


@pytest.mark.parametrize(("now", "quiet", "expected"), [
    (chicago(2026, 3, 3, 11, 0), None, chicago(2026, 3, 3, 11, 0)),  # daytime: now
    (chicago(2026, 3, 3, 7, 59), None, chicago(2026, 3, 3, 8, 0)),  # early morning: 08:00
    (chicago(2026, 3, 3, 21, 0), None, chicago(2026, 3, 4, 8, 0)),  # 21:00 is already too late
    (chicago(2026, 3, 3, 23, 30), None, chicago(2026, 3, 4, 8, 0)),
    (chicago(2026, 3, 3, 8, 30), (time(22, 0), time(9, 30)), chicago(2026, 3, 3, 9, 30)),  # own later morning
    (chicago(2026, 3, 3, 19, 0), (time(18, 0), time(7, 0)), chicago(2026, 3, 4, 8, 0)),  # own earlier evening
    (chicago(2026, 3, 3, 12, 30), (time(12, 0), time(14, 0)), chicago(2026, 3, 3, 14, 0)),  # a nap in the day
    (chicago(2026, 3, 3, 12, 0), (time(6, 0), time(23, 0)), chicago(2026, 3, 3, 12, 0)),  # "quiet all day": daytime
    (chicago(2026, 3, 7, 23, 0), None, chicago(2026, 3, 8, 8, 0)),  # across the change to daylight time
])
def test_non_urgent_texts_wait_for_the_recipients_daytime(now, quiet, expected):
    assert policy.next_send_time(now, CHICAGO, *(quiet or (None, None))) == expected


def test_daytime_is_the_recipients_own_time_zone():
    now = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)  # 08:00 Chicago, 06:00 Los Angeles, 15:00 Madrid
    assert policy.next_send_time(now, "America/Chicago") == now
    assert policy.next_send_time(now, "America/Los_Angeles") == datetime(2026, 3, 3, 16, 0, tzinfo=UTC)
    assert policy.next_send_time(now, "Europe/Madrid") == now
    assert policy.next_send_time(now, "Not/AZone") == now  # unknown zone: the default, Chicago


def test_backoff_grows_and_is_jittered():
    rng = random.Random(7)
    waits = [policy.retry_delay(n, rng) for n in range(1, policy.MAX_ATTEMPTS)]
    for n, wait in enumerate(waits, start=1):
        base = timedelta(seconds=80 * 3 ** (n - 1))
        assert base * 0.8 <= wait <= base * 1.2
    assert len({policy.retry_delay(1) for _ in range(20)}) > 1  # jitter: not all the same
    total = sum(waits, timedelta())
    assert timedelta(hours=19) < total < timedelta(hours=30)  # 8 attempts spread over about a day


@pytest.mark.parametrize(("body", "expected"), [
    ("STOP", keywords.OPT_OUT), ("stop", keywords.OPT_OUT), (" Stop! ", keywords.OPT_OUT),
    ("STOPALL", keywords.OPT_OUT), ("UNSUBSCRIBE", keywords.OPT_OUT), ("CANCEL", keywords.OPT_OUT),
    ("END", keywords.OPT_OUT), ("QUIT", keywords.OPT_OUT), ("REVOKE", keywords.OPT_OUT),
    ("OPTOUT", keywords.OPT_OUT), ("opt out", keywords.OPT_OUT),
    ("stop texting me", keywords.OPT_OUT), ("Please stop texting me.", keywords.OPT_OUT),
    ("stop sending me messages", keywords.OPT_OUT), ("Don't text me anymore", keywords.OPT_OUT),
    ("no more texts please", keywords.OPT_OUT), ("unsubscribe me", keywords.OPT_OUT),
    ("No me envíes más mensajes", keywords.OPT_OUT), ("deja de mandarme mensajes", keywords.OPT_OUT),
    ("Ya no quiero recibir mensajes", keywords.OPT_OUT), ("PARA", keywords.OPT_OUT),
    ("START", keywords.OPT_IN), ("yes", keywords.OPT_IN), ("UNSTOP", keywords.OPT_IN), ("Sí", keywords.OPT_IN),
    ("HELP", keywords.HELP), ("info", keywords.HELP), ("Ayuda", keywords.HELP),
    ("Can we stop by the station on Friday?", None), ("Please call me", None), ("stop by tomorrow", None),
    ("Thank you, we will be there", None), ("", None), ("I want the texts to stop being so sad", None),
])
def test_keywords_are_recognised_and_ordinary_replies_are_not(body, expected):
    assert keywords.classify(body) == expected


def test_segments_count_gsm7_and_unicode():
    assert segment_count("a" * 160) == ("GSM-7", 160, 1)
    assert segment_count("a" * 161) == ("GSM-7", 161, 2)
    assert segment_count("[" * 80) == ("GSM-7", 160, 1)  # extension characters take two septets
    assert segment_count("á" * 70)[0::2] == ("UCS-2", 1)
    assert segment_count("á" * 71)[0::2] == ("UCS-2", 2)
    assert gsm_friendly("10:00\u202fAM \u2019ok\u2019") == "10:00 AM 'ok'"
