"""Every migration runs on an empty database and on one with data, and the result matches the models exactly."""
from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import CheckConstraint, MetaData, create_engine, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from portal import create_app
from portal.crypto import is_encrypted
from portal.extensions import db
from portal.models.types import encrypted_columns

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
BEFORE_NOTIFICATIONS = "0005_perf_flags"  # the last revision with sms_outbox and no CHECK constraints


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


@pytest.fixture
def migrated_app(empty_database_url):
    """An app on the empty database, inside its app context; the engine is let go afterwards."""
    mig_app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with mig_app.app_context():
        yield mig_app
        db.session.remove()
        db.engine.dispose()


def _model_checks() -> dict[tuple[str, str], set[str]]:
    """(table, check name) -> the values the models' CHECK constraint allows."""
    checks = {}
    for table in db.metadata.tables.values():
        for constraint in table.constraints:
            if isinstance(constraint, CheckConstraint):
                checks[(table.name, constraint.name)] = set(constraint.sqltext.right.value)
    return checks


def _database_checks() -> dict[tuple[str, str], set[str]]:
    """(table, check name) -> the quoted words in the database's CHECK constraint, as the database reports it."""
    inspector = inspect(db.engine)
    return {(table, check["name"]): set(re.findall(r"'([^']*)'", check["sqltext"]))
            for table in inspector.get_table_names() for check in inspector.get_check_constraints(table)}


def _assert_schema_matches_the_models() -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"
    tables = set(inspect(db.engine).get_table_names())
    assert {"users", "cases", "family_members", "audit_events", "notifications"} <= tables
    assert "sms_outbox" not in tables
    # compare_metadata does not look at CHECK constraints: compare them here, name and vocabulary.
    assert len(_model_checks()) >= 25
    assert _database_checks() == _model_checks()


def test_every_migration_runs_and_matches_the_models(migrated_app):
    upgrade()
    _assert_schema_matches_the_models()
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    # Every downgrade left a database the upgrades can build on again.
    upgrade()
    _assert_schema_matches_the_models()


def _head() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def test_revisions_form_one_chain_numbered_in_order():
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    scripts = ScriptDirectory.from_config(config)
    assert len(scripts.get_heads()) == 1, "two heads: merge or renumber"
    chain = list(reversed(list(scripts.walk_revisions())))  # base first
    numbers = []
    for script in chain:
        assert not script.is_merge_point and not script.is_branch_point, script.revision
        match = re.fullmatch(r"(\d{4})_[a-z0-9_]+", script.revision)
        assert match, f"revision id {script.revision!r} is not NNNN_words"
        assert Path(script.path).name == f"{script.revision}.py", "the file is named after its revision"
        numbers.append(int(match.group(1)))
    assert numbers == list(range(1, len(chain) + 1)), f"revisions out of order: {[s.revision for s in chain]}"
    assert chain[0].down_revision is None
    for previous, script in zip(chain, chain[1:], strict=False):
        assert script.down_revision == previous.revision


def test_flask_db_history_lists_the_revisions_newest_first(migrated_app):
    config = migrated_app.extensions["migrate"].migrate.get_config()
    config.stdout = io.StringIO()  # what `flask db history` prints
    command.history(config)
    revisions = re.findall(r"^\S+ -> (\d{4})_\w+", config.stdout.getvalue(), flags=re.MULTILINE)
    assert revisions[-1] == "0001" and revisions == sorted(revisions, reverse=True)
    assert len(revisions) == len(set(revisions)) >= 7


# --- an existing database with data ----------------------------------------------------------------------------

T0 = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


