"""Faults: SQLite in WAL with synchronous=FULL and a busy timeout; PostgreSQL connections checked before use;
a database that is down answers 503 with Retry-After and no trace; backups that restore to the same rows."""
from __future__ import annotations

import sqlite3
import uuid

import pytest
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from portal import create_app
from portal.backup import backup_postgresql, backup_sqlite, integrity_check
from portal.extensions import db as _db
from portal.extensions import talisman
from portal.models import AuditEvent, Case, FamilyMember, User

from . import factories
from .conftest import csrf_from, sign_in


@pytest.fixture
def isolated_apps():
    """Build extra apps freely: the shared Talisman object is put back afterwards."""
    saved = dict(vars(talisman))
    yield
    vars(talisman).clear()
    vars(talisman).update(saved)


def _sqlite_app(path):
    return create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})


def test_sqlite_runs_in_wal_with_full_sync_and_a_busy_timeout(tmp_path, isolated_apps):
    other = _sqlite_app(tmp_path / "pragmas.db")
    with other.app_context():
        with _db.engine.connect() as conn:
            values = {name: conn.execute(text(f"PRAGMA {name}")).scalar()
                      for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")}
        _db.engine.dispose()
    assert values == {"journal_mode": "wal", "synchronous": 2, "busy_timeout": 10000, "foreign_keys": 1}


def test_postgresql_connections_are_checked_before_use(app):
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
    assert _db.engine.pool._pre_ping is True  # noqa: SLF001


def test_a_request_after_the_database_dropped_every_connection_still_works(app, client, db):
    """Like a PostgreSQL restart: the pool's stale connections are noticed and replaced, nobody sees an error."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    user, _member, case = factories.make_family()
    sign_in(client, user)
    assert client.get(f"/my/cases/{case.id}").status_code == 200
    db.session.remove()  # the test's own connection goes back to the pool too
    admin = create_engine(db.engine.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        killed = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    admin.dispose()
    assert killed >= 1
    assert client.get(f"/my/cases/{case.id}").status_code == 200


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2",
    "sqlite:////nonexistent-directory/for/sure/portal.db",
], ids=["postgresql-refused", "sqlite-unopenable"])
def test_a_database_that_is_down_answers_503_with_retry_after_and_no_trace(app, url, isolated_apps):
    down = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, "PROPAGATE_EXCEPTIONS": False})
    client = down.test_client()
    page = client.get("/login")
    assert page.status_code == 200  # the sign-in page itself needs no database
    response = client.post("/login", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                           "email": "someone@test.example", "password": "a long password here"})
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "Nothing was lost" in body
    for leak in ("Traceback", "psycopg", "sqlite3", "OperationalError", "127.0.0.1:1", "nonexistent-directory"):
        assert leak not in body


def test_a_signed_in_page_with_the_database_down_answers_503(app, client, isolated_apps):
    user, _member, case = factories.make_family()
    sign_in(client, user)
    down = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:1/x",
                                  "PROPAGATE_EXCEPTIONS": False})
    stolen = down.test_client()
    stolen.set_cookie("session", client.get_cookie("session").value)
    response = stolen.get(f"/my/cases/{case.id}")
    assert response.status_code == 503 and "Traceback" not in response.get_data(as_text=True)


def _counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar()  # noqa: S608
                for t in sorted(inspect(engine).get_table_names())}


def _seed_some_rows():
    liaison = factories.make_user(role="liaison")
    for _ in range(3):
        user, member, case = factories.make_family(liaison=liaison)
        factories.make_update(case=case, body="An update")
        factories.make_outreach(case=case, member=member, staff=liaison)


def test_flask_backup_of_sqlite_restores_to_the_same_rows(tmp_path, isolated_apps):
    live = _sqlite_app(tmp_path / "live.db")
    with live.app_context():
        _db.create_all()
        _seed_some_rows()
        before = _counts(_db.engine)
        result = live.test_cli_runner().invoke(args=["backup", "--to", str(tmp_path / "backups")])
        assert result.exit_code == 0, result.output
        assert "Backup written and checked" in result.output
        backup_file = next((tmp_path / "backups").glob("portal-*.db"))
        assert integrity_check(backup_file) == "ok"
        # Disaster: rows are lost. Then the backup is restored.
        with _db.engine.begin() as conn:
            conn.execute(text("DELETE FROM outreach"))
        refused = live.test_cli_runner().invoke(args=["restore", str(backup_file)])
        assert refused.exit_code != 0  # needs --yes
        restored = live.test_cli_runner().invoke(args=["restore", str(backup_file), "--yes"])
        assert restored.exit_code == 0, restored.output
        after = _counts(_db.engine)
        _db.engine.dispose()
    assert sum(before.values()) > 10 and before["outreach"] == 3
    assert after == before


def test_sqlite_backup_works_while_a_writer_holds_the_database(tmp_path, isolated_apps):
    live = _sqlite_app(tmp_path / "busy.db")
    with live.app_context():
        _db.create_all()
        _seed_some_rows()
        _db.engine.dispose()
    writer = sqlite3.connect(tmp_path / "busy.db")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO resources (title, description, sort_order, created_at) "
                   "VALUES ('uncommitted', '', 0, '2026-01-01 00:00:00')")
    try:
        copy = backup_sqlite(f"sqlite:///{tmp_path / 'busy.db'}", tmp_path / "out")
    finally:
        writer.rollback()
        writer.close()
    check = sqlite3.connect(copy)
    assert check.execute("SELECT count(*) FROM users").fetchone()[0] == 4
    assert check.execute("SELECT count(*) FROM resources").fetchone()[0] == 0  # only committed data
    check.close()


def test_pg_dump_backup_restores_to_the_same_rows(app, db, tmp_path):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only (run with TEST_DATABASE_URL)")
    import shutil
    import subprocess

    _seed_some_rows()
    before = _counts(db.engine)
    dump = backup_postgresql(str(db.engine.url.render_as_string(hide_password=False)), tmp_path)
    url = make_url(db.engine.url)
    name = f"restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        target = url.set(database=name, drivername="postgresql").render_as_string(hide_password=False)
        done = subprocess.run([shutil.which("pg_restore"), "--no-owner", "--dbname", target, str(dump)],  # noqa: S603
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        restored = create_engine(url.set(database=name))
        after = _counts(restored)
        with restored.connect() as conn:  # the append-only trigger comes back with the data
            triggers = conn.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).scalars().all()
        restored.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    assert sum(before.values()) > 10 and after == before
    assert "audit_events_append_only" in triggers


def test_counts_cover_the_tables_that_matter(db):
    _seed_some_rows()
    counted = _counts(db.engine)
    for model in (User, Case, FamilyMember, AuditEvent):
        assert counted[model.__tablename__] == db.session.scalar(select(func.count()).select_from(model))


def test_a_connection_lost_mid_request_still_gets_a_proper_answer(app, db, isolated_apps):
    """The database restarts while a request holds a connection: the answer is our page, not a bare server 500
    from closing the dead session at the end of the request (found by bench/pg_restart_leads.py)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    flaky = create_app("testing", {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                   "PROPAGATE_EXCEPTIONS": False})

    @flaky.route("/lose-connection")
    def lose_connection():
        pid = _db.session.execute(text("SELECT pg_backend_pid()")).scalar()  # opens a transaction
        admin = create_engine(_db.engine.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()
        return "answered"

    @flaky.route("/lose-connection-then-query")
    def lose_connection_then_query():
        lose_connection()
        return str(_db.session.execute(text("SELECT 1")).scalar())

    client = flaky.test_client()
    assert client.get("/lose-connection").status_code == 200
    broken = client.get("/lose-connection-then-query")
    assert broken.status_code == 503 and "Nothing was lost" in broken.get_data(as_text=True)
    with flaky.app_context():
        _db.engine.dispose()
