"""check constraints: every enumerated column accepts only its vocabulary (stages, statuses, channels, roles...)

Until now only the app kept these columns to their fixed words; a typo in a service, a script or a hand-written
UPDATE could store a value no page, flag or report knows. The database now refuses it. NULL still passes where
the column is nullable. An existing row outside its vocabulary makes the upgrade fail; fix the row, then upgrade.

The vocabularies below are a frozen copy of the tuples in portal/models at this revision (tests/test_migrations.py
checks that the models and the migrated database agree).

Revision ID: 0007_check_constraints
Revises: 0006_notifications
Create Date: 2026-12-03 16:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_check_constraints'
down_revision = '0006_notifications'
branch_labels = None
depends_on = None

ROLES = ('family', 'liaison', 'supervisor', 'admin')
LANGUAGES = ('en', 'es')
STAGES = ('opened', 'awaiting_toxicology', 'investigating', 'suspect_identified', 'referred_to_prosecutor',
          'charges_filed', 'prosecution_declined', 'in_court', 'closed')
CHANNELS = ('phone', 'sms', 'email', 'visit', 'letter', 'portal_message', 'video')

# (table, column, vocabulary): each check is named ck_<table>_<column>
CHECKS = (
    ('users', 'role', ROLES),
    ('users', 'language', LANGUAGES),
    ('resources', 'language', LANGUAGES),
    ('audit_events', 'actor_role', ROLES),
    ('cases', 'stage', STAGES),
    ('family_members', 'language', LANGUAGES),
    ('family_members', 'cadence', ('weekly', 'biweekly', 'monthly', 'on_change', 'do_not_contact')),
    ('family_members', 'preferred_channel', CHANNELS),
    ('case_updates', 'kind', ('update', 'note', 'stage_change', 'handover', 'closure', 'meeting_request')),
    ('case_updates', 'stage_from', STAGES),
    ('case_updates', 'stage_to', STAGES),
    ('outreach', 'channel', CHANNELS),
    ('outreach', 'direction', ('outbound', 'inbound')),
    ('outreach', 'outcome', ('reached', 'left_voicemail', 'no_answer', 'wrong_number', 'declined', 'message_sent',
                             'message_received', 'attended', 'no_show')),
    ('outreach', 'source_type', ('sms', 'inbound_sms', 'portal_message', 'appointment')),
    ('appointments', 'kind', ('slot', 'callback')),
    ('appointments', 'mode', ('phone', 'video', 'in_person')),
    ('appointments', 'status', ('requested', 'booked', 'confirmed', 'cancelled', 'rescheduled', 'completed',
                                'no_show')),
    ('leads', 'status', ('new', 'reviewing', 'assigned', 'followed_up', 'closed')),
    ('notifications', 'channel', ('sms', 'email')),
    ('notifications', 'language', LANGUAGES),
    ('notifications', 'status', ('queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'deferred',
                                 'blocked', 'cancelled')),
    ('inbound_sms', 'handling', ('keyword', 'conversation', 'unmatched')),
    ('case_messages', 'sender', ('family', 'staff')),
    ('case_messages', 'channel', ('portal', 'sms')),
)


def _tables():
    """The tables in CHECKS, in order, each with its checks."""
    tables = {}
    for table, column, values in CHECKS:
        tables.setdefault(table, []).append((column, values))
    return tables.items()


def _sqlite_triggers():
    """On SQLite, batch mode rebuilds each table, which drops its triggers (outreach keeps the latest contact with
    two) and trips over triggers naming a table mid-rebuild: take them out, and return their SQL to put back."""
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return []
    triggers = bind.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
    for name, _sql in triggers:
        op.execute(f'DROP TRIGGER "{name}"')
    return [sql for _name, sql in triggers]


def upgrade():
    triggers = _sqlite_triggers()
    for table, checks in _tables():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, values in checks:
                batch_op.create_check_constraint(op.f(f'ck_{table}_{column}'), sa.column(column).in_(values))
    for sql in triggers:
        op.execute(sql)


def downgrade():
    triggers = _sqlite_triggers()
    for table, checks in reversed(list(_tables())):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, _values in reversed(checks):
                batch_op.drop_constraint(op.f(f'ck_{table}_{column}'), type_='check')
    for sql in triggers:
        op.execute(sql)