def _at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def _old_rows() -> dict[str, list[dict]]:
    """Realistic rows for every table 0006 and 0007 touch, in the 0005 schema (fictional people only)."""
    stamps = {"created_at": T0, "updated_at": T0}
    member = {"relationship_to_decedent": "Mother", "timezone": "America/Chicago", "is_spokesperson": True,
              "texts_enabled": True, "detailed_texts": False, "quiet_start": time(21, 0), "quiet_end": time(8, 0),
              **stamps}
    user = {"password_hash": None, "active": True, "session_version": 1, "failed_logins": 0, "daily_digest": False,
            **stamps}
    text_row = {"body": "There is an update on your case.", "kind": "stage_change", "urgent": False, "attempts": 1,
                "case_id": 1, "family_member_id": 1, **stamps}
    outreach = {"case_id": 1, "notes": "", "occurred_at": _at(1), "created_at": _at(1)}
    appointment = {"case_id": 1, "family_member_id": 1, "liaison_id": 1, "reason": "", **stamps}
    return {
        "agency": [{"id": 1, "name": "Metro County Overdose Response", "timezone": "America/Chicago",
                    "first_contact_hours": 48, "first_contact_warning_hours": 24, "default_cadence_days": 14,
                    "stage_change_contact_days": 2, "lead_review_hours": 72, "message_reply_business_days": 1,
                    "callback_confirm_business_days": 1, "updated_at": T0}],
        "users": [
            {"id": 1, "email": "liaison@test.example", "name": "Jordan Liaison", "role": "liaison", "language": "en",
             "phone": "+13125550101", **user},
            {"id": 2, "email": "supervisor@test.example", "name": "Sam Supervisor", "role": "supervisor",
             "language": "en", **user, "daily_digest": True},
            {"id": 3, "email": "rosa@test.example", "name": "Rosa Example", "role": "family", "language": "es", **user},
            {"id": 4, "email": "admin@test.example", "name": "Alex Admin", "role": "admin", "language": "en", **user},
        ],
        "resources": [
            {"id": 1, "title": "988 Lifeline", "description": "Call or text 988.", "phone": "988", "language": None,
             "sort_order": 0, "created_at": T0},
            {"id": 2, "title": "Apoyo en duelo", "description": "Grupo semanal.", "language": "es", "sort_order": 1,
             "created_at": T0},
        ],
        "audit_events": [
            {"id": 1, "occurred_at": T0, "actor_id": 1, "actor_role": "liaison", "action": "case.open",
             "target_type": "cases", "target_id": "1", "ip": "127.0.0.1", "outcome": "ok", "details": {"n": 1}},
            {"id": 2, "occurred_at": T0, "actor_id": None, "actor_role": None, "action": "auth.login",
             "target_type": "users", "target_id": None, "ip": "127.0.0.1", "outcome": "failed", "details": {}},
        ],
        "cases": [
            {"id": 1, "case_number": "OD-2026-0001", "decedent_name": "Daniel Example",
             "date_of_death": date(2026, 10, 1), "stage": "investigating", "stage_changed_at": T0, "liaison_id": 1,
             "backup_liaison_id": 2, "opened_at": T0, **stamps},
            {"id": 2, "case_number": "OD-2026-0002", "decedent_name": "Casey Example", "stage": "closed",
             "stage_changed_at": T0, "liaison_id": 1, "opened_at": T0, "closed_at": _at(2), **stamps},
        ],
        "family_members": [
            {"id": 1, "case_id": 1, "user_id": 3, "name": "Rosa Example", "phone": "+13125550150",
             "email": "rosa@test.example", "language": "es", "cadence": "weekly", "preferred_channel": "sms",
             "texts_consent_at": T0, "texts_consent_method": "verbal, to liaison", **member},
            {"id": 2, "case_id": 1, "user_id": None, "name": "Miguel Example", "phone": None, "language": "en",
             "cadence": "do_not_contact", "preferred_channel": None, **member, "is_spokesperson": False},
            {"id": 3, "case_id": 2, "user_id": None, "name": "Pat Example", "phone": "+13125550177", "language": "en",
             "cadence": "biweekly", "preferred_channel": "letter", **member},
        ],
        "case_updates": [
            {"id": 1, "case_id": 1, "author_id": 1, "kind": "stage_change", "family_visible": True, "body": "",
             "stage_from": "opened", "stage_to": "investigating", "created_at": T0},
            {"id": 2, "case_id": 1, "author_id": 1, "kind": "note", "family_visible": False, "body": "Internal.",
             "stage_from": None, "stage_to": None, "created_at": T0},
            {"id": 3, "case_id": 1, "author_id": None, "kind": "meeting_request", "family_visible": True,
             "body": "Can we meet?", "created_at": T0},
        ],
        "outreach": [
            {"id": 1, "family_member_id": 1, "staff_id": 1, "channel": "phone", "direction": "outbound",
             "outcome": "reached", "is_system": False, "source_type": None, "created_by_id": 1, **outreach},
            {"id": 2, "family_member_id": 1, "channel": "sms", "direction": "outbound", "outcome": "message_sent",
             "is_system": True, "source_type": "sms", "source_id": 3, **outreach},
            {"id": 3, "family_member_id": None, "channel": "portal_message", "direction": "inbound",
             "outcome": "message_received", "is_system": True, "source_type": "portal_message", "source_id": 1,
             **outreach},
            {"id": 4, "family_member_id": 2, "staff_id": 1, "channel": "visit", "direction": "outbound",
             "outcome": "left_voicemail", "is_system": False, "corrects_id": 1, **outreach},
        ],
        "appointments": [
            {"id": 1, "kind": "slot", "mode": "phone", "starts_at": _at(48), "ends_at": _at(48.5), "status": "booked",
             **appointment},
            {"id": 2, "kind": "callback", "mode": "video", "callback_window": "weekday evenings",
             "status": "requested", "liaison_id": None, **{k: v for k, v in appointment.items() if k != "liaison_id"}},
            {"id": 3, "kind": "slot", "mode": "in_person", "starts_at": _at(24), "ends_at": _at(24.5),
             "status": "rescheduled", **appointment},
            {"id": 4, "kind": "slot", "mode": "phone", "starts_at": _at(72), "ends_at": _at(72.5),
             "status": "confirmed", "rescheduled_from_id": 3, "confirmed_at": T0, **appointment},
        ],
        "leads": [
            {"id": 1, "reference": "L-7K2Q", "case_id": 1, "family_member_id": 1, "submitted_by_id": 3,
             "is_anonymous": False, "people": [{"name": "Ghost", "phone": "", "social": "@ghost", "relation": "",
                                                "knows": "sold to him"}],
             "last_48_hours": "He went out.", "supplier": "", "phone_and_accounts": "", "details": "A name.",
             "status": "new", **stamps},
            {"id": 2, "reference": "L-9P3M", "case_id": 1, "is_anonymous": True, "people": [], "last_48_hours": "",
             "supplier": "", "phone_and_accounts": "", "details": "Saw the car.", "status": "reviewing",
             "assigned_to_id": 1, "tip_code": "TIP-1234", **stamps},
        ],
        "sms_outbox": [
            {"id": 1, "to_number": "+13125550150", "language": "es", "status": "queued", "attempts": 0,
             "next_attempt_at": _at(1), **text_row},
            {"id": 2, "to_number": "+13125550150", "language": "es", "status": "sending", "claimed_at": _at(1),
             **text_row},
            {"id": 3, "to_number": "+13125550150", "language": "es", "status": "sent", "provider_sid": "SM0001",
             "sent_at": _at(1), **text_row},
            {"id": 4, "to_number": "+13125550177", "language": "en", "status": "delivered", "provider_sid": "SM0002",
             "sent_at": _at(1), "delivered_at": _at(1.1), **text_row, "case_id": 2, "family_member_id": 3},
            {"id": 5, "to_number": "+13125550177", "language": "en", "status": "failed", "provider_sid": "SM0003",
             "error_code": "30006", **text_row, "case_id": 2, "family_member_id": 3},
            {"id": 6, "to_number": "+13125550101", "language": "en", "status": "deferred", "kind": "digest",
             **{k: v for k, v in text_row.items() if k not in ("kind", "case_id", "family_member_id")}},
            {"id": 7, "to_number": "+13125550150", "language": "es", "status": "blocked", **text_row},
            {"id": 8, "to_number": "+13125550150", "language": "es", "status": "cancelled", **text_row},
            {"id": 9, "to_number": "+13125550150", "language": "es", "status": "undelivered", **text_row},
        ],
        "inbound_sms": [
            {"id": 1, "message_sid": "SMIN0001", "from_number": "+13125550150", "to_number": "+13125550000",
             "body": "Gracias", "handling": "conversation", "family_member_id": 1, "case_id": 1, "received_at": T0},
            {"id": 2, "message_sid": "SMIN0002", "from_number": "+13125550150", "to_number": "+13125550000",
             "body": "STOP", "handling": "keyword", "family_member_id": 1, "case_id": 1, "received_at": T0},
            {"id": 3, "message_sid": "SMIN0003", "from_number": "+13125559999", "to_number": "+13125550000",
             "body": "Who is this?", "handling": "unmatched", "received_at": T0},
        ],
        "case_messages": [
            {"id": 1, "case_id": 1, "sender": "family", "family_member_id": 1, "channel": "portal",
             "body": "Any news?", "created_at": T0},
            {"id": 2, "case_id": 1, "sender": "staff", "author_id": 1, "channel": "portal", "body": "Not yet.",
             "created_at": T0},
            {"id": 3, "case_id": 1, "sender": "family", "family_member_id": 1, "channel": "sms", "body": "Gracias",
             "inbound_sms_id": 1, "created_at": T0},
        ],
    }


