"""Plain factory functions with overridable defaults; call them inside the app context."""
import itertools
import mimetypes
import uuid
from datetime import timedelta

from webapp.auth.models import User
from webapp.extensions import db
from webapp.media import MediaError, probe
from webapp.recordings.models import MeetRoom, VoiceCall
from webapp.storage import get_storage
from webapp.timeutil import utcnow

from tests.conftest import PASSWORD

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


def _picture_size(path):
    """(width, height) as registering the file would learn them; (None, None) for audio or junk."""
    try:
        info = probe(path)
    except MediaError:
        return None, None
    return info.width, info.height


def make_recording(source_type="meet", owner=None, product="m10", title=None, file=None, key=None, url=None,
                   duration_seconds=20.0, size_bytes=None, created_at=None, room_name=""):
    """A meet room or voice call row; `file` is copied into storage under a fresh key."""
    width = height = None
    if file is not None:
        width, height = _picture_size(file)
        key = key or f"recordings/{source_type}/{uuid.uuid4().hex}{file.suffix}"
        with open(file, "rb") as fh:
            get_storage().put(key, fh, content_type=mimetypes.guess_type(str(file))[0] or "video/mp4")
        size_bytes = size_bytes if size_bytes is not None else file.stat().st_size
    recording_url = url or key or f"recordings/{source_type}/{uuid.uuid4().hex}.mp4"
    model = MeetRoom if source_type == "meet" else VoiceCall
    recording = model(product=product, title=title if title is not None else f"Recording {next(_counter)}",
                      recording_url=recording_url, duration_seconds=duration_seconds, size_bytes=size_bytes,
                      width=width, height=height,
                      owner_id=owner.id if owner else None,
                      created_at=created_at or utcnow() - timedelta(minutes=next(_counter)))
    if source_type == "meet":
        recording.room_name = room_name
    db.session.add(recording)
    db.session.commit()
    return recording
