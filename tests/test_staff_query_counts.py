"""Staff list pages issue the same number of SQL statements with few or many rows (no query per row)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from portal.extensions import db
from portal.models import utcnow

from . import factories
from . import staff_factories as sf
from .conftest import sign_in


def _grow(liaison, case, n):
    """n more of everything on the liaison's caseload and on one case."""
    now = utcnow()
    for i in range(n):
        other = factories.make_case(liaison=liaison, opened_at=now - timedelta(days=30))
        member = factories.make_family_member(case=other)
        sf.make_lead(case=other, created_at=now - timedelta(days=5))
        sf.make_message(case=other, member=member, created_at=now - timedelta(days=4))
        sf.make_appointment(case=other, member=member, status="booked",
                            starts_at=now + timedelta(days=1, minutes=30 * i))
        sf.make_contact(case=case, member=case.family_members[0], at=now - timedelta(days=2), staff=liaison)
        factories.make_update(case=case, author=liaison)
        sf.make_text(member=case.family_members[0])


@pytest.mark.parametrize("url", ["/staff/", "/staff/cases", "/staff/leads", "/staff/appointments?show=all",
                                 "/staff/audit", "CASE"])
def test_statement_count_does_not_grow_with_rows(app, client, url):
    liaison = factories.make_user(role="supervisor")
    case = factories.make_case(liaison=liaison)
    factories.make_family_member(case=case)
    sign_in(client, liaison)
    path = f"/staff/cases/{case.id}" if url == "CASE" else url
    counts = []
    for n in (2, 12):
        _grow(liaison, db.session.merge(case), n)
        client.get(path)  # warm caches (the agency row, the user)
        statements = []

        def count(*_args, statements=statements):
            statements.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        counts.append(len(statements))
    assert counts[0] == counts[1], f"{url}: {counts}"
