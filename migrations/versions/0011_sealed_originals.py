"""lead_attachments: the untouched original of each upload, sealed beside the cleaned copy

Revision ID: 0011_sealed_originals
Revises: 0010_passkeys
Create Date: 2026-12-03 18:30:00

Files received before this revision have no original: the new columns stay NULL for them.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_sealed_originals'
down_revision = '0010_passkeys'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('lead_attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('original_stored_name', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('original_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('original_size', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('original_content_type', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('original_key', sa.Text(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_lead_attachments_original_stored_name'),
                                          ['original_stored_name'])


def downgrade():
    with op.batch_alter_table('lead_attachments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_lead_attachments_original_stored_name'), type_='unique')
        batch_op.drop_column('original_key')
        batch_op.drop_column('original_content_type')
        batch_op.drop_column('original_size')
        batch_op.drop_column('original_sha256')
        batch_op.drop_column('original_stored_name')
