"""Users and passwords."""
from flask import current_app
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.auth.models import User
from webapp.blocking import run_blocking
from webapp.errors import ApiError
from webapp.extensions import db

# Compared against when the email is unknown, so both paths cost one scrypt.
_DUMMY_HASH = None


def normalize_email(email):
    return (email or "").strip().lower()


def hash_password(password):
    return run_blocking(generate_password_hash, password, method=current_app.config["PASSWORD_HASH_METHOD"])


def get_user(user_id):
    return db.session.get(User, int(user_id))


def find_user_by_email(email):
    return db.session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))


def create_user(email, password, *, super_admin=False):
    """Create a user; ApiError(409) if the email is taken, ApiError(400) for a bad email or password."""
    email = normalize_email(email)
    if "@" not in email or len(email) > 320 or email.startswith("@") or email.endswith("@"):
        raise ApiError(400, "invalid_email", "Give a valid email address.")
    if not password or len(password) < 8:
        raise ApiError(400, "weak_password", "The password needs at least 8 characters.")
    if find_user_by_email(email):
        raise ApiError(409, "email_taken", f"A user with the email {email} exists already.")
    user = User(email=email, password_hash=hash_password(password), is_super_admin=super_admin)
    db.session.add(user)
    db.session.commit()
    return user


def set_password(user, password):
    user.password_hash = hash_password(password)
    user.session_generation += 1  # sessions signed with the old password end
    db.session.commit()


def end_all_sessions(user):
    """Every session cookie of this user stops working (signed cookies cannot be taken back otherwise)."""
    db.session.execute(update(User).where(User.id == user.id)
                       .values(session_generation=User.session_generation + 1))
    db.session.commit()


def authenticate(email, password):
    """The user with that email and password, or None."""
    global _DUMMY_HASH
    user = find_user_by_email(email) if email else None
    if user is None:
        _DUMMY_HASH = _DUMMY_HASH or hash_password("reclip-timing-equaliser")
        run_blocking(check_password_hash, _DUMMY_HASH, password or "")
        return None
    return user if run_blocking(check_password_hash, user.password_hash, password or "") else None
