"""session generation (logout ends sessions), posters made by a job, stored picture sizes

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

MEDIA_TABLES = ('meet_rooms', 'voice_calls', 'recording_clips')


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))
    for table in MEDIA_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('width', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('height', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('poster_status', sa.String(length=8), nullable=True))


def downgrade():
    for table in reversed(MEDIA_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('poster_status')
            batch_op.drop_column('height')
            batch_op.drop_column('width')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
