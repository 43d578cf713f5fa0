"""family_members: email consent, opt-out and the mail server's refusal (email as the second channel)

Email goes out only to a member with an address and email consent (email_consent_at), never after they opted out
(email_opted_out_at). email_undelivered_at is when the mail server last refused their current address for good
(SMTP 5xx): it raises the "email undelivered" flag for staff. Existing members have none of the three: no email
goes to anyone until staff record their consent.

Revision ID: 0016_email
Revises: 0015_mms
Create Date: 2026-12-04 19:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_email'
down_revision = '0015_mms'
branch_labels = None
depends_on = None

COLUMNS = ('email_consent_at', 'email_opted_out_at', 'email_undelivered_at')


def upgrade():
    # Plain ADD COLUMN, no batch: on SQLite a batch rebuild of family_members trips over the triggers of
    # 0005_perf_flags that name it (see 0007's _sqlite_triggers); nullable columns need no rebuild.
    for name in COLUMNS:
        op.add_column('family_members', sa.Column(name, sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # SQLite 3.35+ drops a column in place (no trigger names these columns).
    for name in reversed(COLUMNS):
        op.drop_column('family_members', name)
