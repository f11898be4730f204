from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.timeutil import UTCDateTime, utcnow

MEDIA_KINDS = ("video", "audio")


def title_search_index(table):
    """Search by any part of a title (ILIKE '%word%'): a trigram index on PostgreSQL (a plain one elsewhere)."""
    return Index(f"ix_{table}_title", "title", postgresql_using="gin", postgresql_ops={"title": "gin_trgm_ops"})
MEDIA_KIND_CHECK = "media_kind IN ('video', 'audio')"


class _RecordingColumns:
    """Columns shared by meet rooms and voice calls."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product: Mapped[str] = mapped_column(String(32), nullable=False)
    title: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    # A key in the configured bucket, or an external URL (streamed through the proxy).
    recording_url: Mapped[str] = mapped_column(Text, nullable=False)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    egress_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Why the recording failed (a LiveKit Egress that ended FAILED or ABORTED): shown to super admins only.
    failure: Mapped[str | None] = mapped_column(Text)
    # Learnt by probing (at registration, by the poster job, or `flask recordings backfill`); None until then.
    media_kind: Mapped[str | None] = mapped_column(String(5))  # video | audio: whether there is a picture
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    # None: not tried yet; queued; ready; failed (remembered: never retried per request).
    poster_status: Mapped[str | None] = mapped_column(String(8))
    timeline_status: Mapped[str | None] = mapped_column(String(8))  # the editor's thumbnails and waveform; as above
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class MeetRoom(_RecordingColumns, db.Model):
    __tablename__ = "meet_rooms"
    __table_args__ = (Index("ix_meet_rooms_owner_created", "owner_id", "created_at", "id"),
                      Index("ix_meet_rooms_created", "created_at", "id"), title_search_index("meet_rooms"),
                      CheckConstraint(MEDIA_KIND_CHECK, name="media_kind"))
    source_type = poster_kind = "meet"

    room_name: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    owner = relationship("User", lazy="raise")


class VoiceCall(_RecordingColumns, db.Model):
    __tablename__ = "voice_calls"
    __table_args__ = (Index("ix_voice_calls_created", "created_at", "id"), title_search_index("voice_calls"),
                      CheckConstraint(MEDIA_KIND_CHECK, name="media_kind"))
    source_type = poster_kind = "voice"

    caller: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    owner = relationship("User", lazy="raise")


RECORDING_MODELS = {"meet": MeetRoom, "voice": VoiceCall}
