"""Plain factory functions with overridable defaults; call them inside the app context."""
import io
import itertools
import mimetypes
import os
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from webapp.auth.models import User
from webapp.clips.models import RecordingClip
from webapp.extensions import db
from webapp.media import MediaError, probe, run_ffmpeg
from webapp.recordings.models import MeetRoom, VoiceCall
from webapp.recordings.service import media_kind_of
from webapp.storage import get_storage
from webapp.timeutil import utcnow


PASSWORD = "correct horse battery"
_counter = itertools.count(1)
_hash_cache = {}


def make_user(email=None, password=PASSWORD, super_admin=False):
    from webapp.auth.service import hash_password
    if password not in _hash_cache:
        _hash_cache[password] = hash_password(password)
    user = User(email=email or f"user{next(_counter)}@example.com", password_hash=_hash_cache[password],
                is_super_admin=super_admin)
    db.session.add(user)
    db.session.commit()
    return user


def _probed(path):
    """(media kind, width, height) as registering the file would learn them; all None for junk."""
    try:
        info = probe(path)
    except MediaError:
        return None, None, None
    return "video" if info.has_video else "audio", info.width, info.height


def make_recording(source_type="meet", owner=None, product="m10", title=None, file=None, key=None, url=None,
                   duration_seconds=20.0, size_bytes=None, created_at=None, room_name=""):
    """A meet room or voice call row; `file` is copied into storage under a fresh key."""
    media_kind = width = height = None
    if file is not None:
        media_kind, width, height = _probed(file)
        key = key or f"recordings/{source_type}/{uuid.uuid4().hex}{file.suffix}"
        with open(file, "rb") as fh:
            get_storage().put(key, fh, content_type=mimetypes.guess_type(str(file))[0] or "video/mp4")
        size_bytes = size_bytes if size_bytes is not None else file.stat().st_size
    recording_url = url or key or f"recordings/{source_type}/{uuid.uuid4().hex}.mp4"
    model = MeetRoom if source_type == "meet" else VoiceCall
    recording = model(product=product, title=title if title is not None else f"Recording {next(_counter)}",
                      recording_url=recording_url, duration_seconds=duration_seconds, size_bytes=size_bytes,
                      media_kind=media_kind, width=width, height=height,
                      owner_id=owner.id if owner else None,
                      created_at=created_at or utcnow() - timedelta(minutes=next(_counter)))
    if source_type == "meet":
        recording.room_name = room_name
    db.session.add(recording)
    db.session.commit()
    return recording


def put_object(key, age_seconds=0, data=b"\0" * 1024, content_type="video/mp4"):
    """A small object under key; on the local backend its mtime is set `age_seconds` back."""
    storage = get_storage()
    storage.put(key, io.BytesIO(data), content_type=content_type)
    if age_seconds:
        path = storage.local_path(key)
        assert path, "object ages can only be set on the local backend"
        then = time.time() - age_seconds
        os.utime(path, (then, then))
    return key


def make_clip(recording, status, age=timedelta(0), uploaded=True, user=None, mode="browser", start=1.0, end=5.0,
              **fields):
    """A clip row of the recording created `age` ago, with (uploaded=True) a small object at its storage key."""
    clip_id = uuid.uuid4().hex
    media_kind = fields.pop("media_kind", media_kind_of(recording))
    prefix = "clips/uploads/" if status == "awaiting_upload" else "clips/"  # where the app puts each
    clip = RecordingClip(id=clip_id, source_type=recording.source_type, source_id=recording.id,
                         recording_url=recording.recording_url, start_seconds=start, end_seconds=end, mode=mode,
                         status=status, media_kind=media_kind,
                         storage_key=f"{prefix}{clip_id}.{'m4a' if media_kind == 'audio' else 'mp4'}",
                         user_id=user.id if user else None, created_at=utcnow() - age, updated_at=utcnow() - age,
                         **fields)
    db.session.add(clip)
    db.session.commit()
    if uploaded:
        put_object(clip.storage_key)
    return clip


def make_ready_clip(recording, source, user=None, start=2, seconds=6):
    """A ready clip of the recording, with a real stream-copy cut of `source` in storage."""
    suffix = Path(source).suffix
    with tempfile.TemporaryDirectory(prefix="factory-clip-") as tmp:
        out = Path(tmp) / f"clip{suffix}"
        run_ffmpeg(["-ss", str(start), "-i", str(source), "-t", str(seconds), "-c", "copy",
                    "-movflags", "+faststart", str(out)])
        info = probe(str(out))
        clip = make_clip(recording, "ready", uploaded=False, user=user, start=start, end=start + seconds,
                         size_bytes=out.stat().st_size, duration_seconds=round(info.duration_seconds, 3),
                         width=info.width, height=info.height, media_kind="video" if info.has_video else "audio")
        clip.storage_key = f"clips/{clip.id}{suffix}"
        db.session.commit()
        with out.open("rb") as fh:
            get_storage().put(clip.storage_key, fh, content_type="video/mp4" if info.has_video else "audio/mp4")
    return clip


def make_share_link(user, thing, *, expires_in=None, allow_download=True, password=None, default=False):
    """A share link made by `user` for a recording or a clip; its token (only its hash is stored)."""
    from webapp.shares.service import create_share_link
    target_type, target_id = ("clip", thing.id) if isinstance(thing, RecordingClip) else (thing.source_type, thing.id)
    _link, token, _created = create_share_link(user, target_type, target_id, expires_in, allow_download, password,
                                               default)
    return token
