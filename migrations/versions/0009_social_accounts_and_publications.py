"""connected social accounts (tokens encrypted), their destinations, social-ready exports and publications

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('social_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target_type', sa.String(length=8), nullable=False),
    sa.Column('target_id', sa.String(length=32), nullable=False),
    sa.Column('shape', sa.String(length=8), nullable=False),
    sa.Column('fill', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('storage_key', sa.String(length=255), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=True),
    sa.Column('duration_seconds', sa.Float(), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('making', 'ready', 'failed')", name=op.f('ck_social_exports_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_social_exports')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_social_exports_storage_key')),
    sa.UniqueConstraint('target_type', 'target_id', 'shape', 'fill', name='uq_social_exports_target_shape')
    )
    op.create_table('social_connections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('external_user_id', sa.String(length=128), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('access_token', sa.Text(), nullable=False),
    sa.Column('refresh_token', sa.Text(), nullable=True),
    sa.Column('access_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refresh_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('scopes', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("provider IN ('meta', 'tiktok')", name=op.f('ck_social_connections_provider')),
    sa.CheckConstraint("status IN ('active', 'needs_reconnect')", name=op.f('ck_social_connections_status')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_social_connections_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_social_connections')),
    sa.UniqueConstraint('user_id', 'provider', name='uq_social_connections_user_provider')
    )
    op.create_table('social_destinations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('page_token', sa.Text(), nullable=True),
    sa.CheckConstraint("platform IN ('facebook', 'instagram', 'tiktok')", name=op.f('ck_social_destinations_platform')),
    sa.ForeignKeyConstraint(['connection_id'], ['social_connections.id'], name=op.f('fk_social_destinations_connection_id_social_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_social_destinations')),
    sa.UniqueConstraint('connection_id', 'platform', 'external_id', name='uq_social_destinations_connection_platform_external')
    )
    op.create_table('publications',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('target_type', sa.String(length=8), nullable=False),
    sa.Column('target_id', sa.String(length=32), nullable=False),
    sa.Column('destination_id', sa.Integer(), nullable=True),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('destination_name', sa.String(length=200), nullable=False),
    sa.Column('shape', sa.String(length=8), nullable=False),
    sa.Column('fill', sa.String(length=8), nullable=False),
    sa.Column('caption', sa.Text(), nullable=False),
    sa.Column('privacy_level', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('step', sa.String(length=32), nullable=True),
    sa.Column('export_id', sa.Integer(), nullable=True),
    sa.Column('remote_id', sa.String(length=128), nullable=True),
    sa.Column('upload_url', sa.Text(), nullable=True),
    sa.Column('uploaded_bytes', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('upload_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('permalink', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('polls', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("shape IN ('original', 'vertical', 'square')", name=op.f('ck_publications_shape')),
    sa.CheckConstraint("status IN ('queued', 'exporting', 'uploading', 'processing', 'published', 'inbox', 'failed')", name=op.f('ck_publications_status')),
    sa.ForeignKeyConstraint(['destination_id'], ['social_destinations.id'], name=op.f('fk_publications_destination_id_social_destinations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['export_id'], ['social_exports.id'], name=op.f('fk_publications_export_id_social_exports'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_publications_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publications'))
    )
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.create_index('ix_publications_status', ['status', 'updated_at'], unique=False)
        batch_op.create_index('ix_publications_target', ['target_type', 'target_id', 'created_at'], unique=False)



def downgrade():
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.drop_index('ix_publications_target')
        batch_op.drop_index('ix_publications_status')

    op.drop_table('publications')
    op.drop_table('social_destinations')
    op.drop_table('social_connections')
    op.drop_table('social_exports')
