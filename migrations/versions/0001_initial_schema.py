"""initial schema

Revision ID: 0001
Revises: 


"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('is_super_admin', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('meet_rooms',
    sa.Column('room_name', sa.String(length=255), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('recording_url', sa.Text(), nullable=False),
    sa.Column('duration_seconds', sa.Float(), nullable=True),
    sa.Column('size_bytes', sa.BigInteger(), nullable=True),
    sa.Column('egress_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_meet_rooms_owner_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meet_rooms')),
    sa.UniqueConstraint('egress_id', name=op.f('uq_meet_rooms_egress_id'))
    )
    with op.batch_alter_table('meet_rooms', schema=None) as batch_op:
        batch_op.create_index('ix_meet_rooms_created', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_meet_rooms_owner_created', ['owner_id', 'created_at', 'id'], unique=False)

    op.create_table('recording_clips',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('source_type', sa.String(length=8), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('recording_url', sa.Text(), nullable=False),
    sa.Column('start_seconds', sa.Float(), nullable=False),
    sa.Column('end_seconds', sa.Float(), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('precise', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('storage_key', sa.String(length=255), nullable=False),
    sa.Column('clip_url', sa.Text(), nullable=True),
    sa.Column('upload_max_bytes', sa.BigInteger(), nullable=True),
    sa.Column('size_bytes', sa.BigInteger(), nullable=True),
    sa.Column('duration_seconds', sa.Float(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recording_clips_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recording_clips')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_recording_clips_storage_key'))
    )
    with op.batch_alter_table('recording_clips', schema=None) as batch_op:
        batch_op.create_index('ix_recording_clips_source', ['source_type', 'source_id', 'created_at'], unique=False)
        batch_op.create_index('ix_recording_clips_status', ['status', 'created_at'], unique=False)

    op.create_table('share_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('target_type', sa.String(length=8), nullable=False),
    sa.Column('target_id', sa.String(length=32), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('allow_download', sa.Boolean(), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('view_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_share_links_created_by_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_share_links_token_hash'))
    )
    op.create_table('voice_calls',
    sa.Column('caller', sa.String(length=255), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('recording_url', sa.Text(), nullable=False),
    sa.Column('duration_seconds', sa.Float(), nullable=True),
    sa.Column('size_bytes', sa.BigInteger(), nullable=True),
    sa.Column('egress_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_voice_calls_owner_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voice_calls')),
    sa.UniqueConstraint('egress_id', name=op.f('uq_voice_calls_egress_id'))
    )
    with op.batch_alter_table('voice_calls', schema=None) as batch_op:
        batch_op.create_index('ix_voice_calls_created', ['created_at', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('voice_calls', schema=None) as batch_op:
        batch_op.drop_index('ix_voice_calls_created')

    op.drop_table('voice_calls')
    op.drop_table('share_links')
    with op.batch_alter_table('recording_clips', schema=None) as batch_op:
        batch_op.drop_index('ix_recording_clips_status')
        batch_op.drop_index('ix_recording_clips_source')

    op.drop_table('recording_clips')
    with op.batch_alter_table('meet_rooms', schema=None) as batch_op:
        batch_op.drop_index('ix_meet_rooms_owner_created')
        batch_op.drop_index('ix_meet_rooms_created')

    op.drop_table('meet_rooms')
    op.drop_table('users')
