"""Login, logout and users."""
from flask import redirect, request, url_for

from webapp.auth import service
from webapp.errors import error_response, wants_json
from webapp.extensions import login_manager


def init_app(app):
    # The final PUBLIC_BASE_URL decides, also when create_app was given one that the environment lacks.
    if app.config.get("PUBLIC_BASE_URL", "").startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = True
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_unauthorized)


def _load_user(user_id):
    try:
        return service.get_user(user_id)
    except (TypeError, ValueError):
        return None


def _unauthorized():
    """API: 401 JSON. Pages: to the login page, coming back afterwards."""
    if wants_json():
        return error_response(401, "unauthorized", "Log in first.")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
