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
from webapp.storage import get_storage

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
    """A size or duration (LiveKit's int64, sent as a string): None unless a non-negative 64-bit integer."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if 0 <= number < 2**63 else None


def _list(value):
    return value if isinstance(value, list) else []


PLAYABLE = (".mp4", ".m4a", ".mov", ".webm", ".ogg", ".mp3", ".wav", ".mkv")
FAILED = ("EGRESS_FAILED", "EGRESS_ABORTED")


def handle_event(event):
    """Act on one webhook event; (what was done in a word, details)."""
    if not isinstance(event, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    if event.get("event") != "egress_ended":
        return "ignored", {}
    info = event.get("egressInfo")
    if not isinstance(info, dict) or not isinstance(info.get("egressId"), str):
        raise ApiError(400, "invalid_event", "egress_ended needs egressInfo with an egressId.")
    if info.get("status") in FAILED:
        return register_failure(info)
    if info.get("status") != "EGRESS_COMPLETE":
        return "ignored", {}
    return register_egress(info)


def _default_product():
    return current_app.config.get("LIVEKIT_DEFAULT_PRODUCT") or current_app.config["ALLOWED_PRODUCTS"][0]


def _room_for(info, egress_id):
    """A new recording row of the egress's room: its owner and product from the room's last recording,
    or, for a room Reclip has never seen, no owner (a super admin assigns one) and the default product."""
    room_name = str(info.get("roomName") or "")[:255]
    known = db.session.scalar(select(MeetRoom).where(MeetRoom.room_name == room_name)
                              .order_by(MeetRoom.created_at.desc()).limit(1)) if room_name else None
    if known is not None and not known.recording_url and not known.failure and not known.egress_id:
        known.egress_id = egress_id  # a room row the dashboard made before it was recorded
        return known
    room = MeetRoom(product=known.product if known else _default_product(), owner_id=known.owner_id if known else None,
                    room_name=room_name, title=(known.title if known else "") or room_name, egress_id=egress_id)
    db.session.add(room)
    return room


def _playable(results):
    """(the first file result that a player can play, [what was skipped and why])."""
    chosen, skipped = None, []
    for result in results:
        if not isinstance(result, dict):
            continue
        location = str(result.get("location") or result.get("filename") or "")
        try:
            parts = urlsplit(location)
        except ValueError:  # "http://[::1/x.mp4"
            parts = None
        if not location or parts is None or parts.scheme not in ("", "http", "https", "s3"):
            skipped.append(f"{location or 'a file result'}: not a URL or key")
        elif not parts.path.lower().endswith(PLAYABLE):
            skipped.append(f"{location}: not a single playable file")
        elif chosen is not None:
            skipped.append(f"{location}: another file of the same egress")
        else:
            chosen = result
    return chosen, skipped


def register_egress(info):
    """Record the egress's file (idempotent by egress id); segments (HLS) and streams are skipped, said so."""
    egress_id = info["egressId"][:64]
    existing = db.session.scalar(select(MeetRoom.id).where(MeetRoom.egress_id == egress_id))
    if existing:
        return "already_registered", {"recording_id": existing}
    results = _list(info.get("fileResults")) or ([info["file"]] if isinstance(info.get("file"), dict) else [])
    result, skipped = _playable(results)
    for kind in ("segmentResults", "streamResults", "imageResults"):
        for item in _list(info.get(kind)):
            name = item.get("playlistLocation") or item.get("url") or item.get("location") if isinstance(item, dict) else None
            skipped.append(f"{name or kind}: {kind.removesuffix('Results')} output is not played here")
    if result is None:
        if skipped:
            return "nothing_playable", {"skipped": skipped}
        raise ApiError(400, "invalid_event", "egress_ended has no file result.")
    location = str(result.get("location") or result.get("filename"))
    duration_ns, size = _int(result.get("duration")), _int(result.get("size"))
    room = _room_for(info, egress_id)
    # A full URL into our own bucket becomes its key: signed, not proxied.
    room.recording_url = get_storage().key_for_url(location) or location
    room.duration_seconds = duration_ns / NANOSECONDS if duration_ns else None
    room.size_bytes = size
    db.session.commit()
    posters.request_poster(room)
    timeline.request_timeline(room)
    return "registered", {"recording_id": room.id, "skipped": skipped}


def register_failure(info):
    """An egress that ended FAILED or ABORTED: a failed recording, for super admins to see."""
    egress_id = info["egressId"][:64]
    existing = db.session.scalar(select(MeetRoom.id).where(MeetRoom.egress_id == egress_id))
    if existing:
        return "already_registered", {"recording_id": existing}
    room = _room_for(info, egress_id)
    room.recording_url = ""
    room.failure = (f"The recording {str(info.get('status')).removeprefix('EGRESS_').lower()}: "
                    f"{str(info.get('error') or 'no reason given')[:500]}")
    db.session.commit()
    return "failed_recorded", {"recording_id": room.id}
