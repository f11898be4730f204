import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.clips.states import ClipStatus
from webapp.extensions import db
from webapp.recordings.models import MEDIA_KIND_CHECK
from webapp.timeutil import UTCDateTime, utcnow

STATUS_CHECK = "status IN ({})".format(", ".join(f"'{status}'" for status in ClipStatus))


class RecordingClip(db.Model):
    __tablename__ = "recording_clips"
    poster_kind = "clip"
    __table_args__ = (Index("ix_recording_clips_source", "source_type", "source_id", "created_at"),
                      Index("ix_recording_clips_status", "status", "created_at"),
                      CheckConstraint(STATUS_CHECK, name="status"),
                      CheckConstraint(MEDIA_KIND_CHECK, name="media_kind"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: uuid.uuid4().hex)
    source_type: Mapped[str] = mapped_column(String(8), nullable=False)  # meet | voice
    source_id: Mapped[int] = mapped_column(Integer, nullable=False)
    recording_url: Mapped[str] = mapped_column(Text, nullable=False)
    start_seconds: Mapped[float] = mapped_column(Float, nullable=False)
    end_seconds: Mapped[float] = mapped_column(Float, nullable=False)
    mode: Mapped[str] = mapped_column(String(8), nullable=False)  # browser | server
    precise: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # a ClipStatus: webapp/clips/states.py
    storage_key: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    clip_url: Mapped[str | None] = mapped_column(Text)
    upload_max_bytes: Mapped[int | None] = mapped_column(BigInteger)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    media_kind: Mapped[str] = mapped_column(String(5), nullable=False)  # its recording's: video | audio
    title: Mapped[str | None] = mapped_column(String(200))  # "<recording title> 13:42–14:42" unless named
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    poster_status: Mapped[str | None] = mapped_column(String(8))  # as on recordings
    # Server jobs: what the job is doing now (cutting, uploading, checking) and how often it started.
    step: Mapped[str | None] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
