import uuid
from datetime import datetime

from sqlalchemy import (BigInteger, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.timeutil import UTCDateTime, utcnow

PROVIDERS = ("meta", "tiktok")  # whom a person signs in with
PLATFORMS = ("facebook", "instagram", "tiktok")  # where a post goes
SHAPES = ("original", "vertical", "square")
FILLS = ("blur", "crop")  # how a landscape frame fills a vertical or square one


class PublicationStatus:
    QUEUED = "queued"
    EXPORTING = "exporting"  # making the social-ready file
    UPLOADING = "uploading"  # handing it to the platform
    PROCESSING = "processing"  # the platform is processing it
    PUBLISHED = "published"
    INBOX = "inbox"  # TikTok: waiting in the creator's inbox for them to post
    FAILED = "failed"

    ALL = (QUEUED, EXPORTING, UPLOADING, PROCESSING, PUBLISHED, INBOX, FAILED)
    ACTIVE = (QUEUED, EXPORTING, UPLOADING, PROCESSING)
    DONE = (PUBLISHED, INBOX, FAILED)


def _in(column, values):
    return "{} IN ({})".format(column, ", ".join(f"'{value}'" for value in values))


class SocialConnection(db.Model):
    """A person's sign-in with Meta (their Pages and Instagram accounts) or TikTok: the user-level tokens."""

    __tablename__ = "social_connections"
    __table_args__ = (UniqueConstraint("user_id", "provider", name="uq_social_connections_user_provider"),
                      CheckConstraint(_in("provider", PROVIDERS), name="provider"),
                      CheckConstraint(_in("status", ("active", "needs_reconnect")), name="status"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    provider: Mapped[str] = mapped_column(String(16), nullable=False)
    external_user_id: Mapped[str] = mapped_column(String(128), nullable=False)
    display_name: Mapped[str | None] = mapped_column(String(200))
    # Fernet ciphertexts (webapp/social/crypto.py); never plaintext, never sent to a browser.
    access_token: Mapped[str] = mapped_column(Text, nullable=False)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    access_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scopes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    status_reason: Mapped[str | None] = mapped_column(Text)  # why it needs reconnecting, in words
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    destinations = relationship("SocialDestination", back_populates="connection", cascade="all, delete-orphan",
                                order_by="SocialDestination.id")


class SocialDestination(db.Model):
    """Where a post can go: a Facebook Page, an Instagram professional account, a TikTok account."""

    __tablename__ = "social_destinations"
    __table_args__ = (UniqueConstraint("connection_id", "platform", "external_id",
                                       name="uq_social_destinations_connection_platform_external"),
                      CheckConstraint(_in("platform", PLATFORMS), name="platform"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("social_connections.id", ondelete="CASCADE"),
                                               nullable=False)
    platform: Mapped[str] = mapped_column(String(16), nullable=False)
    external_id: Mapped[str] = mapped_column(String(128), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    # A Page's own token (Facebook Pages, and the Page an Instagram account is linked to), encrypted.
    page_token: Mapped[str | None] = mapped_column(Text)

    connection = relationship("SocialConnection", back_populates="destinations")


class SocialExport(db.Model):
    """A clip or recording made ready for the platforms in one shape, stored beside it."""

    __tablename__ = "social_exports"
    __table_args__ = (UniqueConstraint("target_type", "target_id", "shape", "fill",
                                       name="uq_social_exports_target_shape"),
                      CheckConstraint(_in("status", ("making", "ready", "failed")), name="status"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_type: Mapped[str] = mapped_column(String(8), nullable=False)  # clip | meet | voice
    target_id: Mapped[str] = mapped_column(String(32), nullable=False)
    shape: Mapped[str] = mapped_column(String(8), nullable=False)
    fill: Mapped[str] = mapped_column(String(8), nullable=False)
    status: Mapped[str] = mapped_column(String(8), nullable=False)
    storage_key: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Publication(db.Model):
    """One clip (or recording) posted to one destination: a job's state, resumable step by step."""

    __tablename__ = "publications"
    __table_args__ = (Index("ix_publications_target", "target_type", "target_id", "created_at"),
                      Index("ix_publications_status", "status", "updated_at"),
                      CheckConstraint(_in("status", PublicationStatus.ALL), name="status"),
                      CheckConstraint(_in("shape", SHAPES), name="shape"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: uuid.uuid4().hex)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    target_type: Mapped[str] = mapped_column(String(8), nullable=False)  # clip | meet | voice
    target_id: Mapped[str] = mapped_column(String(32), nullable=False)
    destination_id: Mapped[int | None] = mapped_column(ForeignKey("social_destinations.id", ondelete="SET NULL"))
    platform: Mapped[str] = mapped_column(String(16), nullable=False)
    destination_name: Mapped[str] = mapped_column(String(200), nullable=False)  # kept after a disconnect
    shape: Mapped[str] = mapped_column(String(8), nullable=False)
    fill: Mapped[str] = mapped_column(String(8), nullable=False, default="blur")
    caption: Mapped[str] = mapped_column(Text, nullable=False, default="")
    privacy_level: Mapped[str | None] = mapped_column(String(40))  # TikTok direct post
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=PublicationStatus.QUEUED)
    step: Mapped[str | None] = mapped_column(String(32))  # the last step done: resume from the next
    export_id: Mapped[int | None] = mapped_column(ForeignKey("social_exports.id", ondelete="SET NULL"))
    # The platform's ids: Instagram container, Facebook video, TikTok publish id; and the result.
    remote_id: Mapped[str | None] = mapped_column(String(128))
    upload_url: Mapped[str | None] = mapped_column(Text)
    uploaded_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    upload_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # TikTok's upload_url lives an hour
    permalink: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    polls: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
