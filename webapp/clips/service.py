"""Clips: validate a request, sign the upload, check what arrived, list and delete."""
import math
import re
import uuid
from datetime import timedelta

from flask import current_app, url_for
from sqlalchemy import func, select

from webapp import posters
from webapp.clips import states
from webapp.clips.models import RecordingClip
from webapp.clips.states import ClipStatus
from webapp.delivery import locate, open_media
from webapp.errors import ApiError, not_found
from webapp.extensions import db
from webapp.jobs import enqueue_cut
from webapp.media import MP4_FORMATS, MediaError, probe
from webapp.recordings import service as recordings
from webapp.recordings.models import RECORDING_MODELS
from webapp.storage import get_storage
from webapp.storage.disposition import safe_filename
from webapp.timeutil import utcnow

MIN_CLIP_SECONDS = 1.0
DURATION_TOLERANCE = 2.5  # stream copy cuts at keyframes
UPLOAD_MARGIN = 1.5  # bitrate varies along a recording
UPLOAD_SLACK_BYTES = 2_000_000  # a keyframe interval on each side plus the moov atom
_CLIP_ID = re.compile(r"^[0-9a-f]{32}$")
# A clip is a stream copy into MP4: an M4A when its recording has no picture.
CLIP_EXTENSIONS = {"video": "mp4", "audio": "m4a"}
CLIP_TYPES = {"video": "video/mp4", "audio": "audio/mp4"}
# Where browsers upload clips before `complete` checks them; the bucket expires what is left here.
UPLOAD_PREFIX = "clips/uploads/"


# --- parsing ----------------------------------------------------------------------

def _number(body, name):
    value = body.get(name)
    # An integer beyond float range (JSON allows 10**400) makes math.isfinite raise OverflowError.
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or (isinstance(value, int) and abs(value) > 2**1023) or not math.isfinite(value)):
        raise ApiError(400, f"invalid_{name}", f"{name} must be a number of seconds.")
    return float(value)


MAX_TITLE = 200


def parse_title(value):
    """A clip title from JSON: None (take the default) or a clean string of at most 200 characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(400, "invalid_title", "title must be text.")
    title = " ".join(value.split())  # one line, no control characters or runs of spaces
    if len(title) > MAX_TITLE:
        raise ApiError(400, "invalid_title", f"title is at most {MAX_TITLE} characters.")
    return title or None


def parse_clip_request(body):
    """(type, id, start, end, mode, precise, title) from a JSON body; ApiError(400) for anything off."""
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    source_type = recordings.parse_type(body.get("type"))
    recording_id = recordings.parse_id(body.get("id"))
    start, end = _number(body, "start_seconds"), _number(body, "end_seconds")
    mode = body.get("mode", "browser")
    if mode not in ("browser", "server"):
        raise ApiError(400, "invalid_mode", "mode must be browser or server.")
    precise = body.get("precise", False)
    if not isinstance(precise, bool):
        raise ApiError(400, "invalid_precise", "precise must be true or false.")
    if start < 0:
        raise ApiError(400, "invalid_range", "start_seconds cannot be negative.")
    if end <= start:
        raise ApiError(400, "invalid_range", "end_seconds must be after start_seconds.")
    if end - start < MIN_CLIP_SECONDS:
        raise ApiError(400, "clip_too_short", "A clip lasts at least 1 second.")
    max_seconds = current_app.config["CLIP_MAX_SECONDS"]
    if end - start > max_seconds:
        raise ApiError(400, "clip_too_long", f"A clip lasts at most {max_seconds} seconds.")
    return source_type, recording_id, start, end, mode, precise, parse_title(body.get("title"))


# --- scope ---------------------------------------------------------------------------

def get_visible_clip(user, clip_id):
    """The clip if the user may see its recording; ApiError(404) otherwise."""
    if not isinstance(clip_id, str) or not _CLIP_ID.match(clip_id):
        raise not_found("clip")
    clip = db.session.get(RecordingClip, clip_id)
    if clip is None or clip.status in states.GONE:
        raise not_found("clip")
    model = RECORDING_MODELS[clip.source_type]
    recording = db.session.scalar(recordings.visible_recordings(user, clip.source_type)
                                  .where(model.id == clip.source_id))
    if recording is None:
        raise not_found("clip")
    return clip, recording


def list_clips(user, source_type, recording_id):
    recording = recordings.get_visible_recording(user, source_type, recording_id)
    clips = db.session.scalars(
        select(RecordingClip)
        .where(RecordingClip.source_type == source_type, RecordingClip.source_id == recording.id,
               RecordingClip.status.in_(states.LISTED))
        .order_by(RecordingClip.created_at.desc())
    ).all()
    return recording, clips


def clips_by_recording(source_type, recording_ids):
    """{recording id: [clips, newest first]} for a page of recordings, in one query."""
    if not recording_ids:
        return {}
    clips = db.session.scalars(
        select(RecordingClip)
        .where(RecordingClip.source_type == source_type, RecordingClip.source_id.in_(recording_ids),
               RecordingClip.status.in_(states.LISTED))
        .order_by(RecordingClip.created_at.desc())
    ).all()
    grouped = {}
    for clip in clips:
        grouped.setdefault(clip.source_id, []).append(clip)
    return grouped


# --- creating a browser clip -----------------------------------------------------------

def _upload_limit(recording, source_size, start, end):
    """Bytes the clip may have: the source's bitrate times the clip's length, with a margin."""
    if not source_size:
        return current_app.config["BROWSER_TRIM_MAX_BYTES"]
    if not recording.duration_seconds:
        return source_size
    estimate = source_size / recording.duration_seconds * (end - start) * UPLOAD_MARGIN + UPLOAD_SLACK_BYTES
    return int(min(source_size, estimate))


def _too_many(message, retry_after):
    return ApiError(429, "too_many_clips", message, headers={"Retry-After": str(max(1, math.ceil(retry_after)))})


def _check_server_jobs(user):
    """At most CLIP_SERVER_JOBS_MAX of a person's clips queued or cutting on the server at once."""
    limit = current_app.config["CLIP_SERVER_JOBS_MAX"]
    running = db.session.scalar(select(func.count()).select_from(RecordingClip).where(
        RecordingClip.user_id == user.id, RecordingClip.mode == "server",
        RecordingClip.status.in_(states.SERVER_JOB_ACTIVE)))
    if running >= limit:
        raise _too_many(f"You have {running} clips being cut on the server. Wait for one to finish, then try again.",
                        30)


