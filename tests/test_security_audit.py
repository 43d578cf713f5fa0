"""The audit trail is append-only: PostgreSQL refuses UPDATE and DELETE (a trigger), the ORM refuses them on
every database, no code path edits it, and the retention (at least a year) is documented."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from portal import audit
from portal.models import AuditEvent
from portal.models.audit import AuditImmutableError

from . import factories
from .test_migrations import empty_database_url  # noqa: F401  (a fixture: a new empty database)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def event(db):
    user = factories.make_user(role="liaison")
    recorded = audit.record("case.view", ("cases", 1), actor=user, ip="127.0.0.1")
    db.session.commit()
    return recorded


def _on_postgresql(db) -> bool:
    return db.engine.dialect.name == "postgresql"


def test_the_orm_refuses_to_change_an_audit_event(db, event):
    event.outcome = "changed"
    with pytest.raises(AuditImmutableError):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(AuditEvent.outcome)) == "ok"


def test_the_orm_refuses_to_delete_an_audit_event(db, event):
    db.session.delete(event)
    with pytest.raises(AuditImmutableError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize("statement", [update(AuditEvent).values(outcome="x"), delete(AuditEvent)],
                         ids=["update", "delete"])
def test_bulk_statements_on_the_audit_table_are_refused(db, event, statement):
    with pytest.raises(AuditImmutableError):
        db.session.execute(statement)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 1


@pytest.mark.parametrize("sql", ["UPDATE audit_events SET outcome = 'tampered'", "DELETE FROM audit_events"])
def test_postgresql_itself_refuses_update_and_delete(db, event, sql):
    if not _on_postgresql(db):
        pytest.skip("the database trigger exists on PostgreSQL (run with TEST_DATABASE_URL)")
    with db.engine.connect() as conn:
        with pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(sql))
        conn.rollback()
    assert db.session.scalar(select(AuditEvent.outcome)) == "ok"


def test_truncate_still_works_on_postgresql_for_deliberate_purges(db, event):
    if not _on_postgresql(db):
        pytest.skip("PostgreSQL only")
    with db.engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_events"))
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_migration_upgrade_creates_a_working_trigger(app, empty_database_url):  # noqa: F811
    if not empty_database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    from flask_migrate import upgrade

    from portal import create_app
    from portal.extensions import db as _db

    mig_app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with mig_app.app_context():
        upgrade()
        with _db.engine.begin() as conn:
            conn.execute(text("INSERT INTO audit_events (occurred_at, action, outcome, details) "
                              "VALUES (now(), 'test', 'ok', '{}')"))
        with _db.engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text("DELETE FROM audit_events"))
        _db.engine.dispose()


def test_no_code_path_edits_or_deletes_audit_events():
    """Only portal/audit.py creates events; nothing in portal/ updates or deletes them."""
    problems = []
    writers = re.compile(r"(?<!class )\bAuditEvent\s*\(")
    editors = re.compile(r"(update|delete)\(\s*AuditEvent\b|audit_events\b.*\b(UPDATE|DELETE)\b|"
                         r"\b(UPDATE|DELETE FROM)\s+audit_events", re.I)
    for path in sorted((ROOT / "portal").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        source = path.read_text(encoding="utf-8")
        if writers.search(source) and rel not in ("portal/audit.py",):
            problems.append(f"{rel} creates AuditEvent rows: use portal.audit.record")
        for line in source.splitlines():
            if editors.search(line) and "refuse" not in line.lower() and "raise" not in line and '"""' not in line:
                problems.append(f"{rel}: {line.strip()}")
    assert not problems, "\n".join(problems)


def test_retention_of_at_least_a_year_is_documented():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Security", 1)[1]
    assert re.search(r"audit_events[^.]*at\s+least\s+(one|1)\s+year", section, re.I | re.S)
