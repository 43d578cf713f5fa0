"""indexes for national scale: corrections, a liaison's appointments, cases by opening, assigned leads, unmatched texts

Measured on the bench database (100,000 cases, 2,000,000 outreach rows; see bench/RESULTS.md): each replaces a
sequential scan on a page or a flag query.

Revision ID: 0003_perf_indexes
Revises: 0002_security
Create Date: 2026-11-26 05:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_perf_indexes'
down_revision = '0002_security'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outreach', schema=None) as batch_op:
        batch_op.create_index('ix_outreach_corrects_id', ['corrects_id'], unique=False,
                              sqlite_where=sa.text('corrects_id IS NOT NULL'),
                              postgresql_where=sa.text('corrects_id IS NOT NULL'))
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index('ix_appointments_liaison_id_starts_at', ['liaison_id', 'starts_at'], unique=False)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_opened_at'), ['opened_at'], unique=False)
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leads_assigned_to_id'), ['assigned_to_id'], unique=False)
    with op.batch_alter_table('inbound_sms', schema=None) as batch_op:
        batch_op.create_index('ix_inbound_sms_unmatched_received_at', ['received_at'], unique=False,
                              sqlite_where=sa.text("handling = 'unmatched'"),
                              postgresql_where=sa.text("handling = 'unmatched'"))


def downgrade():
    with op.batch_alter_table('inbound_sms', schema=None) as batch_op:
        batch_op.drop_index('ix_inbound_sms_unmatched_received_at', sqlite_where=sa.text("handling = 'unmatched'"),
                            postgresql_where=sa.text("handling = 'unmatched'"))
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leads_assigned_to_id'))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_opened_at'))
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index('ix_appointments_liaison_id_starts_at')
    with op.batch_alter_table('outreach', schema=None) as batch_op:
        batch_op.drop_index('ix_outreach_corrects_id', sqlite_where=sa.text('corrects_id IS NOT NULL'),
                            postgresql_where=sa.text('corrects_id IS NOT NULL'))