def _tables(conn) -> dict:
    metadata = MetaData()
    metadata.reflect(bind=conn)
    return metadata.tables


def _opened(table: str, row: dict) -> dict:
    """A row with its encrypted values opened (0008 encrypts them; the rows must be the same underneath)."""
    kinds = {(t, c): kind for t, c, kind in encrypted_columns(db.metadata)}
    out = {}
    for column, value in row.items():
        kind = kinds.get((table, column))
        out[column] = kind.process_result_value(value, None) if kind is not None and is_encrypted(value) else value
    return out


def _raw_snapshot(names) -> dict[str, list[dict]]:
    """Every row of the named tables, as the database returns them, in id order."""
    with db.engine.connect() as conn:
        tables = _tables(conn)
        return {name: [dict(row._mapping) for row in conn.execute(select(tables[name]).order_by(tables[name].c.id))]
                for name in names}


def _snapshot(names) -> dict[str, list[dict]]:
    """Every row of the named tables in id order, encrypted values opened."""
    return {name: [_opened(name, row) for row in rows] for name, rows in _raw_snapshot(names).items()}


# Columns added later with a server default: the value an old row gets instead of NULL.
ADDED_LATER = {"require_passkeys": False, "source": "portal"}  # a lead before 0015 came through the portal


def _old_columns(after: list[dict], before: list[dict]) -> list[dict]:
    """The rows after an upgrade, cut to the columns they had before; a column added since must be empty."""
    known = set(before[0]) if before else set()
    for row in after:
        assert all(value == ADDED_LATER.get(key) for key, value in row.items() if key not in known), \
            "a new column is not empty"
    return [{key: value for key, value in row.items() if key in known} for row in after]


