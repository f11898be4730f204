from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.timeutil import UTCDateTime, utcnow


class ShareLink(db.Model):
    __tablename__ = "share_links"
    __table_args__ = (Index("ix_share_links_target", "target_type", "target_id"),
                      Index("ix_share_links_creator", "created_by_id", "created_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)  # SHA-256 hex
    target_type: Mapped[str] = mapped_column(String(8), nullable=False)  # meet | voice | clip
    target_id: Mapped[str] = mapped_column(String(32), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    allow_download: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # The owner's Copy link target: its token is derived (HMAC), so it can be handed out again.
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=sa_false())
    view_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
