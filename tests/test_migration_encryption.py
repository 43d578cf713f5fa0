"""0008_field_encryption: existing rows come out encrypted (nothing readable in the raw tables), the same underneath,
readable by the app; the downgrade gives back the rows exactly; a re-run after an interruption encrypts nothing
twice; the demo database survives the round trip."""
from __future__ import annotations

from datetime import date

import pytest
from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text
from sqlalchemy.orm import load_only

from portal.crypto import is_encrypted, key_id_of
from portal.extensions import db
from portal.models.types import encrypted_columns
from tests.test_migrations import (  # noqa: F401  (fixtures)
    BEFORE_NOTIFICATIONS,
    T0,
    _old_rows,
    _raw_snapshot,
    _snapshot,
    _tables,
    empty_database_url,
    migrated_app,
)

BEFORE = "0007_check_constraints"
ENCRYPTED = "0008_field_encryption"
CONTACT = "0012_encrypt_contact_notes"
CONTACT_COLUMNS = (("outreach", "notes"), ("appointments", "reason"), ("appointments", "callback_window"),
                   ("availability_exceptions", "reason"), ("case_updates", "body"))
MARK = "Zq7marker"
TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _rows_with_markers() -> dict[str, list[dict]]:
    """The old rows, every encrypted column holding a marker, plus lead notes and questions (0005 schema)."""
    rows = _old_rows()
    rows["users"][0]["totp_secret"] = TOTP
    lead = rows["leads"][0]
    lead.update(people=[{"name": f"Ghost {MARK}", "phone": "", "social": "", "relation": "", "knows": "ñ 🙂"}],
                last_48_hours=f"48h {MARK}", supplier=f"supplier {MARK}", phone_and_accounts=f"phone {MARK}",
                details=f"details {MARK}")
    rows["leads"][1]["details"] = f"tip {MARK}"
    for row in rows["sms_outbox"]:
        row["body"] = f"text {row['id']} {MARK}"
    for row in rows["inbound_sms"]:
        row["body"] = f"{row['body']} {MARK}" if row["handling"] != "keyword" else row["body"]
    for row in rows["case_messages"]:
        row["body"] = f"{row['body']} {MARK}"
    rows["lead_notes"] = [{"id": 1, "lead_id": 1, "author_id": 1, "body": f"note {MARK}", "created_at": T0}]
    rows["lead_questions"] = [
        {"id": 1, "lead_id": 2, "asked_by_id": 1, "question": f"question {MARK}", "asked_at": T0,
         "answer": f"answer {MARK}", "answered_at": T0},
        {"id": 2, "lead_id": 2, "asked_by_id": 1, "question": f"unanswered {MARK}", "asked_at": T0, "answer": None},
    ]
    return rows


def _rows_with_contact_markers() -> dict[str, list[dict]]:
    """The rows with markers, and what staff wrote down of what a family said holding one too (0012's columns)."""
    rows = _rows_with_markers()
    for row in rows["outreach"]:
        row["notes"] = f"call {row['id']}: her cousin Ray, 312-555-0142 {MARK}" if row["id"] != 2 else ""
    for row in rows["appointments"]:
        row["reason"] = f"about the car {row['id']} {MARK}"
        if row.get("callback_window"):
            row["callback_window"] = f"after 6, ask for Ana {MARK}"
    for row in rows["case_updates"]:
        row["body"] = f"{row['body']} {MARK}" if row["body"] else ""
    rows["availability_exceptions"] = [
        {"id": 1, "liaison_id": 1, "day": date(2026, 12, 24), "start_time": None, "end_time": None,
         "reason": f"court {MARK}", "created_at": T0},
        {"id": 2, "liaison_id": 1, "day": date(2026, 12, 25), "start_time": None, "end_time": None, "reason": "",
         "created_at": T0},
    ]
    return rows


def _load_old_database(rows: dict[str, list[dict]] | None = None, revision: str = BEFORE) -> list[str]:
    """A database at `revision` (0007) holding the rows in the clear; returns the table names."""
    upgrade(revision=BEFORE_NOTIFICATIONS)
    rows = rows or _rows_with_markers()
    with db.engine.begin() as conn:
        tables = _tables(conn)
        for name, table_rows in rows.items():
            for row in table_rows:
                conn.execute(tables[name].insert().values(**row))
    upgrade(revision=revision)
    with db.engine.connect() as conn:
        return sorted(t for t in _tables(conn) if t != "alembic_version")


def _all_text(snapshot) -> str:
    """Every value of every row, as text, one per line (what a copied database file shows)."""
    return "\n".join(str(value) for rows in snapshot.values() for row in rows for value in row.values())


