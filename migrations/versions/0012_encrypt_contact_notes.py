"""contact notes encrypted: outreach notes, appointment and callback reasons, callback windows, time-off reasons
and case updates

What staff write down of what a family said (often names and numbers the family gave) is encrypted at rest like
0008_field_encryption's columns: AES-256-GCM (portal/crypto.py), each value bound to its column as associated data.

appointments.callback_window and availability_exceptions.reason were VARCHAR(200): they become TEXT (an encrypted
value is longer). Then every existing value is encrypted, in batches, under the current key of the running app's
keyring (`flask db upgrade` runs inside the app: ENCRYPTION_KEYS or ENCRYPTION_KEY_FILE). A value already encrypted
is left alone, so a re-run after an interruption goes on where it stopped. The downgrade decrypts every value (it
needs the keys too) and gives the two columns VARCHAR(200) back.

None of these columns is read in SQL by the latest-contact trigger (0005_perf_flags) or by a flag query.

The loop is a copy of 0008's (a migration stays frozen: it cannot import another revision's module).

Revision ID: 0012_encrypt_contact_notes
Revises: 0011_sealed_originals
Create Date: 2026-12-03 19:40:00

"""
import logging
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_encrypt_contact_notes'
down_revision = '0011_sealed_originals'
branch_labels = None
depends_on = None

log = logging.getLogger('alembic.runtime.migration')
BATCH = 500

# (table, column): the value's context is "table.column"
COLUMNS = (
    ('outreach', 'notes'),
    ('appointments', 'reason'),
    ('appointments', 'callback_window'),
    ('availability_exceptions', 'reason'),
    ('case_updates', 'body'),
)
# Columns whose type changes: (table, column, old type, PostgreSQL cast back from text)
RETYPED = (
    ('appointments', 'callback_window', sa.String(length=200), 'callback_window::varchar(200)'),
    ('availability_exceptions', 'reason', sa.String(length=200), 'reason::varchar(200)'),
)


# The latest-contact trigger (0005_perf_flags) fires on every UPDATE of outreach and recomputes a case's and a
# member's latest contact: for millions of notes that is millions of needless recomputations, and the notes play
# no part in them. It is off while the values are rewritten, and back on after (inside the migration's
# transaction on PostgreSQL: an error puts everything back).
PG_TRIGGER = 'outreach_keeps_last_contact'


@contextmanager
def _triggers_off():
    """On SQLite, take the triggers out (batch mode rebuilds a table and trips over triggers naming a table
    mid-rebuild, as in 0007) and put their own SQL back after; on PostgreSQL, disable the outreach trigger."""
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.execute(f'ALTER TABLE outreach DISABLE TRIGGER {PG_TRIGGER}')
        yield
        op.execute(f'ALTER TABLE outreach ENABLE TRIGGER {PG_TRIGGER}')
        return
    triggers = bind.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
    for name, _sql in triggers:
        op.execute(f'DROP TRIGGER "{name}"')
    yield
    for _name, sql in triggers:
        op.execute(sql)


def _retype(to_text: bool):
    bind = op.get_bind()
    for table, column, old_type, cast_back in RETYPED:
        new_type, existing = (sa.Text(), old_type) if to_text else (old_type, sa.Text())
        if bind.dialect.name == 'postgresql':
            op.alter_column(table, column, type_=new_type, existing_type=existing,
                            postgresql_using=f'{column}::text' if to_text else cast_back)
        else:
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.alter_column(column, type_=new_type, existing_type=existing)


def _rewrite(change):
    """Pass every non-NULL value of the columns through change(value, context) -> new value or None (unchanged),
    BATCH rows at a time in id order."""
    bind = op.get_bind()
    for table_name, column in COLUMNS:
        context = f'{table_name}.{column}'
        table = sa.table(table_name, sa.column('id', sa.Integer), sa.column(column, sa.Text))
        value_col = table.c[column]
        write = (sa.update(table).where(table.c.id == sa.bindparam('_id'))
                 .values({column: sa.bindparam('_value')}))
        last_id, changed = 0, 0
        while True:
            rows = bind.execute(sa.select(table.c.id, value_col)
                                .where(table.c.id > last_id, value_col.is_not(None))
                                .order_by(table.c.id).limit(BATCH)).all()
            if not rows:
                break
            last_id = rows[-1][0]
            updates = []
            for row_id, value in rows:
                new = change(value, context)
                if new is not None:
                    updates.append({'_id': row_id, '_value': new})
            if updates:
                bind.execute(write, updates)
                changed += len(updates)
        if changed:
            log.info('%s: %d values rewritten', context, changed)


def upgrade():
    from portal import crypto

    keyring = crypto.keyring()  # the app's keys; KeyringError (with what to set) if none are configured
    with _triggers_off():
        _retype(to_text=True)
        _rewrite(lambda value, context: None if crypto.is_encrypted(value)
                 else keyring.encrypt_text(value, context=context))


def downgrade():
    from portal import crypto

    keyring = crypto.keyring()
    with _triggers_off():
        _rewrite(lambda value, context: keyring.decrypt_text(value, context=context) if crypto.is_encrypted(value)
                 else None)
        _retype(to_text=False)
