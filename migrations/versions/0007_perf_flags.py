"""indexes for the contact flags at national scale: whole-family contacts, unanswered messages, failed texts,
meeting requests

Measured on the bench database (100,000 cases, 2,000,000 outreach rows; bench/explain_flags.py and
bench/RESULTS.md). Each is partial and small: it holds only the rows a flag rule looks for, so a caseload's
flags are a few short index probes per case instead of scans of case_messages, sms_outbox or case_updates, and
"the latest contact naming no one" never walks every such contact in the agency.

Revision ID: 0007_perf_flags
Revises: 0004_staff
Create Date: 2026-11-26 06:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_perf_flags'
down_revision = '0004_staff'
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


def upgrade():
    for table, name, columns, where in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False, sqlite_where=sa.text(where),
                                  postgresql_where=sa.text(where))


def downgrade():
    for table, name, _columns, where in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name, sqlite_where=sa.text(where), postgresql_where=sa.text(where))
