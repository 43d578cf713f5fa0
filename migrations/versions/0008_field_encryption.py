"""field encryption: lead and tip contents, notes, questions, message and outbox bodies, TOTP secrets encrypted

Stored encrypted with AES-256-GCM (portal/crypto.py), each value bound to its column as associated data.

The columns become TEXT (users.totp_secret was VARCHAR(64), leads.people JSON: an encrypted value is longer and is
not JSON), then every existing value is encrypted, in batches, under the current key of the running app's keyring:
`flask db upgrade` runs inside the app, so the keys come from ENCRYPTION_KEYS or ENCRYPTION_KEY_FILE as the portal's
do. A value already encrypted is left alone, so a re-run after an interruption goes on where it stopped.
The downgrade decrypts every value (it needs the keys too) and gives the columns their old types back.

The column list is a frozen copy of the EncryptedText columns in portal/models at this revision; later columns are
encrypted by the revision that adds them (rotate-keys finds them by itself).

Revision ID: 0008_field_encryption
Revises: 0007_check_constraints
Create Date: 2026-12-03 18:30:00

"""
import logging

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_field_encryption'
down_revision = '0007_check_constraints'
branch_labels = None
depends_on = None

log = logging.getLogger('alembic.runtime.migration')
BATCH = 500

# (table, column): the value's context is "table.column"
COLUMNS = (
    ('leads', 'people'),
    ('leads', 'last_48_hours'),
    ('leads', 'supplier'),
    ('leads', 'phone_and_accounts'),
    ('leads', 'details'),
    ('lead_notes', 'body'),
    ('lead_questions', 'question'),
    ('lead_questions', 'answer'),
    ('case_messages', 'body'),
    ('inbound_sms', 'body'),
    ('notifications', 'body'),
    ('users', 'totp_secret'),
)
# Columns whose type changes: (table, column, old type, PostgreSQL cast back from text)
RETYPED = (
    ('users', 'totp_secret', sa.String(length=64), 'totp_secret::varchar(64)'),
    ('leads', 'people', sa.JSON(), 'people::json'),
)


def _sqlite_triggers():
    """On SQLite, batch mode rebuilds a table and trips over triggers naming a table mid-rebuild (as in 0007): take
    them out, and return their SQL to put back."""
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return []
    triggers = bind.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
    for name, _sql in triggers:
        op.execute(f'DROP TRIGGER "{name}"')
    return [sql for _name, sql in triggers]


def _retype(to_text: bool):
    bind = op.get_bind()
    triggers = _sqlite_triggers()
    for table, column, old_type, cast_back in RETYPED:
        new_type, existing = (sa.Text(), old_type) if to_text else (old_type, sa.Text())
        if bind.dialect.name == 'postgresql':
            op.alter_column(table, column, type_=new_type, existing_type=existing,
                            postgresql_using=f'{column}::text' if to_text else cast_back)
        else:
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.alter_column(column, type_=new_type, existing_type=existing)
    for sql in triggers:
        op.execute(sql)


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
    _retype(to_text=True)
    _rewrite(lambda value, context: None if crypto.is_encrypted(value)
             else keyring.encrypt_text(value, context=context))


def downgrade():
    from portal import crypto

    keyring = crypto.keyring()
    _rewrite(lambda value, context: keyring.decrypt_text(value, context=context) if crypto.is_encrypted(value)
             else None)
    _retype(to_text=False)
