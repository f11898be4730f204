from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.timeutil import UTCDateTime, utcnow


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    is_super_admin: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # The dashboard's Supabase Auth user (the access token's `sub`), once they have come in with it.
    supabase_user_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Part of every session's user id: bumping it (logout, new password) ends every session signed before.
    session_generation: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    def get_id(self):
        return f"{self.id}.{self.session_generation}"

    def __repr__(self):
        return f"<User {self.id} {self.email}>"
