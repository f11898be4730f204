"""recordings whose Egress failed (failure), and dashboard (Supabase Auth) users (supabase_user_id)

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('meet_rooms', 'voice_calls'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('failure', sa.Text(), nullable=True))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supabase_user_id', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_users_supabase_user_id', ['supabase_user_id'])


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint('uq_users_supabase_user_id', type_='unique')
        batch_op.drop_column('supabase_user_id')
    for table in ('voice_calls', 'meet_rooms'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('failure')
