"""Share links: create, reuse the default one, list, revoke, and resolve a public token."""
import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app, request, url_for
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash

from webapp import posters
from webapp.auth.service import hash_password
from webapp.clips import service as clips
from webapp.clips.models import RecordingClip
from webapp.clips.states import ClipStatus
from webapp.delivery import locate
from webapp.errors import ApiError, not_found
from webapp.extensions import db
from webapp.recordings import service as recordings
from webapp.recordings.models import RECORDING_MODELS
from webapp.shares.models import ShareLink
from webapp.timeutil import utcnow

TARGET_TYPES = ("meet", "voice", "clip")
MAX_EXPIRY_SECONDS = 365 * 24 * 3600
MIN_EXPIRY_SECONDS = 60
_TOKEN_LENGTH = 43  # token_urlsafe(32)


def hash_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


# --- parsing -----------------------------------------------------------------------------

def parse_share_request(body):
    """(target_type, target_id, expires_in_seconds or None, allow_download, password or None, default)."""
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    target_type = body.get("target_type")
    if target_type not in TARGET_TYPES:
        raise ApiError(400, "invalid_target_type", "target_type must be meet, voice or clip.")
    raw_id = body.get("target_id")
    if target_type == "clip":
        if not isinstance(raw_id, str) or len(raw_id) != 32:
            raise ApiError(400, "invalid_target_id", "target_id must be a clip id.")
        target_id = raw_id
    else:
        target_id = recordings.parse_id(raw_id, "target_id")
    expires = body.get("expires_in_seconds")
    if expires is not None:
        if isinstance(expires, bool) or not isinstance(expires, int) or not MIN_EXPIRY_SECONDS <= expires <= MAX_EXPIRY_SECONDS:
            raise ApiError(400, "invalid_expires_in_seconds",
                           f"expires_in_seconds must be null (never) or an integer from {MIN_EXPIRY_SECONDS} "
                           f"to {MAX_EXPIRY_SECONDS}.")
    allow_download = body.get("allow_download", True)
    if not isinstance(allow_download, bool):
        raise ApiError(400, "invalid_allow_download", "allow_download must be true or false.")
    password = body.get("password")
    if password == "":  # an empty field means no password; 0 or false are junk, not "none"
        password = None
    if password is not None and (not isinstance(password, str) or not 8 <= len(password) <= 128):
        raise ApiError(400, "invalid_password", "password must be 8 to 128 characters.")
    default = body.get("default", False)
    if not isinstance(default, bool):
        raise ApiError(400, "invalid_default", "default must be true or false.")
    if default and (expires is not None or password or not allow_download):
        raise ApiError(400, "invalid_default", "The default link never expires, has no password and allows download.")
    return target_type, target_id, expires, allow_download, password, default


# --- targets -------------------------------------------------------------------------------

def load_visible_target(user, target_type, target_id):
    """(recording, clip or None) within the user's scope; ApiError(404) otherwise."""
    if target_type == "clip":
        clip, recording = clips.get_visible_clip(user, target_id)
        return recording, clip
    return recordings.get_visible_recording(user, target_type, target_id), None


def load_public_target(link):
    """(recording, clip or None) for a share link, re-checking that it still exists and is allowed."""
    allowed = current_app.config["ALLOWED_PRODUCTS"]
    clip = None
    if link.target_type == "clip":
        clip = db.session.get(RecordingClip, link.target_id)
        if clip is None or clip.status != ClipStatus.READY:
            return None, None
        source_type, source_id = clip.source_type, clip.source_id
    else:
        source_type, source_id = link.target_type, int(link.target_id)
    model = RECORDING_MODELS[source_type]
    recording = db.session.scalar(select(model).where(model.id == source_id, model.product.in_(allowed)))
    return (recording, clip) if recording else (None, None)


# --- creating ----------------------------------------------------------------------------------

def _default_token(user, target_type, target_id, generation):
    """The default link's token, derived so that Copy link can give the same link again."""
    message = f"reclip.share.default|{user.id}|{target_type}|{target_id}|{generation}".encode()
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def share_url(token):
    base = current_app.config["PUBLIC_BASE_URL"] or request.host_url.rstrip("/")
    return base + url_for("shares.share_page", token=token)


