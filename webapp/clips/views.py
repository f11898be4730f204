from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user, login_required

from webapp.clips import service
from webapp.errors import ApiError
from webapp.extensions import limiter
from webapp.recordings import service as recordings
from webapp.delivery import json_requested, send_media

bp = Blueprint("clips", __name__, url_prefix="/api/livekit/recordings/clips")


def _per_user():
    return f"user:{current_user.id}"


@bp.post("")
@login_required
@limiter.limit(lambda: current_app.config["CLIP_RATE_LIMIT"], key_func=_per_user,
               deduct_when=lambda response: response.status_code in (201, 202),  # clips made, not typos
               error_message="You are making clips faster than anyone needs to. Wait a minute, then try again.")
def create():
    params = service.parse_clip_request(request.get_json(silent=True))
    clip, source_url, upload = service.create_clip(current_user, *params)
    if clip.mode == "server":
        return jsonify({"clip": service.serialize_clip(clip)}), 202
    return jsonify({"clip": service.serialize_clip(clip), "source_url": source_url,
                    "upload": upload.as_json()}), 201


@bp.get("")
@login_required
def list_clips():
    source_type = recordings.parse_type(request.args.get("type"))
    recording_id = recordings.parse_id(request.args.get("id"))
    _recording, clips = service.list_clips(current_user, source_type, recording_id)
    return jsonify({"clips": [service.serialize_clip(clip) for clip in clips]})


@bp.get("/<clip_id>")
@login_required
def get_clip(clip_id):
    clip, _recording = service.get_visible_clip(current_user, clip_id)
    return jsonify({"clip": service.serialize_clip(clip)})


@bp.post("/<clip_id>/complete")
@login_required
def complete(clip_id):
    clip, _recording = service.get_visible_clip(current_user, clip_id)
    try:
        clip = service.complete_clip(current_user, clip)
    except service.ClipRejected as exc:
        return jsonify({"error": {"code": exc.code, "message": exc.message},
                        "clip": service.serialize_clip(exc.clip)}), exc.status
    return jsonify({"clip": service.serialize_clip(clip)})


@bp.get("/<clip_id>/download")
@login_required
def download(clip_id):
    as_json = json_requested()
    clip, recording = service.get_visible_clip(current_user, clip_id)
    return send_media(service.clip_media_location(clip, recording, "attachment"), as_json)


@bp.get("/<clip_id>/play")
@login_required
def play(clip_id):
    clip, recording = service.get_visible_clip(current_user, clip_id)
    return send_media(service.clip_media_location(clip, recording, "inline"))


@bp.patch("/<clip_id>")
@login_required
def rename(clip_id):
    clip, recording = service.get_visible_clip(current_user, clip_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "title" not in body:
        raise ApiError(400, "invalid_json", "The body must be a JSON object with a title.")
    return jsonify({"clip": service.serialize_clip(service.rename_clip(current_user, clip, recording, body["title"]))})


@bp.delete("/<clip_id>")
@login_required
def delete(clip_id):
    clip, recording = service.get_visible_clip(current_user, clip_id)
    service.delete_clip(current_user, clip, recording)
    return "", 204
