"""timeline_status: the clip editor's thumbnails, waveform and keyframes, made by a job

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('meet_rooms', 'voice_calls'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('timeline_status', sa.String(length=8), nullable=True))


def downgrade():
    for table in ('voice_calls', 'meet_rooms'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('timeline_status')
