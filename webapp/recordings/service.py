"""Recordings: the scope rule, listing, where their media lives, and adding them."""
import base64
import binascii
import json
import uuid
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from flask import current_app, url_for
from sqlalchemy import and_, false, or_, select

from webapp.auth.models import User
from webapp.auth.service import find_user_by_email
from webapp.errors import ApiError, not_found
from webapp.extensions import db
from webapp import delivery
from webapp.delivery import open_media
from webapp.media import MediaError, MediaSource, probe
from webapp.recordings.models import RECORDING_MODELS
from webapp.storage import get_storage
from webapp.storage.disposition import safe_filename

RECORDING_TYPES = tuple(RECORDING_MODELS)
MAX_ID = 2**31 - 1  # ids are INTEGER columns: PostgreSQL refuses to even compare a larger number
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


def visible_recordings(user, source_type):
    """The one query every read of a recording goes through (scope rule).

    Super admins see every meet and voice recording, members only their own meet
    recordings, and rows of a product outside ALLOWED_PRODUCTS exist for nobody.
    """
    model = RECORDING_MODELS[source_type]
    query = select(model).where(model.product.in_(current_app.config["ALLOWED_PRODUCTS"]))
    if user is None or not user.is_authenticated:
        return query.where(false())
    if user.is_super_admin:
        return query  # failed recordings (an Egress that failed) included
    if source_type != "meet":
        return query.where(false())
    return query.where(model.owner_id == user.id, model.failure.is_(None))


def parse_type(value):
    """`meet` or `voice`; ApiError(400) otherwise."""
    if value not in RECORDING_TYPES:
        raise ApiError(400, "invalid_type", "type must be meet or voice.")
    return value


def parse_id(value, name="id"):
    """A positive integer id; ApiError(400) otherwise."""
    message = f"{name} must be an integer from 1 to {MAX_ID}."
    if isinstance(value, bool):
        raise ApiError(400, f"invalid_{name}", message)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        number = int(value)
    else:
        raise ApiError(400, f"invalid_{name}", message)
    if not 0 < number <= MAX_ID:
        raise ApiError(400, f"invalid_{name}", message)
    return number


def get_visible_recording(user, source_type, recording_id):
    """The recording if the user may see it; ApiError(404) otherwise, missing or not."""
    model = RECORDING_MODELS[source_type]
    recording = db.session.scalar(visible_recordings(user, source_type).where(model.id == recording_id))
    if recording is None:
        raise not_found("recording")
    return recording


# --- listing -----------------------------------------------------------------

def parse_limit(value):
    if value is None:  # absent; an empty limit= is as bad as any other non-number
        return DEFAULT_PAGE_SIZE
    # isascii and the length first: "²" is a digit to str.isdigit, and int() of 5000 digits raises.
    if not (isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 6
            and 1 <= int(value) <= MAX_PAGE_SIZE):
        raise ApiError(400, "invalid_limit", f"limit must be an integer from 1 to {MAX_PAGE_SIZE}.")
    return int(value)


