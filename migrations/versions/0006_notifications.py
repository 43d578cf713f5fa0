"""notifications: the SMS outbox becomes the notifications outbox (texts now, email next)

sms_outbox is renamed notifications, with its indexes and pk/fk/uq constraints renamed to the naming convention;
to_number becomes recipient, widened to String(320) so it can hold an email address; channel (NOT NULL, server
default 'sms') is added, so every existing row becomes an sms notification. Every row is kept, both ways.

Revision ID: 0006_notifications
Revises: 0005_perf_flags
Create Date: 2026-12-03 15:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_notifications'
down_revision = '0005_perf_flags'
branch_labels = None
depends_on = None

FAILED = "status IN ('undelivered', 'failed')"
# (suffix, columns, partial condition): each index is named ix_<table>_<suffix>
INDEXES = (
    ('case_id', ['case_id'], None),
    ('family_member_id', ['family_member_id'], None),
    ('status_next_attempt_at', ['status', 'next_attempt_at'], None),
    ('failed_family_member_id', ['family_member_id', 'updated_at'], FAILED),
)
# (columns, referred table) of each foreign key; named fk_<table>_<column>_<referred>
FOREIGN_KEYS = (
    ('case_id', 'cases'),
    ('family_member_id', 'family_members'),
)


def _where(condition):
    if condition is None:
        return {}
    return {'sqlite_where': sa.text(condition), 'postgresql_where': sa.text(condition)}


def _rename(old, new, old_number, new_number, old_length, new_length):
    """Rename the outbox table `old` to `new`, with its number column, indexes and constraints; the data stays."""
    with op.batch_alter_table(old, schema=None) as batch_op:
        for suffix, _columns, where in INDEXES:
            batch_op.drop_index(f'ix_{old}_{suffix}', **_where(where))
    op.rename_table(old, new)
    is_postgresql = op.get_bind().dialect.name == 'postgresql'
    if is_postgresql:
        # Constraints and the id sequence keep their names through a table rename; give them the new ones.
        op.execute(f'ALTER TABLE {new} RENAME CONSTRAINT pk_{old} TO pk_{new}')
        op.execute(f'ALTER TABLE {new} RENAME CONSTRAINT uq_{old}_provider_sid TO uq_{new}_provider_sid')
        for column, referred in FOREIGN_KEYS:
            op.execute(f'ALTER TABLE {new} RENAME CONSTRAINT fk_{old}_{column}_{referred} '
                       f'TO fk_{new}_{column}_{referred}')
        op.execute(f'ALTER SEQUENCE {old}_id_seq RENAME TO {new}_id_seq')
    # On SQLite this rebuilds the table (batch mode): the constraints are written again under their new names.
    with op.batch_alter_table(new, schema=None, recreate='auto') as batch_op:
        if not is_postgresql:
            batch_op.drop_constraint(f'pk_{old}', type_='primary')
            batch_op.create_primary_key(f'pk_{new}', ['id'])
            batch_op.drop_constraint(f'uq_{old}_provider_sid', type_='unique')
            batch_op.create_unique_constraint(f'uq_{new}_provider_sid', ['provider_sid'])
            for column, referred in FOREIGN_KEYS:
                batch_op.drop_constraint(f'fk_{old}_{column}_{referred}', type_='foreignkey')
                batch_op.create_foreign_key(f'fk_{new}_{column}_{referred}', referred, [column], ['id'])
        batch_op.alter_column(old_number, new_column_name=new_number,
                              existing_type=sa.String(length=old_length), type_=sa.String(length=new_length),
                              existing_nullable=False)
    with op.batch_alter_table(new, schema=None) as batch_op:
        for suffix, columns, where in INDEXES:
            batch_op.create_index(f'ix_{new}_{suffix}', columns, unique=False, **_where(where))


def upgrade():
    _rename('sms_outbox', 'notifications', 'to_number', 'recipient', 20, 320)
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=8), server_default='sms', nullable=False))


def downgrade():
    # Only texts existed before this revision: refuse, rather than drop, what sms_outbox cannot hold.
    misfits = op.get_bind().execute(sa.text(
        "SELECT count(*) FROM notifications WHERE channel <> 'sms' OR length(recipient) > 20")).scalar()
    if misfits:
        raise RuntimeError(f'{misfits} notifications are not texts to a phone number; sms_outbox cannot hold them. '
                           'Export or delete them first.')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('channel')
    _rename('notifications', 'sms_outbox', 'recipient', 'to_number', 320, 20)
