"""Login, logout and users."""
from flask import current_app, redirect, request, url_for

from webapp.auth import service, supabase
from webapp.errors import error_response, wants_json
from webapp.extensions import csrf, login_manager


def init_app(app):
    # The final PUBLIC_BASE_URL decides, also when create_app was given one that the environment lacks.
    if app.config.get("PUBLIC_BASE_URL", "").startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = True
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    login_manager.user_loader(_load_user)
    login_manager.request_loader(_load_bearer_user)
    login_manager.unauthorized_handler(_unauthorized)
    # CSRF is checked here rather than by Flask-WTF's own hook, to let bearer calls through (see below).
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.before_request(_check_csrf)


def _check_csrf():
    """Cookie sessions need the CSRF token. A bearer call carries no ambient credential (a cross-site
    page cannot add an Authorization header), and is authenticated by its token alone: see _load_user."""
    if supabase.bearer_token(request.headers) is None and current_app.config["WTF_CSRF_ENABLED"]:
        csrf.protect(apply_exemptions=True)


def _load_user(session_user_id):
    """The user of a session, unless the session was signed before their last logout or password change.

    Never for a bearer call, which skipped the CSRF check: its token alone decides (_load_bearer_user).
    """
    if supabase.bearer_token(request.headers) is not None:
        return None
    user_id, _, generation = str(session_user_id).partition(".")
    if not (user_id.isascii() and user_id.isdigit() and generation.isascii() and generation.isdigit()
            and len(user_id) <= 18 and len(generation) <= 18):
        return None
    user = service.get_user(user_id)
    if user is None or user.session_generation != int(generation):
        return None
    return user


def _load_bearer_user(request):
    """The user of a Supabase access token (ApiError 401 for a bad one); None without a bearer token."""
    token = supabase.bearer_token(request.headers)
    return None if token is None else supabase.authenticate_token(token)


def _unauthorized():
    """API: 401 JSON. Pages: to the login page, coming back afterwards."""
    if wants_json():
        return error_response(401, "unauthorized", "Log in first.")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
