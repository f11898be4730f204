from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from webapp.auth import service
from webapp.extensions import limiter

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
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    if request.method == "POST":
        email = request.form.get("email", "")
        user = service.authenticate(email, request.form.get("password", ""))
        if user:
            session.pop("csrf_token", None)  # a token seen before login is worthless after it
            login_user(user)
            return redirect(_safe_next(request.form.get("next")))
        flash("Wrong email or password.", "error")
        return render_template("auth/login.html", email=email, next=request.form.get("next", "")), 401
    return render_template("auth/login.html", email="", next=request.args.get("next", ""))


@bp.post("/logout")
@login_required
def logout():
    service.end_all_sessions(current_user)
    logout_user()
    session.pop("csrf_token", None)
    return redirect(url_for("auth.login"))
