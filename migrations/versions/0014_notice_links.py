"""notice links: one-time links that open one update or message for a family member without an account

Only SHA-256 hashes are stored: of the link's token, and of the device nonce of the first browser that opened it.

Revision ID: 0014_notice_links
Revises: 0013_consent
Create Date: 2026-12-04 19:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_notice_links'
down_revision = '0013_consent'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'notice_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('family_member_id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('item_kind', sa.String(length=10), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('first_opened_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('device_hash', sa.String(length=64), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("item_kind IN ('update', 'message')", name=op.f('ck_notice_links_item_kind')),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_notice_links_case_id_cases')),
        sa.ForeignKeyConstraint(['family_member_id'], ['family_members.id'],
                                name=op.f('fk_notice_links_family_member_id_family_members')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_notice_links_token_hash')),
    )
    op.create_index(op.f('ix_notice_links_case_id'), 'notice_links', ['case_id'], unique=False)
    op.create_index(op.f('ix_notice_links_family_member_id'), 'notice_links', ['family_member_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_notice_links_family_member_id'), table_name='notice_links')
    op.drop_index(op.f('ix_notice_links_case_id'), table_name='notice_links')
    op.drop_table('notice_links')
