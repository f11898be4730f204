"""server clip jobs (step, attempts) and default share links

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
    with op.batch_alter_table('share_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_default', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index('ix_share_links_target', ['target_type', 'target_id'], unique=False)
        batch_op.create_index('ix_share_links_creator', ['created_by_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('share_links', schema=None) as batch_op:
        batch_op.drop_index('ix_share_links_creator')
        batch_op.drop_index('ix_share_links_target')
        batch_op.drop_column('is_default')
    with op.batch_alter_table('recording_clips', schema=None) as batch_op:
        batch_op.drop_column('attempts')
        batch_op.drop_column('step')
