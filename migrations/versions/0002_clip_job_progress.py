"""server clip jobs: step and attempts

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('recording_clips', schema=None) as batch_op:
        batch_op.add_column(sa.Column('step', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('recording_clips', schema=None) as batch_op:
        batch_op.drop_column('attempts')
        batch_op.drop_column('step')
