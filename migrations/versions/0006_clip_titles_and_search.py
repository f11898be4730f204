"""clip titles (filled in for existing clips), and title search indexes on PostgreSQL

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def _clock(seconds):
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def upgrade():
    with op.batch_alter_table('recording_clips', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title', sa.String(length=200), nullable=True))
    # Existing clips get the title a new one would: "<recording title> 13:42–14:42".
    connection = op.get_bind()
    for table, name_column, fallback in (('meet_rooms', 'room_name', 'Meet recording'),
                                         ('voice_calls', 'caller', 'Voice call')):
        source_type = 'meet' if table == 'meet_rooms' else 'voice'
        rows = connection.execute(sa.text(
            f"SELECT c.id, c.start_seconds, c.end_seconds, r.id, r.title, r.{name_column} FROM recording_clips c "
            f"JOIN {table} r ON r.id = c.source_id WHERE c.source_type = :type AND c.title IS NULL"),
            {"type": source_type}).all()
        for clip_id, start, end, recording_id, title, name in rows:
            stem = next(text for text in (title, name, f"{fallback} {recording_id}") if text and text.strip())
            connection.execute(sa.text("UPDATE recording_clips SET title = :title WHERE id = :id"),
                               {"title": f"{stem} {_clock(start)}–{_clock(end)}"[:200], "id": clip_id})
    # Search by any part of a title: on PostgreSQL trigram indexes answer ILIKE '%word%'.
    if connection.dialect.name == 'postgresql':
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table in ('meet_rooms', 'voice_calls'):
        op.create_index(f'ix_{table}_title', table, ['title'], postgresql_using='gin',
                        postgresql_ops={'title': 'gin_trgm_ops'})


def downgrade():
    for table in ('voice_calls', 'meet_rooms'):
        op.drop_index(f'ix_{table}_title', table_name=table)
    with op.batch_alter_table('recording_clips', schema=None) as batch_op:
        batch_op.drop_column('title')
