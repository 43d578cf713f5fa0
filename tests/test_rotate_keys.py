"""`flask rotate-keys`: every value moves to the new key, the app then works with the new key alone; --dry-run only
counts; a second run (after an interruption) does only what is left; a value under a missing key stops it clearly."""
from __future__ import annotations

from sqlalchemy import select, text

from portal.crypto import Keyring, is_encrypted, key_id_of, new_key_line
from portal.extensions import db
from portal.models import AuditEvent, CaseMessage, Lead, LeadQuestion, Notification, User
from portal.models.types import encrypted_columns
from tests.encryption_world import MARKER, build_world, raw_rows


def _key_ids() -> dict[str, set[str]]:
    """Which keys the stored values are under, per column."""
    rows = raw_rows()
    return {f"{t}.{c}": {key_id_of(row[c]) for row in rows[t] if row[c] is not None}
            for t, c, _k in encrypted_columns(db.metadata)}


def _readable(world) -> None:
    db.session.remove()
    leads = {lead.is_anonymous: lead for lead in db.session.scalars(select(Lead))}
    assert leads[False].details == world.values["leads.details"]
    assert leads[False].people[0]["name"] == world.values["leads.people"]
    assert leads[True].details == world.values["tip.details"]
    assert db.session.scalar(select(LeadQuestion.answer)) == world.values["lead_questions.answer"]
    assert world.values["case_messages.body"] in set(db.session.scalars(select(CaseMessage.body)))
    assert world.values["notifications.body"] in set(db.session.scalars(select(Notification.body)))
    assert db.session.get(User, world.staff.id).totp_secret == world.totp_secret


def _rotate(app, *args):
    db.session.remove()
    return app.test_cli_runner().invoke(args=["rotate-keys", *args])


def test_rotate_keys_moves_everything_to_the_new_key_and_the_app_then_needs_only_it(app, client, monkeypatch):
    world = build_world(client)
    old = app.extensions["keyring"]
    before = _key_ids()
    assert {k for ids in before.values() for k in ids} == {old.current_id}
    stored = sum(1 for rows in raw_rows().values() for row in rows for v in row.values() if is_encrypted(v))
    new_line = new_key_line("new1")
    monkeypatch.setitem(app.extensions, "keyring", Keyring.from_spec(f"{new_line},{app.config['ENCRYPTION_KEYS']}"))

    dry = _rotate(app, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"Dry run: {stored:,} values" in dry.output and "nothing changed" in dry.output
    assert _key_ids() == before

    done = _rotate(app, "--batch-size", "3")
    assert done.exit_code == 0, done.output
    assert f"Re-encrypted {stored:,} values under key 'new1'" in done.output
    assert "leads.details" in done.output and "users.totp_secret" in done.output
    after = _key_ids()
    assert all(ids <= {"new1"} for ids in after.values()), after
    assert {k for ids in after.values() for k in ids} == {"new1"}

    again = _rotate(app)
    assert again.exit_code == 0 and "Re-encrypted 0 values" in again.output
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "keys.rotate")
                                .order_by(AuditEvent.id)).all()
    assert [(e.details["key_id"], e.details["values"]) for e in events] == [("new1", stored), ("new1", 0)]

    # The old key can go: the app reads everything with the new key alone.
    monkeypatch.setitem(app.extensions, "keyring", Keyring.from_spec(new_line))
    _readable(world)
    assert MARKER not in str(raw_rows())


def test_a_second_run_after_an_interruption_does_only_what_is_left(app, client, monkeypatch):
    world = build_world(client)
    ring = Keyring.from_spec(f"{new_key_line('new2')},{app.config['ENCRYPTION_KEYS']}")
    monkeypatch.setitem(app.extensions, "keyring", ring)
    # A run stopped part-way left some values under the new key (one batch committed).
    with db.engine.begin() as conn:
        rows = conn.execute(text("SELECT id, body FROM notifications")).all()
        for row_id, body in rows:
            conn.execute(text("UPDATE notifications SET body = :b WHERE id = :i"),
                         {"b": ring.reencrypt(body, context="notifications.body"), "i": row_id})
    stale = sum(1 for t, c, _k in encrypted_columns(db.metadata) for row in raw_rows()[t]
                if row[c] is not None and key_id_of(row[c]) != "new2")

    dry = _rotate(app, "--dry-run")
    assert f"Dry run: {stale:,} values" in dry.output and "notifications.body" not in dry.output
    done = _rotate(app)
    assert done.exit_code == 0, done.output
    assert f"Re-encrypted {stale:,} values" in done.output
    assert {k for ids in _key_ids().values() for k in ids} == {"new2"}
    _readable(world)


def test_a_value_under_a_key_no_longer_configured_stops_the_run_with_what_to_do(app, client, monkeypatch):
    build_world(client)
    monkeypatch.setitem(app.extensions, "keyring", Keyring.from_spec(new_key_line("new3")))  # the old key dropped
    result = _rotate(app)
    assert result.exit_code != 0
    assert "not configured" in result.output and "run rotate-keys again" in result.output
