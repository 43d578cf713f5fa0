"""The large seed (bench/seed_large.py), at a small scale on a fresh PostgreSQL database: the rows it promises,
spread the way the benchmarks rely on, and known accounts that can sign in. The full 100,000-case run is by hand."""
from __future__ import annotations

import uuid

import pyotp
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import seed_large
from bench.common import ENCRYPTION_KEYS, KNOWN_FAMILY, KNOWN_STAFF, PASSWORD, TOTP_SECRET
from bench.explain_flags import seq_scans
from portal.crypto import Keyring, is_encrypted
from portal.extensions import db
from portal.models.types import encrypted_columns
from portal.services.accounts import verify_password

SCALE = 0.005  # 500 cases, 1,250 family members, 10,000 contacts, 5,000 texts


@pytest.fixture(scope="module")
def seeded(app):
    """A brand-new PostgreSQL database, migrated and seeded by the script; yields an engine on it."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        pytest.skip("the large seed uses PostgreSQL's COPY; run with TEST_DATABASE_URL set to a PostgreSQL database")
    name = f"seed_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    target = url.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(target)
    try:
        assert seed_large.main(["--database-url", target, "--scale", str(SCALE), "--no-write"]) == 0
        yield engine, target
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def test_seed_writes_the_promised_rows_spread_over_stages_languages_and_overdue_families(seeded):
    engine, _url = seeded
    expected = seed_large.counts_for(SCALE)
    for table in ("cases", "family_members", "leads", "notifications", "appointments"):
        assert _scalar(engine, f"SELECT count(*) FROM {table}") == expected[table], table  # noqa: S608
    # The planned contacts, plus a few corrections (each a new entry that replaces an earlier one).
    assert _scalar(engine, "SELECT count(*) FROM outreach WHERE corrects_id IS NULL") == expected["outreach"]
    assert _scalar(engine, "SELECT count(*) FROM outreach WHERE corrects_id IS NOT NULL") > 0
    assert _scalar(engine, "SELECT count(*) FROM outreach WHERE family_member_id IS NULL") > 0  # whole family
    assert _scalar(engine, "SELECT count(*) FROM case_updates WHERE kind = 'meeting_request'") > 0
    assert _scalar(engine, "SELECT count(DISTINCT stage) FROM cases") >= 7  # "opened" lasts days: may be absent
    assert _scalar(engine, "SELECT count(*) FROM family_members WHERE language = 'es'") > 0
    years = _scalar(engine, "SELECT extract(year FROM age(max(opened_at), min(opened_at))) FROM cases")
    assert years >= 4
    overdue = _scalar(engine, """
        SELECT count(*) FROM family_members fm JOIN cases c ON c.id = fm.case_id
        WHERE c.closed_at IS NULL AND fm.cadence = 'biweekly' AND NOT EXISTS (
            SELECT 1 FROM outreach o
            WHERE o.family_member_id = fm.id AND o.occurred_at > now() - interval '14 days')""")
    assert overdue > 0, "some families must be overdue for contact"
    # The outbox holds only handled texts, so a worker started on this database sends nothing by itself.
    assert _scalar(engine, "SELECT count(*) FROM notifications WHERE status IN ('queued', 'sending', 'deferred')") == 0
    # The latest contact kept on cases and members (trigger off for the bulk load) equals outreach's.
    from sqlalchemy.dialects import postgresql

    from portal.models.last_contact import latest_contact_sql

    sql = latest_contact_sql(postgresql.dialect())
    CASE_LATEST, MEMBER_LATEST = sql.case_latest, sql.member_latest  # noqa: N806

    assert _scalar(engine, f"SELECT count(*) FROM cases WHERE last_contact_at IS DISTINCT FROM {CASE_LATEST}") == 0
    assert _scalar(engine, "SELECT count(*) FROM family_members "
                           f"WHERE last_contact_at IS DISTINCT FROM {MEMBER_LATEST}") == 0
    assert _scalar(engine, "SELECT count(*) FROM family_members WHERE last_contact_at IS NOT NULL") > 0
    # The app's sequences continue after the copied ids.
    assert _scalar(engine, "SELECT nextval(pg_get_serial_sequence('outreach', 'id'))") > expected["outreach"]


def test_seed_creates_known_accounts_that_can_sign_in(seeded):
    engine, _url = seeded
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT email, role, password_hash, totp_secret, mfa_enrolled_at FROM users "
                                 "WHERE email LIKE '%@bench.example'")).all()
    by_email = {r.email: r for r in rows}
    assert set(KNOWN_STAFF.values()) <= set(by_email)
    assert set(KNOWN_FAMILY) <= set(by_email)
    keyring = Keyring.from_spec(ENCRYPTION_KEYS)  # the portal started on the bench database reads with these
    for email in KNOWN_STAFF.values():
        staff = by_email[email]
        assert verify_password(staff, PASSWORD)
        assert is_encrypted(staff.totp_secret) and staff.mfa_enrolled_at is not None
        secret = keyring.decrypt_text(staff.totp_secret, context="users.totp_secret")
        assert secret == TOTP_SECRET
        assert pyotp.TOTP(secret).verify(pyotp.TOTP(TOTP_SECRET).now())
    for email in KNOWN_FAMILY:
        assert by_email[email].role == "family" and verify_password(by_email[email], PASSWORD)
    liaison_cases = _scalar(engine, "SELECT count(*) FROM cases c JOIN users u ON u.id = c.liaison_id "
                                    "WHERE u.email = :e", e=KNOWN_STAFF["liaison"])
    assert liaison_cases > 0


NOT_SEEDED = {("cases", "hold_reason"), ("lead_attachments", "original_key"),
              ("inbound_sms_media", "original_key")}  # no holds, sealed uploads or texted pictures


def test_seed_writes_every_encrypted_column_encrypted_and_readable_with_the_bench_keys(seeded):
    engine, _url = seeded
    keyring = Keyring.from_spec(ENCRYPTION_KEYS)
    columns = encrypted_columns(db.metadata)
    assert {(table, col) for table, col, _type in columns} >= {("leads", "details"), ("leads", "people"),
                                                               ("notifications", "body"), ("users", "totp_secret")}
    with engine.connect() as conn:
        for table, col, kind in columns:
            values = conn.execute(text(f"SELECT {col} FROM {table} WHERE {col} IS NOT NULL LIMIT 50")).scalars().all()  # noqa: S608
            if (table, col) in NOT_SEEDED:  # the seed writes no legal holds and no files: nothing to check there
                assert not values
                continue
            assert values, f"the seed writes {table}.{col}"
            assert all(is_encrypted(v) for v in values), f"{table}.{col} holds plain text"
            for value in values[:5]:
                keyring.decrypt_text(value, context=kind.context)  # opens, in its own column
            plain = conn.execute(text(f"SELECT count(*) FROM {table} WHERE {col} NOT LIKE 'enc1:%'")).scalar()  # noqa: S608
            assert plain == 0, f"{table}.{col}: {plain} rows in the clear"
    lead = keyring.decrypt_text(_scalar(engine, "SELECT people FROM leads ORDER BY id LIMIT 1"), context="leads.people")
    assert lead.startswith("[")  # the JSON list of people, as EncryptedJSON reads it


def test_seed_refuses_a_database_that_already_has_cases(seeded):
    _engine, url = seeded
    assert seed_large.main(["--database-url", url, "--scale", str(SCALE), "--no-write"]) == 2


def test_seq_scan_detection_walks_the_whole_plan():
    plan = {"Node Type": "Limit", "Plans": [{"Node Type": "Nested Loop", "Plans": [
        {"Node Type": "Index Scan", "Relation Name": "cases"},
        {"Node Type": "Parallel Seq Scan", "Relation Name": "outreach", "Actual Rows": 5}]}]}
    assert seq_scans(plan) == ["Parallel Seq Scan on outreach (rows=5)"]
    assert seq_scans(plan, "cases") == []