def _check_pending_uploads(user, new_bytes):
    """Upload permissions still valid (count and bytes) stay under the per-person caps."""
    config = current_app.config
    since = utcnow() - timedelta(seconds=config["SIGNED_URL_TTL"])
    count, total, oldest = db.session.execute(
        select(func.count(), func.coalesce(func.sum(RecordingClip.upload_max_bytes), 0),
               func.min(RecordingClip.created_at))
        .where(RecordingClip.user_id == user.id, RecordingClip.status == ClipStatus.AWAITING_UPLOAD,
               RecordingClip.created_at > since)).one()
    if count >= config["CLIP_PENDING_UPLOADS_MAX"] or total + new_bytes > config["CLIP_PENDING_UPLOAD_BYTES_MAX"]:
        wait = (oldest - since).total_seconds() if oldest else config["SIGNED_URL_TTL"]
        raise _too_many(f"You have {count} clips waiting for their upload. Finish them, or wait "
                        f"{max(1, math.ceil(wait))} seconds, then try again.", wait)


def clock(seconds):
    """13:42, or 1:13:42 past an hour."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def default_title(recording, start, end):
    return f"{recordings.title_of(recording)} {clock(start)}–{clock(end)}"[:MAX_TITLE]


def create_clip(user, source_type, recording_id, start, end, mode, precise, title=None):
    """A new clip row. Browser: with the source URL and a presigned upload. Server: queued for the job."""
    recording = recordings.get_visible_recording(user, source_type, recording_id)
    if recording.duration_seconds and end > recording.duration_seconds + 0.05:
        raise ApiError(400, "invalid_range",
                       f"end_seconds is past the end of the recording ({recording.duration_seconds:.1f} s).")
    if precise and mode != "server":
        raise ApiError(400, "precise_needs_server", "An exact cut is made on the server: use mode server.")
    if mode == "server":
        _check_server_jobs(user)
    recordings.check_clippable(recording)
    clip_id = uuid.uuid4().hex
    media_kind = recordings.media_kind_of(recording)
    clip = RecordingClip(
        id=clip_id, source_type=source_type, source_id=recording.id, recording_url=recording.recording_url,
        start_seconds=start, end_seconds=end, mode=mode, precise=precise, user_id=user.id, media_kind=media_kind,
        title=title or default_title(recording, start, end),
        storage_key=f"clips/{clip_id}.{CLIP_EXTENSIONS[media_kind]}",
    )
    if mode == "server":
        source_key = get_storage().key_for_url(recording.recording_url)
        if source_key:  # storage down: 503 now (StorageUnavailable), not a queued cut bound to fail
            get_storage().head(source_key)
        return _queue_server_clip(clip), None, None
    # Browser uploads land under their own prefix, which the bucket's lifecycle rule expires
    # (deploy/s3-lifecycle.json): complete copies a checked upload out of it.
    clip.storage_key = f"{UPLOAD_PREFIX}{clip_id}.{CLIP_EXTENSIONS[media_kind]}"
    storage = get_storage()
    source_key = storage.key_for_url(recording.recording_url)
    source_size = recording.size_bytes
    if source_key and not source_size:
        info = storage.head(source_key)
        source_size = info.size if info else None
    clip.status = ClipStatus.AWAITING_UPLOAD
    clip.upload_max_bytes = _upload_limit(recording, source_size, start, end)
    _check_pending_uploads(user, clip.upload_max_bytes)
    # Sign first: if storage fails, no row is left behind.
    source_url = recordings.browser_source_url(recording)
    upload = storage.signed_upload(clip.storage_key, content_type=clip_content_type(clip),
                                   max_bytes=clip.upload_max_bytes, ttl=current_app.config["SIGNED_URL_TTL"])
    db.session.add(clip)
    db.session.commit()
    return clip, source_url, upload


def _queue_server_clip(clip):
    clip.status = ClipStatus.QUEUED
    db.session.add(clip)
    db.session.commit()
    try:
        enqueue_cut(clip.id)
    except Exception as exc:  # the queue's own errors (Redis, SQLite) have no common base class
        current_app.logger.warning("could not queue clip %s: %s", clip.id, exc)
        db.session.delete(clip)
        db.session.commit()
        raise ApiError(503, "queue_unavailable", "The job queue cannot be reached right now. Try again shortly.") from None
    return clip


def clip_content_type(clip):
    return CLIP_TYPES[clip.media_kind]


# --- completing ------------------------------------------------------------------------

class ClipRejected(ApiError):
    """The uploaded clip failed a check: 422, the row failed and the object deleted."""

    def __init__(self, clip, message):
        super().__init__(422, "clip_rejected", message)
        self.clip = clip


def complete_clip(user, clip):
    """Check the uploaded object for real and mark the clip ready; ClipRejected otherwise."""
    if clip.user_id != user.id:
        raise ApiError(403, "not_your_clip", "Only the person who started this clip can finish it.")
    if not states.claim_check(clip):
        if clip.status == ClipStatus.READY:
            return clip  # idempotent
        if clip.status == ClipStatus.FAILED:
            raise ClipRejected(clip, clip.error or "This clip failed.")
        if clip.status == ClipStatus.PROCESSING and clip.mode == "browser":
            raise ApiError(409, "already_checking", "This clip is being checked already.")
        raise ApiError(409, "not_awaiting_upload", f"This clip is {clip.status}, not waiting for an upload.")
    storage = get_storage()
    upload_key = clip.storage_key
    # The presigned POST stays valid for its TTL: copy the upload where it cannot reach and check
    # the copy, so that what was checked is what stays.
    checked_key = ready_key(upload_key)
    try:
        copied = storage.copy(upload_key, checked_key)
        if copied is None:
            raise MediaError("Nothing was uploaded for this clip.")
        size, media = verify_clip_object(clip, copied, key=checked_key)
    except MediaError as exc:
        storage.delete(checked_key)
        storage.delete(upload_key)
        states.mark_failed(clip, str(exc))
        raise ClipRejected(clip, clip.error) from None
    except Exception:
        db.session.rollback()
        states.release_check(clip.id)  # storage failed mid-check (503): the upload may be completed again
        raise
    storage.delete(upload_key)
    finish(clip, size, media, key=checked_key)
    return clip


def finish(clip, size, media, key=None):
    """A checked clip object: the clip is ready, and its poster is asked for."""
    states.mark_ready(clip, size, media, key)
    posters.request_poster(clip)


def ready_key(upload_key):
    """clips/uploads/<id>.mp4 -> clips/<id>-ready.mp4: a key no upload policy names, out of the expiring prefix."""
    stem, _, ext = upload_key.rpartition("/")[2].rpartition(".")
    return f"clips/{stem}-ready.{ext}"


def verify_clip_object(clip, info=None, key=None):
    """(size, MediaInfo) of the clip's object at `key` (default its storage key; info: its head, when the
    caller has it already); MediaError with the reason in words when it is wrong."""
    storage = get_storage()
    key = key or clip.storage_key
    info = info or storage.head(key)
    if info is None:
        raise MediaError("Nothing was uploaded for this clip.")
    if info.size == 0:
        raise MediaError("The uploaded clip is empty.")
    if clip.upload_max_bytes and info.size > clip.upload_max_bytes:
        raise MediaError(f"The uploaded clip is {info.size} bytes, more than the {clip.upload_max_bytes} allowed.")
    expected_type = clip_content_type(clip)
    if info.content_type and info.content_type.split(";")[0].strip() != expected_type:
        raise MediaError(f"The uploaded clip is {info.content_type}, not {expected_type}.")
    try:
        with open_media(key, MP4_FORMATS) as source:  # MP4 and nothing else
            media = probe(source)
    except MediaError as exc:
        raise MediaError(f"The uploaded clip cannot be played: {exc}.") from None
    if expected_type == "video/mp4" and not media.has_video:
        raise MediaError("The uploaded clip has no video.")
    wanted = clip.end_seconds - clip.start_seconds
    if abs(media.duration_seconds - wanted) > DURATION_TOLERANCE:
        raise MediaError(f"The uploaded clip lasts {media.duration_seconds:.1f} s, "
                         f"but {wanted:.1f} s were asked for.")
    return info.size, media


# --- reading and deleting ------------------------------------------------------------------

def clip_title(clip, recording):
    return clip.title or default_title(recording, clip.start_seconds, clip.end_seconds)


def clip_filename(clip, recording):
    """The clip's title as a file name: "Weekly sync 13.42–14.42.mp4" (a colon is no file name's)."""
    stem = safe_filename(clip_title(clip, recording).replace(":", "."), fallback=clip.source_type)
    return f"{stem}.{clip.storage_key.rsplit('.', 1)[1]}"


def clip_media_location(clip, recording, disposition, ttl=None):
    if clip.status != ClipStatus.READY:
        raise ApiError(409, "not_ready", f"This clip is {clip.status}, not ready yet.")
    return locate(clip.storage_key, clip_filename(clip, recording), clip_content_type(clip), disposition, ttl,
                  what="clip's file")


def may_manage(user, clip, recording):
    """Rename or delete: its creator, the recording's owner, or a super admin."""
    return user.is_super_admin or clip.user_id == user.id or recording.owner_id == user.id


