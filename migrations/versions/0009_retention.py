"""retention: per-agency retention periods and the tip-thread idle limit, a legal hold per case, and what Twilio
still holds of each text (redacted when, or the error that stopped the redaction)

Every retention period starts empty (keep forever), so upgrading purges nothing until an admin sets one.
The partial indexes hold only the texts whose copy at Twilio may still carry a body: the redaction job reads them.

Revision ID: 0009_retention
Revises: 0008_field_encryption
Create Date: 2026-12-03 18:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_retention'
down_revision = '0008_field_encryption'
branch_labels = None
depends_on = None

AGENCY_COLUMNS = ('retention_lead_days', 'retention_tip_days', 'retention_file_days', 'retention_message_days',
                  'retention_text_days', 'tip_thread_idle_days')
UNREDACTED = "provider_redacted_at IS NULL AND redact_error IS NULL"
INDEXES = (('notifications', 'ix_notifications_provider_unredacted'),
           ('inbound_sms', 'ix_inbound_sms_provider_unredacted'))


def _sqlite_triggers():
    """On SQLite, batch mode rebuilds a table with a new foreign key, which trips over the triggers naming it
    (outreach keeps each case's latest contact): take them out, and return their SQL to put back (as 0007 does)."""
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return []
    triggers = bind.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
    for name, _sql in triggers:
        op.execute(f'DROP TRIGGER "{name}"')
    return [sql for _name, sql in triggers]


def upgrade():
    triggers = _sqlite_triggers()
    with op.batch_alter_table('agency', schema=None) as batch_op:
        for name in AGENCY_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('held_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('hold_reason', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_cases_held_by_id_users'), 'users', ['held_by_id'], ['id'])
    for sql in triggers:
        op.execute(sql)
    for table, index in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('provider_redacted_at', sa.DateTime(timezone=True), nullable=True))
            batch_op.add_column(sa.Column('redact_error', sa.String(length=16), nullable=True))
        # Texts already at Twilio before this revision are redacted by the job too (their body is still there).
        op.create_index(index, table, ['id'], unique=False, postgresql_where=sa.text(UNREDACTED),
                        sqlite_where=sa.text(UNREDACTED))


def downgrade():
    for table, index in INDEXES:
        op.drop_index(index, table_name=table)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('redact_error')
            batch_op.drop_column('provider_redacted_at')
    triggers = _sqlite_triggers()
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cases_held_by_id_users'), type_='foreignkey')
        batch_op.drop_column('hold_reason')
        batch_op.drop_column('held_by_id')
        batch_op.drop_column('held_at')
    for sql in triggers:
        op.execute(sql)
    with op.batch_alter_table('agency', schema=None) as batch_op:
        for name in reversed(AGENCY_COLUMNS):
            batch_op.drop_column(name)
