"""staff: users.daily_digest, for the optional daily "who needs contact" summary

Revision ID: 0004_staff_daily_digest
Revises: 0003_perf_indexes
Create Date: 2026-11-26 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_staff_daily_digest'
down_revision = '0003_perf_indexes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('daily_digest', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('daily_digest')
