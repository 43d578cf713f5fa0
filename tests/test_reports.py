"""Report figures equal those worked out by hand on a small fixture (worked out in the comments)."""
from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from portal.extensions import db
from portal.models import Case
from portal.services import reports as rep
from portal.services.agency import get_agency
from portal.services.contact import due_for_contact

from . import factories
from . import staff_factories as sf
from .conftest import sign_in


def utc(month, day, hour=6):
    """6:00 UTC is midnight in Chicago in February (CST, UTC-6)."""
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


NOW = utc(3, 10, 12)
RANGE = {"start": date(2026, 2, 2), "end": date(2026, 3, 1)}  # Monday 2 Feb to Sunday 1 Mar, local


def _case(liaison, opened, number, closed=None):
    case = factories.make_case(liaison=liaison, number=number, opened_at=opened)
    if closed:
        case.closed_at = closed
        db.session.commit()
    return case


def _member(case, cadence, name):
    return factories.make_family_member(case=case, name=name, cadence=cadence, created_at=case.opened_at)


@pytest.fixture
def fixture(db):
    """Two liaisons, six cases; the figures each test expects are worked out beside each line."""
    a = factories.make_user(role="liaison", name="Ana Peña")
    b = factories.make_user(role="liaison", name="Ben Brown")
    # Case 1 (A), opened before the range; weekly. Due dates from opening (26 Jan): 2 Feb (met by 28 Jan; exactly
    # the range's first instant, so counted), 4 Feb (met by 3 Feb), 10 Feb (missed; 12 Feb was late),
    # 19 Feb (met by 18 Feb), 25 Feb (missed). 5 due, 3 on time.
    c1 = _case(a, utc(1, 26), "C1")
    m1 = _member(c1, "weekly", "Rosa Díaz")
    for when in (utc(1, 28), utc(2, 3), utc(2, 12), utc(2, 18)):
        sf.make_contact(case=c1, member=m1, at=when)
    # Case 2 (A), opened 9 Feb; first contact after 36 hours; every 2 weeks: due 23 Feb (met), 24 Feb 18:00
    # (missed). The other member asked not to be contacted: no due dates.
    c2 = _case(a, utc(2, 9), "C2")
    m2 = _member(c2, "biweekly", "José Núñez")
    _member(c2, "do_not_contact", "Lucía Núñez")
    sf.make_contact(case=c2, member=m2, at=utc(2, 10, 18))
    # Case 3 (B), opened 16 Feb; a visit with the whole family after 24 hours. Weekly member: due 23 Feb (met),
    # 24 Feb (missed). Monthly member: first due 18 Mar, after the range.
    c3 = _case(b, utc(2, 16), "C3")
    _member(c3, "monthly", "Carlos Morales")
    _member(c3, "weekly", "Elena Morales")
    sf.make_contact(case=c3, member=None, at=utc(2, 17), channel="visit")
    # Case 4 (B): closed before the range: in no figure.
    c4 = _case(b, utc(1, 5), "C4", closed=utc(1, 20))
    _member(c4, "weekly", "Old Family")
    # Case 5 (B), opened Friday 20 Feb 12:00 local; only an automatic text, which is not a contact: still waiting.
    c5 = _case(b, utc(2, 20, 18), "C5")
    m6 = _member(c5, "biweekly", "Dawn Brooks")
    sf.make_contact(case=c5, member=m6, at=utc(2, 21), outcome="message_sent", channel="sms", is_system=True,
                    source_type="sms")
    # Case 6 (A), opened at the range's first instant, the only member asked not to be contacted.
    c6 = _case(a, utc(2, 2), "C6")
    _member(c6, "do_not_contact", "Gloria Hill")
    # Leads, by local week (Monday to Sunday).
    # (created, reviewed): week of 2 Feb: 6 h, 48 h, 2 h; week of 9 Feb: one never reviewed; 23 Feb 05:00 UTC is
    # Sunday 22 Feb in Chicago (week of 16 Feb): 4 h; 2 Mar 05:00 UTC is Sunday 1 Mar, still in range: 10 h;
    # 2 Feb 05:00 UTC is Sunday 1 Feb: before the range.
    for case, created, reviewed in ((c1, utc(2, 3, 12), utc(2, 3, 18)), (c1, utc(2, 4, 12), utc(2, 6, 12)),
                                    (c2, utc(2, 5, 12), utc(2, 5, 14)), (c2, utc(2, 10, 12), None),
                                    (c3, utc(2, 23, 5), utc(2, 23, 9)), (c3, utc(3, 2, 5), utc(3, 2, 15)),
                                    (c3, utc(2, 2, 5), utc(2, 2, 6))):
        sf.make_lead(case=case, created_at=created, reviewed_at=reviewed, status="reviewing" if reviewed else "new")
    return {"a": a, "b": b, "cases": [c1, c2, c3, c4, c5, c6]}


@pytest.fixture
def rng(fixture):
    return rep.report_range(tz=get_agency().timezone, today=NOW.date(), **RANGE)


def test_contact_compliance_per_liaison(rng):
    rows = rep.contact_compliance(rng, now=NOW, agency=get_agency())
    assert [(r.liaison_name, r.due, r.on_time, r.missed, r.percent) for r in rows] == [
        ("Ana Peña", 7, 4, 3, 57.1),
        ("Ben Brown", 2, 1, 1, 50.0),
    ]


