"""Sign-in with the dashboard's Supabase Auth session: its access token, verified here.

Supabase signs access tokens with the project's JWT secret (HS256) or, on projects with
asymmetric keys, with a key published at SUPABASE_URL/auth/v1/.well-known/jwks.json (ES256, RS256).
Only the claims Supabase controls are trusted: `sub`, `email`, `aud`, `exp`, `iss` and
`app_metadata` (writable only with the service role). `user_metadata` is the user's own to write.
"""
import threading

import jwt
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.auth.models import User
from webapp.auth.service import find_user_by_email, normalize_email
from webapp.errors import ApiError
from webapp.extensions import db

AUDIENCE = "authenticated"
ASYMMETRIC_ALGORITHMS = ("ES256", "RS256")
SUPER_ADMIN_ROLE = "super_admin"
# The password hash of a user who only ever comes in with Supabase: no password matches it.
NO_PASSWORD = "!supabase"
MAX_TOKEN_LENGTH = 8192
# An unknown `kid` fetches the key set again at most this often: a flood of made-up kids cannot
# hammer Supabase. Supabase publishes a rotated key (standby) before it signs with it.
JWKS_REFETCH_COOLDOWN = 30

_jwks_clients = {}
_jwks_lock = threading.Lock()


def is_configured(config=None):
    config = config or current_app.config
    return bool(config.get("SUPABASE_JWT_SECRET") or config.get("SUPABASE_URL"))


def bearer_token(headers):
    """The token of an `Authorization: Bearer <token>` header, else None."""
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _refuse(message):
    return ApiError(401, "invalid_token", message)


def _jwks_client(supabase_url):
    """One cached key set per project; PyJWKClient fetches it again when a token names an unknown `kid`."""
    url = f"{supabase_url.rstrip('/')}/auth/v1/.well-known/jwks.json"
    with _jwks_lock:
        if url not in _jwks_clients:
            _jwks_clients[url] = jwt.PyJWKClient(url, cache_keys=True, lifespan=600, timeout=5,
                                                 cooldown_duration=JWKS_REFETCH_COOLDOWN)
        return _jwks_clients[url]


def verify_access_token(token):
    """The claims of a valid Supabase access token; ApiError(401) otherwise."""
    config = current_app.config
    if not is_configured(config):
        raise _refuse("Bearer tokens are not accepted here: Supabase Auth is not configured.")
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise _refuse("The bearer token is missing or too long.")
    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
    except jwt.InvalidTokenError:
        raise _refuse("The bearer token is not a JWT.") from None
    secret, supabase_url = config.get("SUPABASE_JWT_SECRET"), config.get("SUPABASE_URL")
    if algorithm == "HS256" and secret:
        key = secret
    elif algorithm in ASYMMETRIC_ALGORITHMS and supabase_url:
        try:
            key = _jwks_client(supabase_url).get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientConnectionError:
            raise ApiError(503, "auth_unreachable", "Supabase Auth's signing keys could not be fetched.") from None
        except jwt.PyJWKClientError:
            raise _refuse("The bearer token was signed with a key the project does not publish.") from None
    else:  # "none", an unknown algorithm, or one this deployment has no key for
        raise _refuse(f"Bearer tokens signed with {algorithm!r} are not accepted.")
    issuer = f"{supabase_url.rstrip('/')}/auth/v1" if supabase_url else None
    try:
        claims = jwt.decode(token, key, algorithms=[algorithm], audience=AUDIENCE, issuer=issuer, leeway=30,
                            options={"require": ["exp", "sub", "aud"]})
    except jwt.ExpiredSignatureError:
        raise _refuse("The bearer token has expired; refresh the Supabase session.") from None
    except jwt.InvalidTokenError as error:
        raise _refuse(f"The bearer token is not valid: {error}.") from None
    if not isinstance(claims.get("sub"), str) or not claims["sub"] or len(claims["sub"]) > 64:
        raise _refuse("The bearer token has no valid subject.")
    if claims.get("is_anonymous") is True:
        raise _refuse("Anonymous Supabase users cannot use Reclip.")
    return claims


def user_for_claims(claims):
    """The Reclip user of a Supabase user: linked by `sub`, else by email the first time, else created.

    Supabase issues sessions only for confirmed emails (keep "Confirm email" on), so the token's
    email is a verified one. A dashboard-only user's super admin role follows `app_metadata.role`;
    a user with a Reclip password keeps the role Reclip gave them, and can gain it from the token.
    """
    subject = claims["sub"]
    app_metadata = claims.get("app_metadata") if isinstance(claims.get("app_metadata"), dict) else {}
    super_admin = app_metadata.get("role") == SUPER_ADMIN_ROLE
    user = _linked_user(subject)
    if user is None:
        try:
            user = _link(subject, claims.get("email"), super_admin)
        except IntegrityError:  # a concurrent first request linked or created them
            db.session.rollback()
            user = _linked_user(subject)
            if user is None:
                raise
    if user.password_hash == NO_PASSWORD:
        user.is_super_admin = super_admin  # a dashboard-only user's role follows the dashboard
    elif super_admin:
        user.is_super_admin = True
    if db.session.dirty:
        db.session.commit()
    return user


def _linked_user(subject):
    return db.session.scalar(select(User).where(User.supabase_user_id == subject))


def _link(subject, email, super_admin):
    email = normalize_email(email if isinstance(email, str) else "")
    if "@" not in email or len(email) > 320:
        raise _refuse("The Supabase user has no email address.")
    user = find_user_by_email(email)
    if user is None:
        user = User(email=email, password_hash=NO_PASSWORD, is_super_admin=super_admin)
        db.session.add(user)
    elif user.supabase_user_id is not None:
        raise ApiError(409, "account_conflict", f"{email} belongs to another dashboard account already.")
    user.supabase_user_id = subject
    db.session.commit()
    return user


def authenticate_token(token):
    """The Reclip user of a Supabase access token; ApiError(401) for a bad token."""
    return user_for_claims(verify_access_token(token))