def _encrypted_values(snapshot) -> list[tuple[str, str, object]]:
    columns = {(t, c) for t, c, _kind in encrypted_columns(db.metadata)}
    return [(table, column, value) for table, rows in snapshot.items() for row in rows
            for column, value in row.items() if (table, column) in columns and value is not None]


@pytest.mark.usefixtures("migrated_app")
def test_the_upgrade_encrypts_every_existing_value_and_the_downgrade_gives_the_rows_back():
    names = _load_old_database()
    before = _raw_snapshot(names)
    assert MARK in _all_text(before)

    upgrade(revision=ENCRYPTED)

    raw = _raw_snapshot(names)
    assert MARK not in _all_text(raw) and TOTP not in _all_text(raw), "a value is still readable in the raw tables"
    values = [(t, c, v) for t, c, v in _encrypted_values(raw) if (t, c) not in CONTACT_COLUMNS]  # 0012's, later
    assert len(values) >= 20 and all(is_encrypted(v) for _t, _c, v in values)
    assert {key_id_of(v) for _t, _c, v in values} == {current_app.extensions["keyring"].current_id}
    # Every column this revision encrypts holds values (the ones later revisions add are not there yet).
    added_later = {("cases", "hold_reason"), ("lead_attachments", "original_key"),
                   ("inbound_sms_media", "original_key"),
                   *((t, c) for t, c in CONTACT_COLUMNS)}  # 0012_encrypt_contact_notes
    assert {(t, c) for t, c, _v in values} == {(t, c) for t, c, _k in encrypted_columns(db.metadata)} - added_later
    assert _snapshot(names) == before, "a value changed underneath"
    # The app reads them through its models.
    from portal.models import Lead, LeadQuestion, User

    lead = db.session.get(Lead, 1, options=[load_only(Lead.people, Lead.details)])  # leads.source came later
    assert lead.people[0]["name"] == f"Ghost {MARK}" and lead.people[0]["knows"] == "ñ 🙂"
    assert lead.details == f"details {MARK}"
    assert db.session.get(User, 1).totp_secret == TOTP
    assert db.session.get(LeadQuestion, 2).answer is None
    db.session.remove()

    downgrade(revision=BEFORE)

    assert _raw_snapshot(names) == before, "the downgrade did not give the rows back exactly"


@pytest.mark.usefixtures("migrated_app")
def test_a_rerun_after_an_interrupted_upgrade_encrypts_nothing_twice():
    """SQLite runs a migration without a transaction around it: an interrupted upgrade leaves some values
    encrypted and the revision at 0007. Upgrading again finishes the job and leaves those values as they are."""
    names = _load_old_database()
    before = _raw_snapshot(names)
    keyring = current_app.extensions["keyring"]
    early = keyring.encrypt_text("text 1 " + MARK, context="notifications.body")
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE notifications SET body = :b WHERE id = 1"), {"b": early})

    upgrade(revision=ENCRYPTED)

    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT body FROM notifications WHERE id = 1")).scalar() == early
    assert _snapshot(names) == before


@pytest.mark.usefixtures("migrated_app")
def test_the_demo_database_goes_down_to_plain_text_and_back_up_encrypted():
    from portal.demo import seed_demo
    from portal.models import FamilyMember
    from portal.services.notifications.outbox import queue_family_sms

    upgrade()
    created, _logins = seed_demo()
    assert created
    members = db.session.scalars(select(FamilyMember).where(FamilyMember.phone.is_not(None))
                                 .order_by(FamilyMember.id)).all()
    for member in members[:3]:
        queue_family_sms(member, "update", kind="update", urgent=member is members[0])
    db.session.commit()
    db.session.remove()
    with db.engine.connect() as conn:
        names = sorted(t for t in _tables(conn) if t != "alembic_version")
    at_head = _snapshot(names)
    demo_texts = [v for _t, _c, v in _encrypted_values(at_head) if isinstance(v, str) and len(v) > 12]
    assert len(demo_texts) >= 5
    assert not any(text_ in _all_text(_raw_snapshot(names)) for text_ in demo_texts)

    downgrade(revision=BEFORE)  # the demo database as the release before encryption held it
    with db.engine.connect() as conn:
        old = {name: {c.name for c in table.columns} for name, table in _tables(conn).items()
               if name != "alembic_version"}
    plain = _all_text(_raw_snapshot(sorted(old)))
    assert all(text_ in plain for text_ in demo_texts)

    upgrade()
    assert not any(text_ in _all_text(_raw_snapshot(names)) for text_ in demo_texts)

    def as_of_before(snapshot):  # what the release before encryption held: its tables and columns
        return {name: [{c: v for c, v in row.items() if c in old[name]} for row in rows]
                for name, rows in snapshot.items() if name in old}

    # Every row of every table that release had, value for value (later revisions' own columns start over).
    assert as_of_before(_snapshot(names)) == as_of_before(at_head)