def test_median_time_to_first_contact(rng):
    rows = rep.first_contact_times(rng, now=NOW)
    # A: C2 after 36 h; C6 still waiting. B: C3 after 24 h; C5 still waiting (an automatic text is no contact).
    assert [(r.liaison_name, r.opened, r.median_hours, r.waiting) for r in rows] == [
        ("Ana Peña", 2, 36.0, 1),
        ("Ben Brown", 2, 24.0, 1),
    ]
    assert rep.overall_median([h for r in rows for h in r.hours]) == 30.0


EXPECTED_OVERDUE = {  # local day -> families overdue at its end (0 on every other day)
    date(2026, 2, 9): 1, date(2026, 2, 10): 1,  # C1: 7 days after 3 Feb, until the 12 Feb call
    date(2026, 2, 22): 1,                         # C5: 48 hours without a first contact
    date(2026, 2, 23): 2,                         # + C3: a week after the 17 Feb visit
    **{date(2026, 2, 24) + timedelta(days=n): 4 for n in range(6)},  # + C1 (7 d after 18 Feb), C2 (14 d)
}


def test_overdue_families_over_time(rng):
    series = rep.overdue_over_time(rng, now=NOW, agency=get_agency())
    assert [day for day, _ in series] == [date(2026, 2, 2) + timedelta(days=n) for n in range(28)]
    assert dict(series) == {day: EXPECTED_OVERDUE.get(day, 0) for day, _ in series}


def test_overdue_over_time_agrees_with_the_flags_at_each_instant(rng, time_machine):
    for day, at in rep.sample_points(rng, NOW):
        flags = due_for_contact(now=at)
        flagged = {f.case_id for f in flags
                   if f.kind == "cadence" or (f.kind == "first_contact" and f.level == "act_now")}
        assert len(flagged) == EXPECTED_OVERDUE.get(day, 0), day


def test_leads_per_week_and_median_time_to_review(rng):
    weeks = rep.leads_per_week(rng, now=NOW)
    assert [(w.week_start, w.received, w.reviewed, w.median_review_hours) for w in weeks] == [
        (date(2026, 2, 2), 3, 3, 6.0),
        (date(2026, 2, 9), 1, 0, None),
        (date(2026, 2, 16), 1, 1, 4.0),
        (date(2026, 2, 23), 1, 1, 10.0),
    ]


def test_default_range_is_the_last_twelve_weeks_and_a_backwards_range_is_turned_around():
    r = rep.report_range(start=None, end=None, tz="America/Chicago", today=date(2026, 3, 10))
    assert (r.start, r.end) == (date(2025, 12, 17), date(2026, 3, 10))
    r = rep.report_range(start=date(2026, 3, 1), end=date(2026, 2, 1), tz="America/Chicago", today=date(2026, 3, 10))
    assert (r.start, r.end) == (date(2026, 2, 1), date(2026, 3, 1))


def test_the_reports_page_shows_each_figure_in_a_table_and_exports_it(app, client, fixture, time_machine):
    time_machine.move_to(NOW, tick=False)
    sign_in(client, factories.make_user(role="supervisor"))
    page = client.get("/staff/reports?start=2026-02-02&end=2026-03-01").get_data(as_text=True)
    for figure in ("Ana Peña", "57.1", "50.0", "36.0", "24.0", "30.0", "6.0", "2026-02-23"):
        assert figure in page, figure
    for key in ("compliance", "first_contact", "overdue", "leads"):
        assert f'data-chart="{key}"' in page
    assert '<script type="application/json" id="report-data">' in page and "js/reports.js" in page
    response = client.get("/staff/reports/compliance.csv?start=2026-02-02&end=2026-03-01")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows == [["Liaison", "Contacts due", "On time", "Late or missed", "Share on time (%)"],
                    ["Ana Peña", "7", "4", "3", "57.1"], ["Ben Brown", "2", "1", "1", "50.0"]]
    overdue = list(csv.reader(io.StringIO(
        client.get("/staff/reports/overdue.csv?start=2026-02-02&end=2026-03-01").data.decode("utf-8-sig"))))
    assert overdue[1:] == [[d.isoformat(), str(EXPECTED_OVERDUE.get(d, 0))]
                           for d in (date(2026, 2, 2) + timedelta(days=n) for n in range(28))]


def test_only_supervisors_and_admins_see_reports(client):
    sign_in(client, factories.make_user(role="liaison"))
    assert client.get("/staff/reports").status_code == 404
    assert client.get("/staff/reports/compliance.csv").status_code == 404


def test_closed_case_is_left_out(fixture, rng):
    c4 = fixture["cases"][3]
    assert db.session.get(Case, c4.id).closed_at is not None
    cases, _contacts, _until = rep._cases_and_contacts(rng, NOW)
    assert c4.id not in {c.id for c in cases}


def test_a_csv_export_builds_only_the_report_asked_for(app, client, fixture, time_machine):
    from portal.sqlcount import count_statements

    time_machine.move_to(NOW, tick=False)
    sign_in(client, factories.make_user(role="supervisor"))
    span = "?start=2026-02-02&end=2026-03-01"
    counts = {}
    for url in ["/staff/reports", *(f"/staff/reports/{name}.csv" for name in ("compliance", "first_contact",
                                                                              "overdue", "leads"))]:
        assert client.get(url + span).status_code == 200  # warm: the signed-in user and agency are read once
        with count_statements(db.engine) as counter:
            assert client.get(url + span).status_code == 200
        counts[url] = counter.count
    page = counts.pop("/staff/reports")
    # The page builds all four reports. If each export built all four too, the four exports together would run
    # about four times what the page runs (16 each, 64 in all, against the page's 17 when this was written); one
    # report each, they run about the page's work plus each request's own few statements.
    assert sum(counts.values()) < 2 * page, (page, counts)
