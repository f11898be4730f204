"""Bare extension objects, bound to the app in create_app."""
import flask_login
from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from webapp import ratelimit  # noqa: F401  (registers the sqlite:// rate-limit storage)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class LoginManager(flask_login.LoginManager):
    """Flask-Login's, except that a bearer call skips the cookie session's protection: its token alone says who
    it is (webapp/auth). "Strong" protection refused a valid token that came with a cookie holding only a CSRF
    token (a same-origin page that had shown the login form), and cleared that session."""

    def _session_protection_failed(self):
        scheme = request.headers.get("Authorization", "").partition(" ")[0]
        return scheme.lower() != "bearer" and super()._session_protection_failed()


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