SEALED = "0011_sealed_originals"  # the release before 0012_encrypt_contact_notes


def _contact_values(raw) -> list[tuple[str, str, object]]:
    return [(table, column, row[column]) for table, column in CONTACT_COLUMNS for row in raw[table]
            if row[column] is not None]


def _latest_contact_trigger_still_works() -> None:
    """A new contact on case 2 (none before) sets its latest contact; then the database is put back as it was."""
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO outreach (id, case_id, family_member_id, staff_id, channel, direction, "
                          "outcome, occurred_at, notes, is_system, created_at) "
                          "VALUES (5, 2, 3, 1, 'phone', 'outbound', 'reached', :at, '', :f, :at)"),
                     {"at": T0, "f": False})
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT last_contact_at FROM cases WHERE id = 2")).scalar() is not None
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM outreach WHERE id = 5"))
        conn.execute(text("UPDATE cases SET last_contact_at = NULL, last_family_contact_at = NULL WHERE id = 2"))
        conn.execute(text("UPDATE family_members SET last_contact_at = NULL WHERE id = 3"))


@pytest.mark.usefixtures("migrated_app")
def test_0012_encrypts_what_staff_wrote_of_a_family_and_the_downgrade_gives_the_rows_back():
    from sqlalchemy import inspect

    names = _load_old_database(_rows_with_contact_markers(), revision=SEALED)
    before = _raw_snapshot(names)
    opened_before = _snapshot(names)
    assert MARK in _all_text(before) and "312-555-0142" in _all_text(before)  # 0008 left these in the clear
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT last_contact_at FROM cases WHERE id = 2")).scalar() is None

    upgrade(revision=CONTACT)

    raw = _raw_snapshot(names)
    assert MARK not in _all_text(raw) and "312-555-0142" not in _all_text(raw), "a note is still readable"
    values = _contact_values(raw)
    assert len(values) == 14 and all(is_encrypted(v) for _t, _c, v in values)  # the empty ones too
    assert {(t, c) for t, c, _v in values} == set(CONTACT_COLUMNS)
    assert {key_id_of(v) for _t, _c, v in values} == {current_app.extensions["keyring"].current_id}
    assert set(CONTACT_COLUMNS) <= {(t, c) for t, c, _k in encrypted_columns(db.metadata)}
    assert _snapshot(names) == opened_before, "a value changed underneath (or a latest contact moved)"
    from portal.models import Appointment, AvailabilityException, CaseUpdate, Outreach

    assert db.session.get(Outreach, 1).notes == f"call 1: her cousin Ray, 312-555-0142 {MARK}"
    assert db.session.get(Outreach, 2).notes == ""
    assert db.session.get(Appointment, 2).callback_window == f"after 6, ask for Ana {MARK}"
    assert db.session.get(Appointment, 1).callback_window is None
    assert db.session.get(Appointment, 3).reason == f"about the car 3 {MARK}"
    assert db.session.get(AvailabilityException, 1).reason == f"court {MARK}"
    # Only the body: the model has columns later revisions add.
    assert db.session.scalar(select(CaseUpdate.body).where(CaseUpdate.id == 2)) == f"Internal. {MARK}"
    db.session.remove()
    _latest_contact_trigger_still_works()  # it was off while the notes were rewritten

    downgrade(revision=SEALED)

    assert _raw_snapshot(names) == before, "the downgrade did not give the rows back exactly"
    columns = {c["name"]: c["type"] for c in inspect(db.engine).get_columns("appointments")}
    assert getattr(columns["callback_window"], "length", None) == 200
    _latest_contact_trigger_still_works()


@pytest.mark.usefixtures("migrated_app")
def test_a_rerun_of_0012_after_an_interruption_encrypts_nothing_twice():
    names = _load_old_database(_rows_with_contact_markers(), revision=SEALED)
    opened_before = _snapshot(names)
    early = current_app.extensions["keyring"].encrypt_text(opened_before["outreach"][0]["notes"],
                                                           context="outreach.notes")
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE outreach SET notes = :n WHERE id = 1"), {"n": early})

    upgrade(revision=CONTACT)

    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT notes FROM outreach WHERE id = 1")).scalar() == early
    assert _snapshot(names) == opened_before
