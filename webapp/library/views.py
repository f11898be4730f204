from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from webapp.library import service
from webapp.recordings.service import parse_limit, parse_query, parse_type
from webapp.wasm import wasm_settings

bp = Blueprint("library", __name__)


@bp.get("/")
def index():
    return redirect(url_for("library.page"))


@bp.get("/recordings")
@login_required
def page():
    return render_template("recordings/index.html", wasm=wasm_settings())


@bp.get("/api/livekit/recordings")
@login_required
def list_recordings():
    source_type = parse_type(request.args.get("type", "meet"))
    limit = parse_limit(request.args.get("limit"))
    items, next_cursor = service.recordings_with_clips(current_user, source_type, limit,
                                                       request.args.get("cursor") or None,
                                                       parse_query(request.args.get("q")))
    return jsonify({"recordings": items, "next_cursor": next_cursor})
