"""contact flags at national scale: the latest real contact kept on cases and family members; partial indexes for
whole-family contacts, unanswered messages, failed texts and meeting requests

Measured on the bench database (100,000 cases, 250,000 family members, 2,000,000 outreach rows; see
bench/RESULTS.md): reading each member's latest contact from outreach took 5.5 s for the whole agency; the kept
columns make "who has waited longest" a plain read of cases and family_members. A trigger on outreach keeps them
(insert, and update for safety: the app never updates or deletes outreach). The partial indexes hold only the rows
a flag rule looks for, so one caseload's flags are short index probes.

The SQL below is a frozen copy of portal/models/last_contact.py at this revision.

Revision ID: 0005_perf_flags
Revises: 0004_staff_daily_digest
Create Date: 2026-11-26 06:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_perf_flags'
down_revision = '0004_staff_daily_digest'
branch_labels = None
depends_on = None

# (table, index, columns, partial condition)
INDEXES = (
    ('outreach', 'ix_outreach_whole_family_case_id_occurred_at', ['case_id', 'occurred_at'],
     'family_member_id IS NULL'),
    ('case_messages', 'ix_case_messages_from_family_case_id_created_at', ['case_id', 'created_at'],
     "sender = 'family'"),
    ('sms_outbox', 'ix_sms_outbox_failed_family_member_id', ['family_member_id', 'updated_at'],
     "status IN ('undelivered', 'failed')"),
    ('case_updates', 'ix_case_updates_meeting_requests_case_id_created_at', ['case_id', 'created_at'],
     "kind = 'meeting_request'"),
)

COUNTS = """o.outcome IN ('reached', 'left_voicemail', 'declined', 'message_sent', 'attended')
        AND (o.is_system = FALSE OR o.source_type IS NULL OR o.source_type <> 'sms')
        AND NOT EXISTS (SELECT 1 FROM outreach x WHERE x.corrects_id = o.id)"""
CASE_LATEST = f"(SELECT max(o.occurred_at) FROM outreach o WHERE o.case_id = cases.id AND {COUNTS})"
FAMILY_LATEST = (f"(SELECT max(o.occurred_at) FROM outreach o WHERE o.case_id = cases.id "
                 f"AND o.family_member_id IS NULL AND {COUNTS})")
MEMBER_LATEST = f"(SELECT max(o.occurred_at) FROM outreach o WHERE o.family_member_id = family_members.id AND {COUNTS})"
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


def _sqlite_trigger(event_name, ids):
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


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_contact_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_family_contact_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('family_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_contact_at', sa.DateTime(timezone=True), nullable=True))
    for table, name, columns, where in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False, sqlite_where=sa.text(where),
                                  postgresql_where=sa.text(where))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    for statement in BACKFILL:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS outreach_keeps_last_contact ON outreach")
        op.execute("DROP FUNCTION IF EXISTS outreach_keeps_last_contact()")
    else:
        op.execute("DROP TRIGGER IF EXISTS outreach_keeps_last_contact_insert")
        op.execute("DROP TRIGGER IF EXISTS outreach_keeps_last_contact_update")
    for table, name, _columns, where in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name, sqlite_where=sa.text(where), postgresql_where=sa.text(where))
    with op.batch_alter_table('family_members', schema=None) as batch_op:
        batch_op.drop_column('last_contact_at')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('last_family_contact_at')
        batch_op.drop_column('last_contact_at')
