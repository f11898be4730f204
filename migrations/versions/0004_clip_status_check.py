"""clip status CHECK constraint (the statuses of webapp/clips/states.py)

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# Written out, not imported: a migration must keep meaning what it meant when it was written.
STATUS_CHECK = "status IN ('awaiting_upload', 'queued', 'processing', 'ready', 'failed', 'expired')"


def upgrade():
    with op.batch_alter_table('recording_clips', schema=None) as batch_op:
        batch_op.create_check_constraint('status', STATUS_CHECK)


def downgrade():
    with op.batch_alter_table('recording_clips', schema=None) as batch_op:
        batch_op.drop_constraint('status', type_='check')
