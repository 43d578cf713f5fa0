"""Every migration runs on an empty database, and the result matches the models exactly."""
from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from portal import create_app
from portal.extensions import db


@pytest.fixture
def empty_database_url(app, tmp_path):
    """A brand-new empty database of the same kind as the suite's."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    name = f"mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _assert_schema_matches_the_models() -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"
    tables = set(inspect(db.engine).get_table_names())
    assert {"users", "cases", "family_members", "audit_events", "notifications"} <= tables
    assert "sms_outbox" not in tables


def test_every_migration_runs_and_matches_the_models(empty_database_url):
    mig_app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with mig_app.app_context():
        upgrade()
        _assert_schema_matches_the_models()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        # Every downgrade left a database the upgrades can build on again.
        upgrade()
        _assert_schema_matches_the_models()
        db.engine.dispose()