def _check_manage(user, clip, recording, action):
    if not may_manage(user, clip, recording):
        raise ApiError(403, "not_your_clip", f"Only the clip's creator, the recording's owner or a super admin "
                                             f"can {action} this clip.")


def rename_clip(user, clip, recording, title):
    _check_manage(user, clip, recording, "rename")
    clip.title = parse_title(title) or default_title(recording, clip.start_seconds, clip.end_seconds)
    db.session.commit()
    return clip


def delete_clip(user, clip, recording):
    _check_manage(user, clip, recording, "delete")
    storage = get_storage()
    upload_key = clip.storage_key.replace("-ready.", ".")
    for key in {clip.storage_key, upload_key}:  # a still-valid upload policy may have put a file back
        storage.delete(key)
    posters.delete_poster(clip)
    db.session.delete(clip)
    db.session.commit()


def serialize_clip(clip):
    links = {"self": url_for("clips.get_clip", clip_id=clip.id),
             "complete": url_for("clips.complete", clip_id=clip.id)}
    if clip.status == ClipStatus.READY:
        links["download"] = url_for("clips.download", clip_id=clip.id)
        links["play"] = url_for("clips.play", clip_id=clip.id)
    return {
        "id": clip.id, "type": clip.source_type, "recording_id": clip.source_id, "media_kind": clip.media_kind,
        "title": clip.title,
        "start_seconds": clip.start_seconds, "end_seconds": clip.end_seconds,
        "mode": clip.mode, "precise": clip.precise, "status": clip.status, "step": clip.step,
        "size_bytes": clip.size_bytes, "duration_seconds": clip.duration_seconds, "error": clip.error,
        "created_at": clip.created_at.isoformat(), "links": links,
    }
