"""inbound_sms_media: the pictures of texts sent to us (MMS), fetched, cleaned and held; leads.source

Revision ID: 0015_mms
Revises: 0014_notice_links
Create Date: 2026-12-04 19:20:00

Every lead so far came through the portal: leads.source is 'portal' for them.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_mms'
down_revision = '0014_notice_links'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'inbound_sms_media',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('inbound_sms_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('media_sid', sa.String(length=64), nullable=False),
        sa.Column('media_url', sa.String(length=1000), nullable=False),
        sa.Column('declared_type', sa.String(length=100), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('error', sa.String(length=32), nullable=True),
        sa.Column('stored_name', sa.String(length=80), nullable=True),
        sa.Column('original_name', sa.String(length=255), nullable=True),
        sa.Column('content_type', sa.String(length=80), nullable=True),
        sa.Column('size', sa.Integer(), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('original_stored_name', sa.String(length=80), nullable=True),
        sa.Column('original_sha256', sa.String(length=64), nullable=True),
        sa.Column('original_size', sa.Integer(), nullable=True),
        sa.Column('original_content_type', sa.String(length=80), nullable=True),
        sa.Column('original_key', sa.Text(), nullable=True),
        sa.Column('lead_attachment_id', sa.Integer(), nullable=True),
        sa.Column('provider_deleted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('delete_error', sa.String(length=16), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'stored', 'rejected', 'failed')",
                           name=op.f('ck_inbound_sms_media_status')),
        sa.ForeignKeyConstraint(['inbound_sms_id'], ['inbound_sms.id'],
                                name=op.f('fk_inbound_sms_media_inbound_sms_id_inbound_sms')),
        sa.ForeignKeyConstraint(['lead_attachment_id'], ['lead_attachments.id'],
                                name=op.f('fk_inbound_sms_media_lead_attachment_id_lead_attachments')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_sms_media')),
        sa.UniqueConstraint('stored_name', name=op.f('uq_inbound_sms_media_stored_name')),
        sa.UniqueConstraint('original_stored_name', name=op.f('uq_inbound_sms_media_original_stored_name')),
    )
    op.create_index('ix_inbound_sms_media_inbound_sms_id_position', 'inbound_sms_media',
                    ['inbound_sms_id', 'position'], unique=True)
    op.create_index('ix_inbound_sms_media_status_next_attempt_at', 'inbound_sms_media',
                    ['status', 'next_attempt_at'], unique=False)
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=8), server_default='portal', nullable=False))


def downgrade():
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_column('source')
    op.drop_index('ix_inbound_sms_media_status_next_attempt_at', table_name='inbound_sms_media')
    op.drop_index('ix_inbound_sms_media_inbound_sms_id_position', table_name='inbound_sms_media')
    op.drop_table('inbound_sms_media')
