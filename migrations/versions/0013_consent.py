"""consent on record: contact_consents history, texts held as awaiting_consent, texts linked to their message

Revision ID: 0013_consent
Revises: 0012_encrypt_contact_notes
Create Date: 2026-12-04 19:20:00

Members whose consent to texts was already on record get one "granted" row (method before_history) with the time
and wording they had, so the history starts from what was known. The downgrade refuses while texts are held for
consent: dropping the status would lose them.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_consent'
down_revision = '0012_encrypt_contact_notes'
branch_labels = None
depends_on = None

OLD_STATUSES = ('queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'deferred', 'blocked',
                'cancelled')
NEW_STATUSES = OLD_STATUSES + ('awaiting_consent',)
CONSENT_METHODS = ('said_yes_on_call', 'written_form', 'replied_yes', 'replied_start', 'portal_signup',
                   'before_history', 'told_staff', 'replied_stop', 'turned_off_in_portal', 'staff_recorded_refusal',
                   'consent_request')


def _sqlite_triggers():
    """Batch mode rebuilds tables on SQLite, which drops triggers naming them: take them out, return their SQL."""
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return []
    triggers = bind.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
    for name, _sql in triggers:
        op.execute(f'DROP TRIGGER "{name}"')
    return [sql for _name, sql in triggers]


def upgrade():
    op.create_table(
        'contact_consents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('family_member_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('address', sa.String(length=320), nullable=False),
        sa.Column('event', sa.String(length=12), nullable=False),
        sa.Column('method', sa.String(length=32), nullable=False),
        sa.Column('wording', sa.Text(), nullable=True),
        sa.Column('outreach_id', sa.Integer(), nullable=True),
        sa.Column('inbound_sms_id', sa.Integer(), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(sa.column('channel').in_(('sms', 'email')), name=op.f('ck_contact_consents_channel')),
        sa.CheckConstraint(sa.column('event').in_(('granted', 'revoked', 'requested')),
                           name=op.f('ck_contact_consents_event')),
        sa.CheckConstraint(sa.column('method').in_(CONSENT_METHODS), name=op.f('ck_contact_consents_method')),
        sa.ForeignKeyConstraint(['family_member_id'], ['family_members.id'],
                                name=op.f('fk_contact_consents_family_member_id_family_members')),
        sa.ForeignKeyConstraint(['inbound_sms_id'], ['inbound_sms.id'],
                                name=op.f('fk_contact_consents_inbound_sms_id_inbound_sms')),
        sa.ForeignKeyConstraint(['outreach_id'], ['outreach.id'],
                                name=op.f('fk_contact_consents_outreach_id_outreach')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'],
                                name=op.f('fk_contact_consents_recorded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_consents')),
    )
    op.create_index('ix_contact_consents_family_member_id_created_at', 'contact_consents',
                    ['family_member_id', 'created_at'], unique=False)
    triggers = _sqlite_triggers()
    with op.batch_alter_table('family_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sms_consent_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('stop_line_sent_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_status'), type_='check')
        batch_op.alter_column('status', existing_type=sa.String(length=12), type_=sa.String(length=20),
                              existing_nullable=False)
        batch_op.create_check_constraint(op.f('ck_notifications_status'), sa.column('status').in_(NEW_STATUSES))
        batch_op.add_column(sa.Column('case_message_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_notifications_case_message_id_case_messages'), 'case_messages',
                                    ['case_message_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_notifications_case_message_id'), ['case_message_id'], unique=False)
    for sql in triggers:
        op.execute(sql)
    op.execute(sa.text(
        "INSERT INTO contact_consents (family_member_id, channel, address, event, method, wording, created_at) "
        "SELECT id, 'sms', phone, 'granted', 'before_history', texts_consent_wording, texts_consent_at "
        "FROM family_members WHERE texts_consent_at IS NOT NULL AND phone IS NOT NULL ORDER BY id"))


def downgrade():
    held = op.get_bind().execute(sa.text(
        "SELECT count(*) FROM notifications WHERE status = 'awaiting_consent'")).scalar()
    if held:
        raise RuntimeError(f"{held} texts are waiting for consent; send or cancel them before this downgrade")
    triggers = _sqlite_triggers()
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_case_message_id'))
        batch_op.drop_constraint(op.f('fk_notifications_case_message_id_case_messages'), type_='foreignkey')
        batch_op.drop_column('case_message_id')
        batch_op.drop_constraint(op.f('ck_notifications_status'), type_='check')
        batch_op.alter_column('status', existing_type=sa.String(length=20), type_=sa.String(length=12),
                              existing_nullable=False)
        batch_op.create_check_constraint(op.f('ck_notifications_status'), sa.column('status').in_(OLD_STATUSES))
    with op.batch_alter_table('family_members', schema=None) as batch_op:
        batch_op.drop_column('stop_line_sent_at')
        batch_op.drop_column('sms_consent_requested_at')
    for sql in triggers:
        op.execute(sql)
    op.drop_index('ix_contact_consents_family_member_id_created_at', table_name='contact_consents')
    op.drop_table('contact_consents')