def _as_notifications(outbox: list[dict]) -> list[dict]:
    """What each sms_outbox row becomes: a notification on the sms channel, to_number as its recipient."""
    rows = []
    for row in outbox:
        row = dict(row)
        row["recipient"] = row.pop("to_number")
        rows.append({**row, "channel": "sms"})
    return rows


def _insert_bad_text(conn) -> None:
    conn.execute(text("INSERT INTO notifications (id, recipient, body, language, kind, urgent, status, attempts, "
                      "created_at, updated_at) VALUES (100, '+13125550150', 'x', 'en', 'test', :f, 'lost', 0, :t, :t)"),
                 {"f": False, "t": T0})


def test_an_existing_database_keeps_every_row_through_the_upgrade_and_back(migrated_app):
    upgrade(revision=BEFORE_NOTIFICATIONS)
    rows = _old_rows()
    with db.engine.begin() as conn:
        tables = _tables(conn)
        for name, table_rows in rows.items():
            for row in table_rows:  # one by one: rows differ in which optional columns they fill
                conn.execute(tables[name].insert().values(**row))
    before = _snapshot(rows)
    assert before["cases"][0]["last_contact_at"] is not None, "the 0005 trigger keeps the latest contact"
    assert all(len(before[name]) == len(rows[name]) for name in rows)

    upgrade()

    after = _snapshot([name for name in rows if name != "sms_outbox"] + ["notifications"])
    for name in rows:
        if name != "sms_outbox":
            assert _old_columns(after[name], before[name]) == before[name], f"{name} changed in the upgrade"
    expected = _as_notifications(before["sms_outbox"])
    assert _old_columns(after["notifications"], expected) == expected
    assert {row["status"] for row in after["notifications"]} == {row["status"] for row in rows["sms_outbox"]}
    _assert_schema_matches_the_models()

    # The CHECK constraints are in force...
    with pytest.raises(IntegrityError, match="ck_notifications_status"), db.engine.begin() as conn:
        _insert_bad_text(conn)
    with pytest.raises(IntegrityError, match="ck_cases_stage"), db.engine.begin() as conn:
        conn.execute(text("UPDATE cases SET stage = 'archived' WHERE id = 1"))
    with pytest.raises(IntegrityError, match="ck_family_members_preferred_channel"), db.engine.begin() as conn:
        conn.execute(text("UPDATE family_members SET preferred_channel = 'pigeon' WHERE id = 2"))
    # ...and the latest-contact trigger still works after the tables were rebuilt (SQLite).
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO outreach (id, case_id, family_member_id, staff_id, channel, direction, "
                          "outcome, occurred_at, notes, is_system, created_at) "
                          "VALUES (5, 2, 3, 1, 'phone', 'outbound', 'reached', :at, '', :f, :at)"),
                     {"at": _at(5), "f": False})
    assert _snapshot(["cases"])["cases"][1]["last_contact_at"] is not None
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM outreach WHERE id = 5"))
        conn.execute(text("UPDATE cases SET last_contact_at = NULL, last_family_contact_at = NULL WHERE id = 2"))
        conn.execute(text("UPDATE family_members SET last_contact_at = NULL WHERE id = 3"))
    assert _old_columns(_snapshot(rows.keys() - {"sms_outbox"})["cases"], before["cases"]) == before["cases"]

    downgrade(revision=BEFORE_NOTIFICATIONS)

    assert "notifications" not in inspect(db.engine).get_table_names()
    assert _snapshot(rows) == before, "a row changed on the way back down"
    with db.engine.begin() as conn:  # no CHECK constraints at 0005
        conn.execute(text("UPDATE leads SET status = 'parked' WHERE id = 1"))


