"""The latest real contact, kept by the database itself on cases and family members.

The contact flags (services/_flags.py) rank every family in an agency by how long they have waited. Reading the
latest contact of 120,000 family members from 2,000,000 outreach entries takes seconds; reading three kept columns
takes milliseconds. A trigger on outreach keeps them, so every writer (staff logging a call, texts, portal
messages, appointments, a bulk load) is covered without remembering to, and a correction (a new entry that
replaces an old one) recomputes what it touches. Outreach is never updated or deleted by the app.

"Real contact" is services/contact.counts_as_contact(): these statements spell out the same rule in SQL. The kept
value is the latest at any time, even a moment in the future (a contact logged ahead of the clock); the flags
read it only when it is not in the future and otherwise ask outreach (see _flag_queries.kept_or_probe).
"""
# ruff: noqa: S608  (SQL assembled from this module's own constants; no input reaches it)
from __future__ import annotations

from sqlalchemy import DDL, event

from .contact import Outreach

# One rule, in SQL, for an outreach row `o` (mirrors counts_as_contact; tests/test_last_contact.py checks both).
COUNTS = """o.outcome IN ('reached', 'left_voicemail', 'declined', 'message_sent', 'attended')
        AND (o.is_system = FALSE OR o.source_type IS NULL OR o.source_type <> 'sms')
        AND NOT EXISTS (SELECT 1 FROM outreach x WHERE x.corrects_id = o.id)"""

CASE_LATEST = f"(SELECT max(o.occurred_at) FROM outreach o WHERE o.case_id = cases.id AND {COUNTS})"
FAMILY_LATEST = (f"(SELECT max(o.occurred_at) FROM outreach o WHERE o.case_id = cases.id "
                 f"AND o.family_member_id IS NULL AND {COUNTS})")
MEMBER_LATEST = f"(SELECT max(o.occurred_at) FROM outreach o WHERE o.family_member_id = family_members.id AND {COUNTS})"

# Recompute everything (after a bulk load with the trigger off, or when the columns are added).
BACKFILL = (
    f"UPDATE cases SET last_contact_at = {CASE_LATEST}, last_family_contact_at = {FAMILY_LATEST}",
    f"UPDATE family_members SET last_contact_at = {MEMBER_LATEST}",
)

PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION outreach_keeps_last_contact() RETURNS trigger AS $$
DECLARE
    old_case integer := CASE WHEN TG_OP = 'UPDATE' THEN OLD.case_id END;
    old_member integer := CASE WHEN TG_OP = 'UPDATE' THEN OLD.family_member_id END;
BEGIN
    UPDATE cases SET last_contact_at = {CASE_LATEST}, last_family_contact_at = {FAMILY_LATEST}
    WHERE cases.id IN (NEW.case_id, (SELECT c.case_id FROM outreach c WHERE c.id = NEW.corrects_id), old_case);
    UPDATE family_members SET last_contact_at = {MEMBER_LATEST}
    WHERE family_members.id IN (NEW.family_member_id,
                                (SELECT c.family_member_id FROM outreach c WHERE c.id = NEW.corrects_id), old_member);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""
PG_TRIGGER = """
CREATE TRIGGER outreach_keeps_last_contact AFTER INSERT OR UPDATE ON outreach
FOR EACH ROW EXECUTE FUNCTION outreach_keeps_last_contact()
"""


def _sqlite_trigger(event_name: str, ids: str) -> str:
    return f"""
CREATE TRIGGER outreach_keeps_last_contact_{event_name.lower()} AFTER {event_name} ON outreach
BEGIN
    UPDATE cases SET last_contact_at = {CASE_LATEST}, last_family_contact_at = {FAMILY_LATEST}
    WHERE cases.id IN ({ids.format(col="case_id")});
    UPDATE family_members SET last_contact_at = {MEMBER_LATEST}
    WHERE family_members.id IN ({ids.format(col="family_member_id")});
END
"""


NEW_IDS = "NEW.{col}, (SELECT c.{col} FROM outreach c WHERE c.id = NEW.corrects_id)"
SQLITE_TRIGGERS = (_sqlite_trigger("INSERT", NEW_IDS), _sqlite_trigger("UPDATE", NEW_IDS + ", OLD.{col}"))

# db.create_all() (tests, first start) installs the triggers too; migrations/versions/0007_perf_flags.py does it for
# an existing database.
for _statement in (PG_FUNCTION, PG_TRIGGER):
    event.listen(Outreach.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
for _statement in SQLITE_TRIGGERS:
    event.listen(Outreach.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
