"""media_kind (video | audio) on recordings and clips

Recordings learn theirs by probing (`flask recordings backfill` for the rows that exist); a clip's
is its recording's, which its file name already says (.m4a: audio).

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

CHECK = "media_kind IN ('video', 'audio')"


def upgrade():
    for table in ('meet_rooms', 'voice_calls'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('media_kind', sa.String(length=5), nullable=True))
            batch_op.create_check_constraint('media_kind', CHECK)
    with op.batch_alter_table('recording_clips', schema=None) as batch_op:
        batch_op.add_column(sa.Column('media_kind', sa.String(length=5), nullable=True))
    op.execute("UPDATE recording_clips SET media_kind = CASE WHEN storage_key LIKE '%.m4a' THEN 'audio' "
               "ELSE 'video' END")
    with op.batch_alter_table('recording_clips', schema=None) as batch_op:
        batch_op.alter_column('media_kind', existing_type=sa.String(length=5), nullable=False)
        batch_op.create_check_constraint('media_kind', CHECK)


def downgrade():
    for table in ('recording_clips', 'voice_calls', 'meet_rooms'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint('media_kind', type_='check')
            batch_op.drop_column('media_kind')
