"""carrier problems: numbers that cannot get texts, the blocked-texts alarm's acknowledgement and its index;
system-written updates rendered in the reader's language

family_members.phone_not_textable_at/_code: the carrier said the number cannot get texts (a landline, no such phone).
agency.carrier_alarm_acknowledged_at: when the "carriers are blocking our texts" alarm was last acknowledged.
ix_notifications_carrier_filtered_updated_at: the alarm counts filtered texts of the last hour through it.
case_updates.about_user_id: whom a system-written update is about (a handover's new liaison): its sentence is
rendered when read, in the reader's language, instead of being stored in the writer's.

Revision ID: 0017_carrier
Revises: 0016_email
Create Date: 2026-12-04 19:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_carrier'
down_revision = '0016_email'
branch_labels = None
depends_on = None

FILTERED_WHERE = "error_code IN ('30007', '30034')"


def _sqlite_triggers():
    """On SQLite, batch mode may rebuild family_members, which trips over the triggers naming it (outreach keeps
    each member's latest contact): take them out, and return their SQL to put back (as 0009 does)."""
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return []
    triggers = bind.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
    for name, _sql in triggers:
        op.execute(f'DROP TRIGGER "{name}"')
    return [sql for _name, sql in triggers]


def upgrade():
    triggers = _sqlite_triggers()
    with op.batch_alter_table('family_members') as batch_op:
        batch_op.add_column(sa.Column('phone_not_textable_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('phone_not_textable_code', sa.String(length=16), nullable=True))
    with op.batch_alter_table('agency') as batch_op:
        batch_op.add_column(sa.Column('carrier_alarm_acknowledged_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('case_updates') as batch_op:
        batch_op.add_column(sa.Column('about_user_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_case_updates_about_user_id_users'), 'users', ['about_user_id'],
                                    ['id'])
    for sql in triggers:
        op.execute(sql)
    op.create_index('ix_notifications_carrier_filtered_updated_at', 'notifications', ['updated_at'], unique=False,
                    postgresql_where=sa.text(FILTERED_WHERE), sqlite_where=sa.text(FILTERED_WHERE))


def downgrade():
    op.drop_index('ix_notifications_carrier_filtered_updated_at', table_name='notifications')
    triggers = _sqlite_triggers()
    with op.batch_alter_table('case_updates') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_case_updates_about_user_id_users'), type_='foreignkey')
        batch_op.drop_column('about_user_id')
    with op.batch_alter_table('agency') as batch_op:
        batch_op.drop_column('carrier_alarm_acknowledged_at')
    with op.batch_alter_table('family_members') as batch_op:
        batch_op.drop_column('phone_not_textable_code')
        batch_op.drop_column('phone_not_textable_at')
    for sql in triggers:
        op.execute(sql)
