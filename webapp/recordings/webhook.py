"""LiveKit Egress webhooks: verify the signed JWT and body hash, register finished recordings."""
import base64
import hashlib
from urllib.parse import urlsplit

import jwt
from flask import current_app
from sqlalchemy import select

from webapp import posters, timeline
from webapp.errors import ApiError
from webapp.extensions import db
from webapp.recordings.models import MeetRoom

NANOSECONDS = 1_000_000_000


def verify(authorization, body):
    """The webhook's claims; ApiError(401) unless LiveKit signed this very body."""
    key, secret = current_app.config["LIVEKIT_API_KEY"], current_app.config["LIVEKIT_API_SECRET"]
    if not key or not secret:
        raise ApiError(404, "not_found", "The LiveKit webhook is not configured here.")
    token = (authorization or "").removeprefix("Bearer ").strip()
    if not token:
        raise ApiError(401, "unauthorized", "The webhook has no Authorization token.")
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], issuer=key, options={"require": ["iss", "exp"]},
                            leeway=30)
    except jwt.PyJWTError as exc:
        raise ApiError(401, "bad_signature", f"The webhook token is not valid ({exc.__class__.__name__}).") from None
    body_hash = base64.b64encode(hashlib.sha256(body).digest()).decode()
    if claims.get("sha256") != body_hash:
        raise ApiError(401, "bad_signature", "The webhook body does not match its signed hash.")
    return claims


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def handle_event(event):
    """Act on one webhook event; returns what was done, in a word."""
    if not isinstance(event, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    if event.get("event") != "egress_ended":
        return "ignored"
    info = event.get("egressInfo")
    if not isinstance(info, dict) or not isinstance(info.get("egressId"), str):
        raise ApiError(400, "invalid_event", "egress_ended needs egressInfo with an egressId.")
    if info.get("status") != "EGRESS_COMPLETE":
        return "ignored"
    return register_egress(info)


def register_egress(info):
    """Record the egress's file on its meet room (idempotent by egress id)."""
    egress_id = info["egressId"][:64]
    if db.session.scalar(select(MeetRoom.id).where(MeetRoom.egress_id == egress_id)):
        return "already_registered"
    results = info.get("fileResults") or ([info["file"]] if isinstance(info.get("file"), dict) else [])
    result = next((r for r in results if isinstance(r, dict) and (r.get("location") or r.get("filename"))), None)
    if result is None:
        raise ApiError(400, "invalid_event", "egress_ended has no file result.")
    room = db.session.scalar(select(MeetRoom).where(MeetRoom.room_name == str(info.get("roomName", "")))
                             .order_by(MeetRoom.created_at.desc()).limit(1))
    if room is None:
        current_app.logger.info("egress %s for unknown room %r ignored", egress_id, info.get("roomName"))
        return "unknown_room"
    location = result.get("location") or result.get("filename")
    if urlsplit(location).scheme not in ("", "http", "https", "s3"):
        raise ApiError(400, "invalid_event", "The file location is not a URL or key.")
    duration_ns, size = _int(result.get("duration")), _int(result.get("size"))
    if room.recording_url:  # the room was recorded before: this is another recording of it
        room = MeetRoom(product=room.product, owner_id=room.owner_id, room_name=room.room_name, title=room.title)
        db.session.add(room)
    room.recording_url = location
    room.egress_id = egress_id
    room.duration_seconds = duration_ns / NANOSECONDS if duration_ns else None
    room.size_bytes = size
    db.session.commit()
    posters.request_poster(room)
    timeline.request_timeline(room)
    return "registered"