def test_the_downgrade_refuses_to_drop_notifications_sms_outbox_cannot_hold(migrated_app):
    upgrade()
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO notifications (channel, recipient, body, language, kind, urgent, status, "
                          "attempts, created_at, updated_at) VALUES ('email', 'rosa@test.example', 'x', 'en', "
                          "'digest', :f, 'queued', 0, :t, :t)"), {"f": False, "t": T0})
    config = migrated_app.extensions["migrate"].migrate.get_config()
    with pytest.raises(RuntimeError, match="not texts to a phone number"):  # alembic itself: the error, unlogged
        command.downgrade(config, BEFORE_NOTIFICATIONS)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM notifications")).scalar() == 1


def test_the_demo_database_keeps_every_row_when_it_upgrades_from_before_notifications(migrated_app):
    """The demo data (`make run` seeds it) as a database made before 0006 holds it, upgraded to head."""
    from portal.demo import seed_demo
    from portal.models import FamilyMember
    from portal.services.notifications.outbox import queue_family_sms

    upgrade()
    created, _logins = seed_demo()
    db.session.commit()
    assert created
    members = db.session.scalars(select(FamilyMember).where(FamilyMember.phone.is_not(None))
                                 .order_by(FamilyMember.id)).all()
    for member in members[:3]:  # texts, as the running portal leaves them: sent, waiting for daytime...
        queue_family_sms(member, "update", kind="update", urgent=member is members[0])
    db.session.commit()
    db.session.remove()
    with db.engine.connect() as conn:
        names = sorted(t for t in _tables(conn) if t != "alembic_version")
    at_head = _snapshot(names)
    assert sum(len(rows) for rows in at_head.values()) > 100 and at_head["notifications"]
    downgrade(revision=BEFORE_NOTIFICATIONS)  # the demo database as the previous release held it
    with db.engine.connect() as conn:
        old_names = sorted(t for t in _tables(conn) if t != "alembic_version")
    assert "sms_outbox" in old_names and "notifications" not in old_names
    before = _snapshot(old_names)
    later = ("channel", "recipient", "provider_redacted_at", "redact_error", "case_message_id")  # sms_outbox never had
    assert before["sms_outbox"] == [{k: v for k, v in row.items() if k not in later}
                                    | {"to_number": row["recipient"]} for row in at_head["notifications"]]
    upgrade()
    after = _snapshot(names)
    # The consent history is newer than the previous release: what comes back is one "on record before this
    # history" row per member whose consent was kept, and the request and STOP-line times start over.
    consented = [m for m in at_head["family_members"] if m["texts_consent_at"] is not None and m["phone"]]
    history = after.pop("contact_consents")
    assert sorted((row["family_member_id"], row["method"], row["created_at"]) for row in history) \
        == [(m["id"], "before_history", m["texts_consent_at"]) for m in consented]
    assert at_head.pop("contact_consents")
    for table in (at_head, after):
        for member in table["family_members"]:
            member["sms_consent_requested_at"] = member["stop_line_sent_at"] = None
    assert after == at_head  # every other row of every table, value for value
    expected = _as_notifications(before["sms_outbox"])
    assert _old_columns(after["notifications"], expected) == expected


def test_a_database_stamped_before_the_renumbering_upgrades_as_the_same_revision(migrated_app):
    """A developer's or demo's instance/portal.db made by an earlier checkout says 0007_perf_flags (now
    0005_perf_flags): `flask db upgrade` takes it on from there instead of failing to find the revision."""
    upgrade(revision=BEFORE_NOTIFICATIONS)
    rows = _old_rows()
    with db.engine.begin() as conn:
        tables = _tables(conn)
        for name, table_rows in rows.items():
            for row in table_rows:
                conn.execute(tables[name].insert().values(**row))
        conn.execute(text("UPDATE alembic_version SET version_num = '0007_perf_flags'"))
    before = _snapshot(rows)
    upgrade()
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [_head()]
    after = _snapshot([name for name in rows if name != "sms_outbox"] + ["notifications"])
    expected = _as_notifications(before.pop("sms_outbox"))
    assert _old_columns(after["notifications"], expected) == expected
    assert {name: _old_columns(after[name], before[name]) for name in before} == before