def create_share_link(user, target_type, target_id, expires_in, allow_download, password, default):
    """(link, token, created): a new link, or the user's existing default link for the target."""
    recording, _clip = load_visible_target(user, target_type, target_id)
    recordings.check_playable(recording)
    target_id = str(target_id)
    if default:
        existing = db.session.scalar(select(ShareLink).where(
            ShareLink.created_by_id == user.id, ShareLink.target_type == target_type,
            ShareLink.target_id == target_id, ShareLink.is_default.is_(True), ShareLink.revoked_at.is_(None)))
        generation = db.session.scalar(select(func.count()).select_from(ShareLink).where(
            ShareLink.created_by_id == user.id, ShareLink.target_type == target_type,
            ShareLink.target_id == target_id, ShareLink.is_default.is_(True)))
        if existing:
            return existing, _default_token(user, target_type, target_id, generation - 1), False
        token = _default_token(user, target_type, target_id, generation)
    else:
        token = secrets.token_urlsafe(32)
    link = ShareLink(
        token_hash=hash_token(token), target_type=target_type, target_id=target_id, created_by_id=user.id,
        expires_at=utcnow() + timedelta(seconds=expires_in) if expires_in else None,
        allow_download=allow_download, password_hash=hash_password(password) if password else None,
        is_default=default,
    )
    db.session.add(link)
    try:
        db.session.commit()
    except IntegrityError:
        # Two Copy link clicks at once derive the same default token: the first one won.
        db.session.rollback()
        existing = db.session.scalar(select(ShareLink).where(ShareLink.token_hash == hash_token(token)))
        if not default or existing is None:
            raise
        return existing, token, False
    return link, token, True


# --- listing and revoking -----------------------------------------------------------------------

def _own_links(user):
    query = select(ShareLink)
    return query if user.is_super_admin else query.where(ShareLink.created_by_id == user.id)


def list_share_links(user, target_type=None, target_id=None):
    query = _own_links(user).order_by(ShareLink.created_at.desc(), ShareLink.id.desc()).limit(500)
    if target_type:
        query = query.where(ShareLink.target_type == target_type, ShareLink.target_id == str(target_id))
    return db.session.scalars(query).all()


def revoke_share_link(user, link_id):
    link = db.session.scalar(_own_links(user).where(ShareLink.id == link_id))
    if link is None:
        raise not_found("share link")
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        db.session.commit()
    return link


def link_state(link):
    """'active', 'revoked' or 'expired'."""
    if link.revoked_at is not None:
        return "revoked"
    if link.expires_at is not None and link.expires_at <= utcnow():
        return "expired"
    return "active"


def serialize_share_link(link, token=None):
    return {
        "id": link.id, "url": share_url(token) if token else None,
        "target_type": link.target_type, "target_id": link.target_id,
        "expires_at": link.expires_at.isoformat() if link.expires_at else None,
        "revoked_at": link.revoked_at.isoformat() if link.revoked_at else None,
        "state": link_state(link), "allow_download": link.allow_download,
        "has_password": link.password_hash is not None, "is_default": link.is_default,
        "view_count": link.view_count, "created_at": link.created_at.isoformat(),
    }


# --- the public side --------------------------------------------------------------------------

class ShareGone(ApiError):
    def __init__(self, message):
        super().__init__(410, "gone", message)


def resolve_share_link(token):
    """(link, recording, clip) for a public token: 404 unknown, 410 revoked or expired."""
    if not isinstance(token, str) or not 20 <= len(token) <= 64:
        raise not_found("link")
    link = db.session.scalar(select(ShareLink).where(ShareLink.token_hash == hash_token(token)))
    if link is None:
        raise not_found("link")
    state = link_state(link)
    if state != "active":
        raise ShareGone("This link was revoked by its owner." if state == "revoked" else "This link has expired.")
    recording, clip = load_public_target(link)
    if recording is None:
        raise ShareGone("What this link pointed to is no longer available.")
    return link, recording, clip


def check_share_password(link, password):
    return link.password_hash is None or check_password_hash(link.password_hash, password or "")


def count_view(link):
    db.session.execute(update(ShareLink).where(ShareLink.id == link.id).values(view_count=ShareLink.view_count + 1))
    db.session.commit()


# Behind a public link the signed URLs are short-lived, so that revoking the link ends access within
# a minute; the page's player asks the stable /s/<token>/media again when one runs out.

def shared_media(recording, clip):
    """(media kind, content type, download filename) of what a link shows."""
    if clip is not None:
        return clip.media_kind, clips.clip_content_type(clip), clips.clip_filename(clip, recording)
    filename = recordings.download_filename(recording)
    return recordings.media_kind_of(recording), recordings.MEDIA_TYPES[filename.rsplit(".", 1)[1]], filename


def public_media_location(link, recording, clip, disposition):
    if disposition == "attachment" and not link.allow_download:
        raise ApiError(403, "download_not_allowed", "The owner of this link does not allow downloads.")
    ttl = current_app.config["SHARE_MEDIA_TTL"]
    if clip is not None:
        return clips.clip_media_location(clip, recording, disposition, ttl=ttl)
    return recordings.media_location(recording, disposition, ttl=ttl)


def poster_location(recording, clip):
    """The poster's signed URL; ApiError(404) while there is none (it is made by a job, never here)."""
    target = clip or recording
    if posters.request_poster(target) != posters.READY:
        raise ApiError(404, "no_poster", "There is no poster image for this media (yet).")
    return locate(posters.poster_key(target), "poster.jpg", "image/jpeg", "inline",
                  current_app.config["SHARE_MEDIA_TTL"], what="poster")
