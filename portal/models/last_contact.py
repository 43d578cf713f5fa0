"""The latest real contact, kept by the database itself on cases and family members.

The contact flags (services/flags.py) rank every family in an agency by how long they have waited. Reading the
latest contact of 120,000 family members from 2,000,000 outreach entries takes seconds; reading three kept columns
takes milliseconds. A trigger on outreach keeps them, so every writer (staff logging a call, texts, portal
messages, appointments, a bulk load) is covered without remembering to, and a correction (a new entry that
replaces an old one) recomputes what it touches. Outreach is never updated or deleted by the app.

"Real contact" is contact_rules.counts_as_contact(); the SQL below is compiled from that one expression for each
database (real_contact_sql), never written out again. The kept value is the latest at any time, even a moment in
the future (a contact logged ahead of the clock); the flags read it only when it is not in the future and
otherwise ask outreach (see flag_queries.kept_or_probe).
"""
# ruff: noqa: S608  (SQL assembled from this module's own constants and the compiled rule; no input reaches it)
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import DDL, event
from sqlalchemy.dialects import postgresql, sqlite

from ..contact_rules import real_contact_sql
from .contact import Outreach


@dataclass(frozen=True)
class LatestContactSql:
    """The statements that compute the kept values, for one database dialect."""

    case_latest: str
    family_latest: str
    member_latest: str

    @property
    def backfill(self) -> tuple[str, str]:
        """Recompute everything (after a bulk load with the trigger off, or when the columns are added)."""
        return (f"UPDATE cases SET last_contact_at = {self.case_latest}, last_family_contact_at = {self.family_latest}",
                f"UPDATE family_members SET last_contact_at = {self.member_latest}")


def latest_contact_sql(dialect) -> LatestContactSql:
    """The latest-contact subqueries for cases, whole families and members, in this dialect's SQL."""
    counts = real_contact_sql(dialect)
    return LatestContactSql(
        case_latest=f"(SELECT max(o.occurred_at) FROM outreach o WHERE o.case_id = cases.id AND {counts})",
        family_latest=(f"(SELECT max(o.occurred_at) FROM outreach o WHERE o.case_id = cases.id "
                       f"AND o.family_member_id IS NULL AND {counts})"),
        member_latest=(f"(SELECT max(o.occurred_at) FROM outreach o WHERE o.family_member_id = family_members.id "
                       f"AND {counts})"),
    )


def _pg_function(sql: LatestContactSql) -> str:
    return f"""
CREATE OR REPLACE FUNCTION outreach_keeps_last_contact() RETURNS trigger AS $$
DECLARE
    old_case integer := CASE WHEN TG_OP = 'UPDATE' THEN OLD.case_id END;
    old_member integer := CASE WHEN TG_OP = 'UPDATE' THEN OLD.family_member_id END;
BEGIN
    UPDATE cases SET last_contact_at = {sql.case_latest}, last_family_contact_at = {sql.family_latest}
    WHERE cases.id IN (NEW.case_id, (SELECT c.case_id FROM outreach c WHERE c.id = NEW.corrects_id), old_case);
    UPDATE family_members SET last_contact_at = {sql.member_latest}
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


def _sqlite_trigger(sql: LatestContactSql, event_name: str, ids: str) -> str:
    return f"""
CREATE TRIGGER outreach_keeps_last_contact_{event_name.lower()} AFTER {event_name} ON outreach
BEGIN
    UPDATE cases SET last_contact_at = {sql.case_latest}, last_family_contact_at = {sql.family_latest}
    WHERE cases.id IN ({ids.format(col="case_id")});
    UPDATE family_members SET last_contact_at = {sql.member_latest}
    WHERE family_members.id IN ({ids.format(col="family_member_id")});
END
"""


NEW_IDS = "NEW.{col}, (SELECT c.{col} FROM outreach c WHERE c.id = NEW.corrects_id)"
PG_STATEMENTS = (_pg_function(latest_contact_sql(postgresql.dialect())), PG_TRIGGER)
_SQLITE_SQL = latest_contact_sql(sqlite.dialect())
SQLITE_TRIGGERS = (_sqlite_trigger(_SQLITE_SQL, "INSERT", NEW_IDS),
                   _sqlite_trigger(_SQLITE_SQL, "UPDATE", NEW_IDS + ", OLD.{col}"))

# db.create_all() (tests, first start) installs the triggers too; the perf-flags migration does it for an existing
# database (with a frozen copy of the SQL of its time).
for _statement in PG_STATEMENTS:
    event.listen(Outreach.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
for _statement in SQLITE_TRIGGERS:
    event.listen(Outreach.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
