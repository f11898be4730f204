from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user, login_required

from webapp.errors import ApiError
from webapp.extensions import csrf
from webapp.recordings import service, webhook
from webapp import posters, timeline
from webapp.storage import get_storage
from webapp.delivery import json_requested, locate, send_media

bp = Blueprint("recordings", __name__)


def _requested_recording():
    source_type = service.parse_type(request.args.get("type"))
    recording_id = service.parse_id(request.args.get("id"))
    return service.get_visible_recording(current_user, source_type, recording_id)


@bp.get("/api/livekit/recordings/download")
@login_required
def download():
    as_json = json_requested()
    return send_media(service.media_location(_requested_recording(), "attachment"), as_json)


@bp.get("/api/livekit/recordings/play")
@login_required
def play():
    recording = _requested_recording()
    if request.args.get("format", "json") != "json":
        raise ApiError(400, "invalid_format", "format must be json, or absent for the media itself.")
    if request.args.get("format") == "json":  # for fetch(): a cross-origin redirect would hide the origin
        return jsonify({"url": service.browser_source_url(recording), "size_bytes": recording.size_bytes,
                        "expires_in": current_app.config["SIGNED_URL_TTL"],
                        "container": service.container_of(recording)})
    return send_media(service.media_location(recording, "inline"))


@bp.patch("/api/livekit/recordings/owner")
@login_required
def assign():
    recording = _requested_recording()
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "owner" not in body:
        raise ApiError(400, "invalid_json", "The body must be a JSON object with an owner (an email, or null).")
    if not current_user.is_super_admin:
        raise ApiError(403, "not_allowed", "Only a super admin can assign a recording to someone.")
    owner = service.assign_owner(recording, body["owner"])
    return jsonify({"recording": service.serialize_recording(recording, owner.email if owner else None)})


@bp.get("/api/livekit/recordings/timeline")
@login_required
def timeline_data():
    """The editor's thumbnails, waveform and keyframes: signed URLs once ready (queued at first ask)."""
    recording = _requested_recording()
    status = timeline.request_timeline(recording)
    body = {"status": status}
    if status == timeline.READY:
        storage, ttl = get_storage(), current_app.config["SIGNED_URL_TTL"]
        for name, (key, content_type) in timeline.stored_objects(recording).items():
            body[name] = storage.signed_download_url(key, filename=key.rsplit("/", 1)[1], disposition="inline",
                                                     content_type=content_type, ttl=ttl)
    return jsonify(body)


@bp.get("/api/livekit/recordings/poster")
@login_required
def poster():
    recording = _requested_recording()
    if recording.poster_status != posters.READY:
        raise ApiError(404, "no_poster", "This recording has no poster image (yet).")
    return send_media(locate(posters.poster_key(recording), "poster.jpg", "image/jpeg", "inline", what="poster"))


@bp.post("/api/livekit/webhook")
@csrf.exempt  # authorised by LiveKit's signed token instead
def livekit_webhook():
    request.max_content_length = 1_000_000
    body = request.get_data(cache=False)
    webhook.verify(request.headers.get("Authorization"), body)
    try:
        event = current_app.json.loads(body)  # the app's rules: no deep nesting, no NUL characters
    except ValueError:
        raise ApiError(400, "invalid_json", "The body is not JSON.") from None
    status, details = webhook.handle_event(event)
    return jsonify({"status": status, **details})