def _encode_cursor(recording):
    raw = json.dumps([recording.created_at.isoformat(), recording.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor):
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_iso, recording_id = json.loads(raw)
        created_at = datetime.fromisoformat(created_iso)
        if (created_at.tzinfo is None or not isinstance(recording_id, int) or isinstance(recording_id, bool)
                or not 0 < recording_id <= MAX_ID):
            raise ValueError
        return created_at.astimezone(timezone.utc), recording_id
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(400, "invalid_cursor", "cursor is not one this API gave out.") from None


MAX_QUERY = 100


def parse_query(value):
    """The title search (`q`): None for no search; words of at most 100 characters in all."""
    if value is None or not value.strip():
        return None
    if len(value) > MAX_QUERY:
        raise ApiError(400, "invalid_q", f"q is at most {MAX_QUERY} characters.")
    return " ".join(value.split())


def _title_matches(model, text):
    """Every word of the search appears in the title (or, untitled, the room name or caller); any case."""
    name = model.room_name if model is RECORDING_MODELS["meet"] else model.caller
    conditions = []
    for word in text.split():
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(or_(model.title.ilike(pattern, escape="\\"),
                               and_(model.title == "", name.ilike(pattern, escape="\\"))))
    return and_(*conditions)


def list_recordings(user, source_type, limit=DEFAULT_PAGE_SIZE, cursor=None, q=None):
    """One page, newest first, with the owner loaded in the same query; (rows, next_cursor)."""
    model = RECORDING_MODELS[source_type]
    query = (visible_recordings(user, source_type)
             .add_columns(User.email)
             .outerjoin(User, model.owner_id == User.id)
             .order_by(model.created_at.desc(), model.id.desc())
             .limit(limit + 1))
    if q:
        query = query.where(_title_matches(model, q))
    if cursor:
        created_at, last_id = _decode_cursor(cursor)
        query = query.where(or_(model.created_at < created_at,
                                and_(model.created_at == created_at, model.id < last_id)))
    rows = db.session.execute(query).all()
    page = rows[:limit]
    next_cursor = _encode_cursor(page[-1][0]) if len(rows) > limit else None
    return [(recording, email) for recording, email in page], next_cursor


def _title_candidates(recording):
    if recording.source_type == "meet":
        return recording.title, recording.room_name, f"Meet recording {recording.id}"
    return recording.title, recording.caller, f"Voice call {recording.id}"


def title_of(recording):
    """The title, else the room name (or caller), else a name made from the id."""
    return next(title for title in _title_candidates(recording) if title and title.strip())


AUDIO_EXTENSIONS = {"m4a", "mp3", "ogg", "wav"}


def media_kind_of(recording):
    """video or audio: what probing found, else (not probed yet) what its type and file name suggest."""
    if recording.media_kind:
        return recording.media_kind
    if recording.source_type == "voice" or _extension(recording.recording_url, recording.source_type) in AUDIO_EXTENSIONS:
        return "audio"
    return "video"


def serialize_recording(recording, owner_email=None):
    ref = {"type": recording.source_type, "id": recording.id}
    return {
        "id": recording.id,
        "type": recording.source_type,
        "media_kind": media_kind_of(recording),
        "title": title_of(recording),
        "failure": recording.failure,
        "product": recording.product,
        "owner": owner_email,
        "created_at": recording.created_at.isoformat(),
        "duration_seconds": recording.duration_seconds,
        "size_bytes": recording.size_bytes,
        "links": {
            "download": url_for("recordings.download", **ref),
            "play": url_for("recordings.play", **ref),
            "timeline": url_for("recordings.timeline_data", **ref),
            "owner": url_for("recordings.assign", **ref),
            **({"poster": url_for("recordings.poster", **ref)} if recording.poster_status == "ready" else {}),
        },
    }


# --- where the media is --------------------------------------------------------

# The only types recordings are served with, by file extension (never what a file or upstream claims).
MEDIA_TYPES = {"mp4": "video/mp4", "m4a": "audio/mp4", "webm": "video/webm", "ogg": "audio/ogg", "mp3": "audio/mpeg",
               "mov": "video/quicktime", "wav": "audio/wav", "mkv": "video/x-matroska"}


def _extension(recording_url, source_type):
    path = urlsplit(recording_url).path if "://" in recording_url else recording_url
    suffix = PurePosixPath(path).suffix.lower().lstrip(".")
    if suffix in MEDIA_TYPES:
        return suffix
    return "mp4" if source_type == "meet" else "m4a"


def container_of(recording):
    """The file's format by its extension (mp4, m4a, mov, webm, …): the browser reads MP4s by ranges."""
    return _extension(recording.recording_url, recording.source_type)


def download_filename(recording):
    """`<title or room>-<YYYY-MM-DD>.<ext>`, safe to put in a header."""
    # A title made only of characters a filename cannot hold falls back like an empty one.
    stem = next(stem for stem in (safe_filename(title, fallback="") for title in _title_candidates(recording)) if stem)
    return f"{stem}-{recording.created_at:%Y-%m-%d}.{_extension(recording.recording_url, recording.source_type)}"


def media_location(recording, disposition, ttl=None):
    """Where the recording's bytes come from, for a download (attachment) or a player (inline)."""
    check_playable(recording)
    filename = download_filename(recording)
    content_type = MEDIA_TYPES[filename.rsplit(".", 1)[1]]
    key = get_storage().key_for_url(recording.recording_url)
    if key is None:
        return delivery.external(recording.recording_url, filename, content_type, disposition)
    return delivery.locate(key, filename, content_type, disposition, ttl, what="recording's file")


def browser_source_url(recording):
    """Where the browser fetches the source to trim it: presigned, or our same-origin proxy."""
    location = media_location(recording, "inline")
    return location.redirect_url or url_for("recordings.play", type=recording.source_type, id=recording.id)


def check_playable(recording):
    """ApiError(409) for a recording whose Egress failed: there is nothing to play, clip or share."""
    if recording.failure:
        raise ApiError(409, "recording_failed", recording.failure)


def check_clippable(recording):
    """An external recording must be a plain MP4, M4A or WebM file (ApiError 422 otherwise)."""
    check_playable(recording)
    if get_storage().key_for_url(recording.recording_url) is None:
        delivery.check_external_source(recording.recording_url)


def assign_owner(recording, email):
    """Give a recording to the person with that email (None or "": to nobody); the owner, or ApiError(400)."""
    owner = None
    if email is not None and email != "":
        if not isinstance(email, str) or not email.strip():
            raise ApiError(400, "invalid_owner", "owner must be an email address or null.")
        owner = find_user_by_email(email)
        if owner is None:
            raise ApiError(400, "unknown_owner", f"No user with the email {email.strip()}.")
    recording.owner_id = owner.id if owner else None
    db.session.commit()
    return owner


# --- adding ---------------------------------------------------------------------

def add_recording(*, source_type, product, owner_email, title, file=None, key=None, url=None, created_at=None):
    """Register a recording from a local file (copied into storage), a bucket key or an external URL."""
    source_type = parse_type(source_type)
    if sum(x is not None for x in (file, key, url)) != 1:
        raise ApiError(400, "invalid_source", "Give exactly one of file, key or url.")
    owner = None
    if owner_email:
        owner = find_user_by_email(owner_email)
        if owner is None:
            raise ApiError(400, "unknown_owner", f"No user with the email {owner_email}.")
    storage = get_storage()
    size = copied_key = None
    if file is not None:
        path = Path(file)
        if not path.is_file():
            raise ApiError(400, "missing_file", f"{file} is not a file.")
        info = _probe_recording(lambda: nullcontext(MediaSource(str(path))))
        size = path.stat().st_size
        ext = path.suffix.lower() or (".mp4" if source_type == "meet" else ".m4a")
        recording_url = f"recordings/{source_type}/{uuid.uuid4().hex}{ext}"
        with path.open("rb") as fh:
            storage.put(recording_url, fh, content_type=MEDIA_TYPES.get(ext.lstrip("."), "application/octet-stream"))
        copied_key = recording_url
    elif key is not None:
        info = storage.head(key)
        if info is None:
            raise ApiError(400, "missing_object", f"No object {key} in storage.")
        recording_url, size = key, info.size
        info = _probe_recording(lambda: open_media(key))
    else:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ApiError(400, "invalid_url", "url must be http or https.")
        recording_url = url
        info = _probe_recording(lambda: open_media(url), required=False)
    model = RECORDING_MODELS[source_type]
    recording = model(product=product.strip().lower(), title=title or "", recording_url=recording_url,
                      duration_seconds=round(info.duration_seconds, 3) if info else None, size_bytes=size,
                      media_kind=("video" if info.has_video else "audio") if info else None,
                      width=info.width if info else None, height=info.height if info else None,
                      owner_id=owner.id if owner else None)
    if created_at is not None:
        recording.created_at = created_at
    db.session.add(recording)
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        if copied_key:
            storage.delete(copied_key)  # no orphan object without its row
        raise
    return recording


def _probe_recording(open_source, required=True):
    """MediaInfo of what open_source() opens; ApiError(400) when it is not media we take (None if not required)."""
    try:
        with open_source() as source:
            return probe(source)
    except MediaError as exc:
        if required:
            raise ApiError(400, "not_media", f"That recording cannot be read: {exc}.") from None
        current_app.logger.warning("could not probe a new recording: %s", exc)
        return None


def backfill_media(batch=100):
    """Probe the recordings that do not know their media kind yet (rows older than probing, webhook rows
    whose poster job has not run); {"probed": n, "unreadable": m}. Unreadable rows keep the guess."""
    counts = {"probed": 0, "unreadable": 0}
    for model in RECORDING_MODELS.values():
        last_id = 0
        while rows := db.session.scalars(select(model).where(model.media_kind.is_(None), model.id > last_id)
                                         .order_by(model.id).limit(batch)).all():
            for recording in rows:
                last_id = recording.id
                try:
                    with open_media(recording.recording_url) as source:
                        info = probe(source)
                except MediaError as exc:
                    current_app.logger.warning("%s %s cannot be probed: %s", recording.source_type, recording.id, exc)
                    counts["unreadable"] += 1
                    continue
                recording.media_kind = "video" if info.has_video else "audio"
                recording.width, recording.height = info.width, info.height
                recording.duration_seconds = recording.duration_seconds or round(info.duration_seconds, 3)
                db.session.commit()
                counts["probed"] += 1
    return counts
