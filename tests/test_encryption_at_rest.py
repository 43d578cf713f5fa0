"""Done when: after a lead, a tip, notes, messages, an inbound text, a queued text and a staff TOTP enrolment each
holding a marker, the marker is nowhere in the raw database (every column of every table, the SQLite file's bytes)
nor in the backup `flask backup` writes; the app still reads every value back."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import bindparam, select, text
from sqlalchemy.engine import make_url

from portal.backup import sqlite_path
from portal.crypto import is_encrypted
from portal.extensions import db
from portal.models import (
    Appointment,
    AvailabilityException,
    CaseMessage,
    CaseUpdate,
    InboundSms,
    Lead,
    LeadNote,
    LeadQuestion,
    Notification,
    Outreach,
    User,
)
from portal.models.types import encrypted_columns
from tests.encryption_world import MARKER, build_world, raw_rows, raw_text


def _sqlite_bytes(app) -> bytes:
    path = sqlite_path(app.config["SQLALCHEMY_DATABASE_URI"])
    db.session.remove()
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    data = path.read_bytes()
    for extra in (Path(f"{path}-wal"), Path(f"{path}-journal")):
        if extra.exists():
            data += extra.read_bytes()
    return data


def test_the_raw_database_holds_no_marker_and_no_totp_secret(app, client):
    world = build_world(client)

    dump = raw_text()
    assert MARKER not in dump
    assert world.totp_secret not in dump
    # Every encrypted column holds only enc1 values (or NULL), the empty strings too.
    rows = raw_rows()
    for table, column, _kind in encrypted_columns(db.metadata):
        values = [row[column] for row in rows[table] if row[column] is not None]
        assert all(is_encrypted(v) for v in values), f"{table}.{column} holds a plain value"
    assert {(t, c) for t, c, _k in encrypted_columns(db.metadata)} >= {
        ("leads", "people"), ("leads", "last_48_hours"), ("leads", "supplier"), ("leads", "phone_and_accounts"),
        ("leads", "details"), ("lead_notes", "body"), ("lead_questions", "question"), ("lead_questions", "answer"),
        ("case_messages", "body"), ("inbound_sms", "body"), ("notifications", "body"), ("users", "totp_secret"),
        ("outreach", "notes"), ("appointments", "reason"), ("appointments", "callback_window"),
        ("availability_exceptions", "reason"), ("case_updates", "body")}
    if make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() == "sqlite":
        data = _sqlite_bytes(app)
        assert MARKER.encode() not in data and world.totp_secret.encode() not in data
        assert b"enc1:" in data

    # ...and the app reads every value back, in its place.
    values = world.values
    leads = {lead.is_anonymous: lead for lead in db.session.scalars(select(Lead))}
    assert leads[False].details == values["leads.details"]
    assert leads[False].people[0]["name"] == values["leads.people"]
    assert leads[False].supplier == values["leads.supplier"]
    assert leads[True].details == values["tip.details"]
    assert db.session.scalar(select(LeadNote.body)) == values["lead_notes.body"]
    question = db.session.scalar(select(LeadQuestion))
    assert (question.question, question.answer) == (values["lead_questions.question"], values["lead_questions.answer"])
    assert set(db.session.scalars(select(CaseMessage.body))) >= {values["case_messages.body"],
                                                                 values["case_messages.staff"],
                                                                 values["inbound_sms.body"]}
    assert db.session.scalar(select(InboundSms.body)) == values["inbound_sms.body"]
    assert values["notifications.body"] in set(db.session.scalars(select(Notification.body)))
    assert db.session.get(User, world.staff.id).totp_secret == world.totp_secret
    assert values["outreach.notes"] in set(db.session.scalars(select(Outreach.notes)))
    callback = db.session.scalar(select(Appointment).where(Appointment.kind == "callback"))
    assert callback.reason == values["appointments.reason"]
    assert callback.callback_window.endswith(values["appointments.callback_window"])
    assert db.session.scalar(select(AvailabilityException.reason)) == values["availability_exceptions.reason"]
    assert values["case_updates.body"] in set(db.session.scalars(select(CaseUpdate.body)))


def _backup(app, tmp_path) -> Path:
    db.session.remove()
    result = app.test_cli_runner().invoke(args=["backup", "--to", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (backup,) = tmp_path.iterdir()
    return backup


def test_the_backup_file_holds_no_marker_and_no_totp_secret(app, client, tmp_path):
    world = build_world(client)
    backend = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()
    if backend == "postgresql" and not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")
    backup = _backup(app, tmp_path)
    if backend == "sqlite":
        readable = backup.read_bytes()
    else:  # the custom format is compressed: turn it back into the plain SQL a thief would read
        done = subprocess.run(["pg_restore", "--data-only", "--file", "-", str(backup)],  # noqa: S603, S607
                              capture_output=True, check=True)
        readable = done.stdout
    assert b"COPY public.leads" in readable or b"CREATE TABLE" in readable or b"leads" in readable
    assert b"enc1:" in readable  # the encrypted values are in the backup...
    assert MARKER.encode() not in readable  # ...and nothing they hold
    assert world.totp_secret.encode() not in readable
    # Control: the same check finds a marker a column stores in the clear (a family member's name).
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE family_members SET name = :n"), {"n": f"Name {MARKER}"})
    for old in tmp_path.iterdir():
        old.unlink()
    second = _backup(app, tmp_path)
    if backend == "sqlite":
        assert MARKER.encode() in second.read_bytes()
    else:
        done = subprocess.run(["pg_restore", "--data-only", "--file", "-", str(second)],  # noqa: S603, S607
                              capture_output=True, check=True)
        assert MARKER.encode() in done.stdout


@pytest.mark.parametrize("condition", [
    lambda: Lead.details == "a tip",
    lambda: Lead.details != "a tip",
    lambda: Lead.details.ilike("%tip%"),
    lambda: Lead.details.contains("tip"),
    lambda: CaseMessage.body.in_(["a", "b"]),
    lambda: Notification.body.startswith("There is"),
    lambda: User.totp_secret == "JBSWY3DPEHPK3PXP",
    lambda: Lead.supplier > "a",
    lambda: Lead.details == bindparam("typed"),
])
def test_an_encrypted_column_refuses_to_be_searched_in_sql(condition):
    """Each value has its own nonce: a condition on the stored text would silently match nothing. It fails loudly."""
    with pytest.raises(TypeError, match="is encrypted: it cannot be compared, searched or sorted in SQL"):
        condition()


def test_an_encrypted_column_still_tests_for_null(db):
    assert db.session.scalar(select(LeadQuestion.id).where(LeadQuestion.answer.is_(None))) is None
    assert db.session.scalar(select(LeadQuestion.id).where(LeadQuestion.answer.is_not(None))) is None
