from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from webapp.auth import service, supabase
from webapp.errors import ApiError
from webapp.extensions import csrf, limiter

bp = Blueprint("auth", __name__)


def _safe_next(target):
    """Only same-site paths: never redirect a login to another host."""
    if not target:
        return url_for("library.page")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("library.page")
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"], deduct_when=lambda response: response.status_code != 302)
def login():
    if current_user.is_authenticated and request.method in ("GET", "HEAD"):
        return redirect(_safe_next(request.args.get("next")))
    if request.method == "POST":
        email = request.form.get("email", "")
        user = service.authenticate(email, request.form.get("password", ""))
        if user:
            session.pop("csrf_token", None)  # a token seen before login is worthless after it
            login_user(user)
            return redirect(_safe_next(request.form.get("next")))
        flash("Wrong email or password.", "error")
        return render_template("auth/login.html", email=email, next=request.form.get("next", ""),
                               supabase=supabase.is_configured()), 401
    return render_template("auth/login.html", email="", next=request.args.get("next", ""),
                           supabase=supabase.is_configured())


@bp.get("/auth/supabase")
def supabase_page():
    """Signs the browser in with the dashboard's Supabase session (in the URL fragment, or this origin's
    supabase-js storage), then goes on to `next`."""
    if not supabase.is_configured():
        abort(404)
    return render_template("auth/supabase.html", next=_safe_next(request.args.get("next")))


@bp.post("/auth/supabase")
@csrf.exempt  # only requests a cross-site page cannot send without CORS, which /auth/ never answers
@limiter.limit("30 per minute")
def supabase_exchange():
    """A Supabase access token for a Reclip session cookie: `Authorization: Bearer <token>`, or a JSON
    body `{"access_token": ...}` sent as application/json. A cross-site form can send neither, so no
    page elsewhere can sign a visitor in as someone else.
    """
    if not supabase.is_configured():
        raise ApiError(404, "not_found", "Supabase Auth is not configured here.")
    token = supabase.bearer_token(request.headers)
    if token is None and request.mimetype == "application/json":
        body = request.get_json(silent=True)
        token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise ApiError(401, "invalid_token", "Send the Supabase access token as Authorization: Bearer <token>, "
                                             'or as JSON {"access_token": "<token>"}.')
    user = supabase.authenticate_token(token)
    session.pop("csrf_token", None)  # a token seen before login is worthless after it
    login_user(user)
    return jsonify({"user": {"email": user.email, "super_admin": user.is_super_admin}})


@bp.post("/logout")
@login_required
def logout():
    service.end_all_sessions(current_user)
    logout_user()
    session.pop("csrf_token", None)
    return redirect(url_for("auth.login"))
