from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from webapp.recordings import service
from webapp.recordings.delivery import send_media

bp = Blueprint("recordings", __name__)


@bp.get("/")
def index():
    return redirect(url_for("recordings.page"))


@bp.get("/recordings")
@login_required
def page():
    return render_template("recordings/index.html")


@bp.get("/api/livekit/recordings")
@login_required
def list_recordings():
    source_type = service.parse_type(request.args.get("type", "meet"))
    limit = service.parse_limit(request.args.get("limit"))
    rows, next_cursor = service.list_recordings(current_user, source_type, limit, request.args.get("cursor") or None)
    return jsonify({"recordings": [service.serialize_recording(r, email) for r, email in rows],
                    "next_cursor": next_cursor})


def _requested_recording():
    source_type = service.parse_type(request.args.get("type"))
    recording_id = service.parse_id(request.args.get("id"))
    return service.get_visible_recording(current_user, source_type, recording_id)


@bp.get("/api/livekit/recordings/download")
@login_required
def download():
    return send_media(service.media_location(_requested_recording(), "attachment"))


@bp.get("/api/livekit/recordings/play")
@login_required
def play():
    return send_media(service.media_location(_requested_recording(), "inline"))
